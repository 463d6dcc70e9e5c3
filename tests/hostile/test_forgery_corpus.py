"""The forgery corpus (scripts/forgery_corpus.py) through the real verification pipeline.

Every base first verifies ``valid`` under the same verifier and request context, so each
mutation's ``invalid`` is owed to the mutation. The demo bases run through the service's own
verifier (shipped demo registry, result cache on); the others through a verifier with the
service's formats and DID resolver and a test registry that accredits exactly the base
issuers. A sample of the demo mutations also goes over HTTP (``POST /v1/verify`` on
127.0.0.1): a 200 with ``invalid`` or a 4xx problem, never ``valid``, never a 5xx.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import sys
import time
from collections import Counter
from datetime import datetime
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from tests.conftest import ROOT, ClientFactory, make_settings
from tests.verify.support import EBSI_SCHEMAS, MemoryFetcher, StaticRegistry
from trustbridge.cache.memory import MemoryCache
from trustbridge.errors import TrustBridgeError
from trustbridge.services import Services, build_services
from trustbridge.status.fetcher import StatusListFetcher
from trustbridge.verify.pipeline import VerificationInput, Verifier
from trustbridge.verify.policy import Policy
from trustbridge.verify.schemas import SchemaStore
from trustbridge.verify.service import formats_for, resolver_for, verifier_of


def _load_generator() -> ModuleType:
    path = ROOT / "scripts" / "forgery_corpus.py"
    spec = importlib.util.spec_from_file_location("forgery_corpus", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["forgery_corpus"] = module
    spec.loader.exec_module(module)
    return module


fc = _load_generator()
EBSI = ROOT / "fixtures" / "ebsi" / "vectors"


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _policy(base: Any) -> Policy:
    if base.name.startswith(("ldp-", "sdjwt")):
        return Policy(check_schema=False)
    return Policy()


def _input(m: Any, policy: Policy) -> VerificationInput:
    return VerificationInput(**{m.kind_key: m.input}, nonce=m.nonce, audience=m.audience,
                             at=_at(m.base.at), policy=policy)


def _issuers(bases: list[Any]) -> list[str]:
    """The DIDs the test registry accredits: each base's issuer, nobody else."""
    out = []
    for path in (EBSI / f"{n}.json" for n in fc.EBSI_BASES):
        out.append(json.loads(path.read_text())["issuer_did"])
    keys = json.loads((ROOT / "fixtures" / "ldp" / "own" / "keys.json").read_text())
    out += [keys["issuer"], keys["ecdsa_issuer"]]
    out.append(fc.Keys().issuer.did)
    return out


def _fixture_verifier(services: Services, bases: list[Any]) -> Verifier:
    docs: dict[str, str] = {}
    for path in sorted(EBSI.glob("*.json")):
        v = json.loads(path.read_text())
        docs.update(v.get("offline_documents") or {})
        if v.get("status_list"):
            docs[v["status_list"]["url"]] = v["status_list"]["jwt"]
    cache = MemoryCache(max_entries=1000)
    return Verifier(
        formats=formats_for(services), resolver=resolver_for(services),
        registry=StaticRegistry(_issuers(bases)),
        status_lists=StatusListFetcher(MemoryFetcher(docs), cache, max_bytes=512 * 1024,
                                       default_ttl=60, max_ttl=600),
        schemas=SchemaStore(local_dir=EBSI_SCHEMAS, fetcher=None, cache=cache,
                            fetch_remote=False, max_bytes=256 * 1024, ttl=60),
    )


async def _verdict(verifier: Verifier, m: Any) -> str:
    policy = _policy(m.base)
    try:
        report = await verifier.verify(_input(m, policy))
    except TrustBridgeError as exc:  # an unusable request: the HTTP edge answers 4xx
        return f"refused:{exc.code}"
    return str(report.verdict)


@pytest.fixture
async def demo_services(tmp_path: Path) -> Any:
    svc = await build_services(make_settings(
        tmp_path, schema_store_dir=ROOT / "fixtures" / "ebsi" / "schemas",
        schema_fetch_remote=False))
    yield svc
    await svc.close()


