"""A push serialises each change once: its text in the content digest is reused as the
log's JCS of the change where that is certain (``batch.content_digest_parts``,
``changelog.known_jcs``). Differential: same digests, same JCS bytes, same entry hashes as
serialising again."""

from __future__ import annotations

from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from trustbridge.registry.batch import (
    AttributeIn,
    Change,
    content_digest,
    content_digest_parts,
    parse_batch_payload,
)
from trustbridge.registry.changelog import (
    SORTED_COMPACT,
    canonical,
    chain_entries,
    known_jcs,
)
from trustbridge.registry.sync import VerifiedBatch

_keys = st.one_of(st.text(max_size=6), st.sampled_from(["a", "b", "\ue000", "\U0001f600"]))
_leaves = st.one_of(st.none(), st.booleans(), st.integers(-(2**60), 2**60),
                    st.floats(), st.text(max_size=8))
_json = st.recursive(_leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(_keys, inner, max_size=4)), max_leaves=12)


@settings(max_examples=400)
@given(st.dictionaries(_keys, _json, max_size=4), st.lists(_json, max_size=5))
def test_digest_from_the_changes_texts_is_the_content_digest(extra: dict[str, Any],
                                                              changes: list[Any]) -> None:
    payload = {**extra, "changes": changes}
    digest, texts = content_digest_parts(payload)
    assert digest == content_digest(payload)
    assert texts == [SORTED_COMPACT(c) for c in changes]


def test_payloads_it_does_not_compose_get_the_plain_digest() -> None:
    for payload in ({"changes": ({"op": "x"},)}, {"changes": "x"}, {"registry": "did:x:y"}):
        assert content_digest_parts(payload) == (content_digest(payload), None)


def _variants(value: Any) -> list[Any]:
    """``value`` and JSON that is equal in Python but not the same JSON (other types)."""
    out = [value]
    if type(value) is int:
        out += [float(value)] + ([bool(value)] if value in (0, 1) else [])
    if type(value) is bool:
        out.append(int(value))
    if type(value) is dict:
        for key, member in value.items():
            out += [{**value, key: v} for v in _variants(member)[1:]]
    if type(value) is list:
        for i, member in enumerate(value):
            out += [[*value[:i], v, *value[i + 1:]] for v in _variants(member)[1:]]
    return out


@settings(max_examples=400)
@given(_json)
def test_known_jcs_is_the_jcs_or_nothing(value: Any) -> None:
    try:
        expected: bytes | None = canonical(value)
    except Exception:  # JCS refuses it (a lone surrogate): no shortcut may give bytes
        expected = None
    for raw in _variants(value):
        got = known_jcs(value, raw, SORTED_COMPACT(raw))
        assert got is None or got == expected, (value, raw)


def test_known_jcs_refuses_what_sorted_json_gets_wrong() -> None:
    # same types, but sorted compact JSON is not JCS: numbers, non-ASCII key order
    for value in ({"n": 1e16}, {"\ue000": 1, "\U0001f600": 2}):
        assert SORTED_COMPACT(value).encode() != canonical(value)
        assert known_jcs(value, value, SORTED_COMPACT(value)) is None
    # equal in Python, other JSON
    for value, raw in (({"a": 1}, {"a": True}), ({"a": 1}, {"a": 1.0}),
                       ({"a": "x"}, {"a": "x", "b": None})):
        assert known_jcs(value, raw, SORTED_COMPACT(raw)) is None
    assert known_jcs("\ud800", "\ud800", SORTED_COMPACT("\ud800")) is None
    change = {"op": "add_issuer", "did": "did:key:z1", "attribute": {"jwt": "a.b.c"}}
    assert known_jcs(change, dict(reversed(change.items())),
                     SORTED_COMPACT(change)) == canonical(change)


