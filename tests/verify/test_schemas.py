"""The schema check against EBSI's own published schemas and examples (fixtures/ebsi/schemas)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.verify.support import EBSI_SCHEMAS
from trustbridge.cache.memory import MemoryCache
from trustbridge.formats.base import SchemaRef
from trustbridge.formats.ldp import LdpFormat
from trustbridge.verify.checks import check_schema
from trustbridge.verify.facts import SchemaFact
from trustbridge.verify.schemas import SchemaStore

ATTESTATION = EBSI_SCHEMAS / "vcdm1.1-attestation-schema"
TSR = "https://api-pilot.ebsi.eu/trusted-schemas-registry/v3/schemas/"
EXAMPLES = {p.stem: json.loads(p.read_text())
            for p in sorted((ATTESTATION / "examples").glob("*.json"))}
FIRST = next(iter(EXAMPLES.values()))


def store() -> SchemaStore:
    return SchemaStore(local_dir=EBSI_SCHEMAS, fetcher=None, cache=MemoryCache(),
                       fetch_remote=False, max_bytes=1 << 20, ttl=60)


async def _check(credential: dict[str, Any], schema_id: str) -> Any:
    credential = {**credential, "credentialSchema": {"id": schema_id,
                                                     "type": "FullJsonSchemaValidator2021"}}
    pc = LdpFormat().parse_credential(credential)
    schema, registry = await store().load(schema_id)
    return check_schema(pc, [SchemaFact(ref=pc.schemas[0], schema=schema, registry=registry)],
                        enabled=True)


@pytest.mark.parametrize("name", EXAMPLES)
async def test_ebsi_examples_validate(name: str) -> None:
    credential = EXAMPLES[name]
    result = await _check(credential, TSR + "zDpWGUBenmqXzurskry9Nsk6vq2R8thh9VSeoRqguoyMD")
    assert result.code == "schema.ok", result.details


async def test_base16_tsr_id_and_missing_issuer() -> None:
    credential = json.loads(json.dumps(FIRST))
    del credential["issuer"]
    base16 = "0xbe77a21356835dc09d3d8149ea832ae0a4bae0ae9c869d18219ef8f4a74b4644"
    result = await _check(credential, TSR.replace("/v3/", "/v2/") + base16)
    assert result.code == "schema.invalid"
    assert any("issuer" in e["message"] for e in result.details["errors"])


async def test_relative_ref_between_ebsi_packages_resolves_locally() -> None:
    """The status-list schema $refs ./node_modules/@cef-ebsi/…attestation…: resolved locally."""
    credential = json.loads(json.dumps(FIRST))
    del credential["credentialSubject"]
    result = await _check(credential, TSR + "z7DmpwC9doRxZrtQ9PBjz8qQgGWqojkGExELnrw1x8qdi")
    assert result.code == "schema.invalid"


def test_unknown_schema_type_fails() -> None:
    pc = LdpFormat().parse_credential({"@context": [], "credentialSchema": {
        "id": "https://x.test/s.json", "type": "ShaclValidator2017"}})
    result = check_schema(pc, [SchemaFact(ref=SchemaRef("https://x.test/s.json",
                                                        "ShaclValidator2017"))], enabled=True)
    assert result.code == "schema.type_unsupported"