async def test_forgery_corpus_nothing_accepted(demo_services: Services,
                                               hostile_stats: dict[str, dict[str, int]]) -> None:
    started = time.monotonic()
    mutations = fc.corpus()
    bases = fc.bases()
    verifiers = {"demo": verifier_of(demo_services),
                 "fixture": _fixture_verifier(demo_services, bases)}
    # 1. every base is valid as shipped, under the verifier and context its mutations get
    for base in bases:
        m = fc.Mutation("base", base.name, base, base.kind, base.input, base.nonce,
                        base.audience)
        assert await _verdict(verifiers[base.verifier], m) == "valid", base.name
    # 2. no mutation is
    outcomes: Counter[str] = Counter()
    accepted: list[str] = []
    not_invalid: list[str] = []
    for m in mutations:
        verdict = await _verdict(verifiers[m.base.verifier], m)
        outcomes[verdict.split(":")[0]] += 1
        if verdict == "valid":
            accepted.append(f"{m.category}: {m.name}")
        elif verdict != "invalid" and not verdict.startswith("refused:"):
            not_invalid.append(f"{m.category}: {m.name} -> {verdict}")
    elapsed = time.monotonic() - started
    hostile_stats["forgery corpus"] = {"mutations": len(mutations), "accepted": len(accepted),
                                       "invalid": outcomes["invalid"],
                                       "refused as unusable (4xx)": outcomes["refused"],
                                       "categories": len(fc.summary(mutations))}
    assert not accepted, "\n".join(accepted)
    assert not not_invalid, "\n".join(not_invalid)
    assert len(mutations) > 1000
    assert elapsed < 60, elapsed


def _http_sample(step: int = 7) -> list[Any]:
    demo = [m for m in fc.corpus() if m.base.verifier == "demo"]
    return demo[::step]


async def test_forgery_sample_over_http(make_client: ClientFactory,
                                        hostile_stats: dict[str, dict[str, int]]) -> None:
    client = await make_client(schema_store_dir=ROOT / "fixtures" / "ebsi" / "schemas",
                               schema_fetch_remote=False)
    base = fc.bases()[0]
    ok = await client.post("/v1/verify", json=fc.Mutation(
        "base", base.name, base, base.kind, base.input, base.nonce,
        base.audience).as_request())
    assert (await ok.json())["verdict"] == "valid"
    statuses: Counter[int] = Counter()
    sample = _http_sample()
    for m in sample:
        resp = await client.post("/v1/verify", json=m.as_request())
        statuses[resp.status] += 1
        body = await resp.json(content_type=None)
        if resp.status == 200:
            assert body["verdict"] == "invalid", (m.name, body["verdict"])
        else:
            assert 400 <= resp.status < 500, (m.name, resp.status, body)
            assert resp.content_type == "application/problem+json"
            assert "code" in body
    hostile_stats["forgery corpus over HTTP"] = {
        "requests": len(sample), "accepted": 0, "5xx": 0,
        "4xx": sum(n for s, n in statuses.items() if s != 200)}


async def test_duplicate_keys_in_request_body_refused(make_client: ClientFactory) -> None:
    """Two parsers picking different duplicates is the classic confusion: refuse, 4xx."""
    client = await make_client()
    base = fc.bases()[0]
    body = (f'{{"presentation": {json.dumps(base.input)}, "nonce": {json.dumps(base.nonce)}, '
            f'"nonce": "attacker", "audience": {json.dumps(base.audience)}}}')
    resp = await client.post("/v1/verify", data=body,
                             headers={"Content-Type": "application/json"})
    assert resp.status == 400 or resp.status == 422, resp.status
    assert (await resp.json(content_type=None))["code"]


async def test_logs_carry_no_credential_or_personal_data(
        make_client: ClientFactory, caplog: pytest.LogCaptureFixture) -> None:
    """Forged and valid inputs alike: no token, no name, no subject DID in any log line."""
    client = await make_client(schema_store_dir=ROOT / "fixtures" / "ebsi" / "schemas",
                               schema_fetch_remote=False)
    base = fc.bases()[0]
    forged = next(m for m in fc.corpus() if m.base is not base and m.category == "subject")
    with caplog.at_level(logging.DEBUG):
        for body in (fc.Mutation("base", base.name, base, base.kind, base.input, base.nonce,
                                 base.audience).as_request(), forged.as_request()):
            resp = await client.post("/v1/verify", json=body)
            assert resp.status == 200
    text = "\n".join(r.getMessage() + (r.exc_text or "") for r in caplog.records)
    assert '"verdict"' in text  # the access log line is there
    holder = fc.Keys().holder.did
    for secret in (str(base.input)[:40], str(base.input).split(".")[1][:40], "Ane", holder):
        assert secret not in text, secret