def test_a_batch_logs_the_same_entries_with_and_without_the_texts() -> None:
    jwt = "eyJhbGciOiJFZERTQSJ9.eyJzdWIiOiJkaWQ6a2V5OnoxIn0.c2ln"
    attribute = {"jwt": jwt, "issuerType": "TI", "tao": "did:key:zT", "rootTao": "did:key:zR"}
    raw_changes: list[dict[str, Any]] = [
        {"op": "add_issuer", "did": "did:key:z1", "attribute": attribute},
        {"attribute": dict(reversed(attribute.items())), "did": "did:key:z2", "op": "add_issuer"},
        # the model's JSON differs from what was sent: serialised again
        {"op": "add_issuer", "did": "did:key:z3", "attribute": {**attribute, "tao": None}},
        {"op": "add_issuer", "did": "did:key:z4",
         "attribute": {"jwt": jwt, "issuer_type": "TI", "tao": "did:key:zT"}},
        {"op": "revoke_issuer", "did": "did:key:z5", "attribute_id": None},
        {"op": "revoke_issuer", "did": "did:key:z6"},
    ]
    raw = {"registry": "did:key:zR", "sequence": 3, "issued_at": "2026-05-01T10:00:00Z",
           "changes": raw_changes}
    payload = parse_batch_payload(raw)
    content, texts = content_digest_parts(raw)
    assert content == content_digest(raw)
    unit = VerifiedBatch("jws", payload, "d" * 64, content, raw_changes=raw_changes, texts=texts)
    jsons = [c.to_json() for c in payload.changes]
    jcs = unit.change_jcs(jsons)
    assert jcs is not None
    assert [j is not None for j in jcs] == [True, True, False, False, False, True]
    assert all(j is None or j == canonical(v) for j, v in zip(jcs, jsons, strict=True))
    items = [(j, unit.origin(i)) for i, j in enumerate(jsons)]
    with_texts = chain_entries(7, "e" * 64, items, jcs)
    without = chain_entries(7, "e" * 64, items)
    assert [(e.entry_hash, e.change_jcs) for e in with_texts] == \
        [(e.entry_hash, e.change_jcs) for e in without]


_did = st.from_regex(r"did:[a-z0-9]{1,5}:[a-zA-Z0-9.%-]{4,12}", fullmatch=True)
_text = st.text(max_size=12)


@settings(max_examples=400)
@given(st.sampled_from(["add_issuer", "update_issuer", "add_attribute", "revoke_attribute",
                        "revoke_issuer"]), _did,
       st.none() | st.fixed_dictionaries(
           {"jwt": st.text(min_size=10, max_size=40),
            "issuerType": st.sampled_from(["RootTAO", "TAO", "TI", "Revoked"])},
           optional={"tao": st.none() | _text, "rootTao": st.none() | _text}),
       st.none() | _text, st.booleans())
def test_change_to_json_is_the_models_dump(op: str, did: str, attribute: dict[str, Any] | None,
                                           attribute_id: str | None, by_name: bool) -> None:
    data: dict[str, Any] = {"op": op, "did": did, "attribute": attribute,
                            "attribute_id": attribute_id}
    if attribute is not None and by_name:  # populate_by_name: field names are accepted too
        data["attribute"] = {{"issuerType": "issuer_type", "rootTao": "root_tao"}.get(k, k): v
                             for k, v in attribute.items()}
    change = Change.model_validate({k: v for k, v in data.items() if v is not None or by_name})
    dumped = change.model_dump(by_alias=True, exclude_none=True, mode="json")
    assert change.to_json() == dumped
    assert list(change.to_json()) == list(dumped)
    if change.attribute is not None:
        assert list(change.to_json()["attribute"]) == list(dumped["attribute"])


def test_change_fields_are_the_ones_to_json_writes() -> None:
    """A field added to ``Change`` or ``AttributeIn`` must be added to ``to_json`` too."""
    assert list(Change.model_fields) == ["op", "did", "attribute", "attribute_id"]
    assert [f.alias or name for name, f in AttributeIn.model_fields.items()] == [
        "jwt", "issuerType", "tao", "rootTao"]
    assert Change.model_config.get("extra") == AttributeIn.model_config.get("extra") == "forbid"
