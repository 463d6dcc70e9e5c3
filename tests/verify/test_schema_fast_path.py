"""The credentialSchema check's fast path (jsonschema-rs) may only say *valid* where the
reference validator (``jsonschema``) agrees: otherwise it would pass a credential the
check used to fail. Oracles: the JSON Schema Test Suite (draft 2020-12 and draft 7,
``fixtures/json-schema-test-suite/SOURCE.md``) and EBSI's attestation schema with mutated
credentials; the pipeline tests keep the reported verdicts and errors."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT7, DRAFT202012

from tests.conftest import FIXTURES
from tests.microcred.support import paths
from trustbridge.verify import checks

SUITE = FIXTURES / "json-schema-test-suite"
DRAFTS = {"draft2020-12": DRAFT202012, "draft7": DRAFT7}


def _remotes(draft: str) -> Registry[Any]:
    """The suite's remote documents, as served from http://localhost:1234/ (in memory)."""
    registry: Registry[Any] = Registry()
    for path in sorted((SUITE / "remotes").rglob("*.json")):
        rel = path.relative_to(SUITE / "remotes").as_posix()
        registry = registry.with_resource(
            f"http://localhost:1234/{rel}",
            Resource.from_contents(json.loads(path.read_text()),
                                   default_specification=DRAFTS[draft]))
    return registry


def _cases(draft: str) -> list[tuple[str, Any, Any, bool]]:
    out = []
    for path in sorted((SUITE / "tests" / draft).glob("*.json")):
        for group in json.loads(path.read_text()):
            for test in group["tests"]:
                out.append((f"{path.stem}: {group['description']}: {test['description']}",
                            group["schema"], test["data"], test["valid"]))
    return out


def _verdicts(schema: Any, data: Any, registry: Registry[Any]) -> tuple[bool, bool] | None:
    """(reference valid?, fast path sure it is valid?) or None when the check would not
    validate at all (a boolean or malformed schema)."""
    if not isinstance(schema, dict):
        return None
    prepared = checks._prepared_validator(schema, registry)
    if isinstance(prepared, str):
        return None
    reference, fast = prepared
    return reference.is_valid(data), checks.fast_accepts(fast, data)


@pytest.mark.parametrize("draft", sorted(DRAFTS))
def test_fast_path_never_accepts_what_the_reference_refuses(draft: str) -> None:
    registry = _remotes(draft)
    wrong, accepted, compared = [], 0, 0
    for name, schema, data, _ in _cases(draft):
        # The memo is keyed on object identity: fresh objects per case.
        verdicts = _verdicts(copy.deepcopy(schema), data, registry)
        if verdicts is None:
            continue
        compared += 1
        reference, fast = verdicts
        accepted += fast
        if fast and not reference:
            wrong.append(name)
    assert not wrong, wrong
    # Not vacuous: the fast path is built and used for most of the suite.
    assert compared > 800 and accepted > compared // 3, (compared, accepted)


def test_the_suite_expectations_hold_for_the_reference_validator() -> None:
    """The reference validator is the oracle above, so it must pass the suite itself
    (where a test is decided by formats, which are annotations here, it may differ)."""
    registry = _remotes("draft2020-12")
    failures = []
    for name, schema, data, valid in _cases("draft2020-12"):
        verdicts = _verdicts(copy.deepcopy(schema), data, registry)
        if verdicts is not None and verdicts[0] != valid and not name.startswith("format"):
            failures.append(name)
    assert len(failures) <= 5, failures


# EBSI's attestation schema as production loads it (registry/schemas, from @cef-ebsi's
# npm package) and the credential of EBSI's own ES256 vector, then mutated.
SCHEMAS = Path(__file__).resolve().parents[2] / "registry" / "schemas"
VECTOR = json.loads((FIXTURES / "ebsi" / "vectors" / "vc-es256-valid.json").read_text())


@pytest.fixture(scope="module")
def attestation() -> tuple[dict[str, Any], Registry[Any], dict[str, Any]]:
    import asyncio

    from trustbridge.cache.memory import MemoryCache
    from trustbridge.crypto.jws import parse_compact_jws
    from trustbridge.verify.schemas import SchemaStore

    store = SchemaStore(local_dir=SCHEMAS, fetcher=None, cache=MemoryCache(),
                        fetch_remote=False, max_bytes=1 << 20, ttl=60)
    credential = parse_compact_jws(VECTOR["input"]).payload_json()["vc"]
    schema, registry = asyncio.run(store.load(credential["credentialSchema"]["id"]))
    return schema, registry, credential


def test_ebsi_attestation_takes_the_fast_path(
        attestation: tuple[dict[str, Any], Registry[Any], dict[str, Any]]) -> None:
    schema, registry, credential = attestation
    assert _verdicts(schema, credential, registry) == (True, True)


_VALUES = st.one_of(st.none(), st.booleans(), st.integers(), st.text(max_size=8),
                    st.lists(st.integers(), max_size=2), st.dictionaries(
                        st.text(max_size=4), st.integers(), max_size=2))


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_mutated_attestations_agree_with_the_reference(
        attestation: tuple[dict[str, Any], Registry[Any], dict[str, Any]],
        data: st.DataObject) -> None:
    """Replace or delete 1-3 values anywhere in the credential: the fast path says valid
    only when ``jsonschema`` does."""
    schema, registry, credential = attestation
    mutated = copy.deepcopy(credential)
    for _ in range(data.draw(st.integers(1, 3))):
        found = paths(mutated)
        if not found:
            break
        path = data.draw(st.sampled_from(found))
        parent = mutated
        for step in path[:-1]:
            parent = parent[step]
        if isinstance(parent, dict) and data.draw(st.booleans()):
            del parent[path[-1]]
        else:
            parent[path[-1]] = data.draw(_VALUES)
    verdicts = _verdicts(schema, mutated, registry)
    assert verdicts is not None
    reference, fast = verdicts
    assert reference or not fast, mutated
