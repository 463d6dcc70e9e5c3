"""The hash chain and the signed head: pure, no I/O."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trustbridge.registry.changelog import (
    GENESIS_HASH,
    HEAD_TYP,
    ChainError,
    LogEntry,
    LogHead,
    canonical,
    chain_entries,
    check_head_against_cursor,
    continuing,
    verified_entries,
    verify_chain,
)
from trustbridge.registry.signed import NodeKey, parse_jws, verify_jws_by


def _log(n: int) -> list[LogEntry]:
    return chain_entries(0, GENESIS_HASH, (({"op": "revoke_issuer", "did": f"did:key:z{i}"},
                                           {"batch": "b" * 64, "index": i}) for i in range(n)))


def test_chain_verifies_and_returns_the_new_cursor() -> None:
    entries = _log(5)
    new = verify_chain(entries, after_seq=0, after_hash=GENESIS_HASH)
    assert new == (5, entries[-1].entry_hash)
    assert verify_chain(entries[2:], after_seq=2, after_hash=entries[1].entry_hash)[0] == 5


def _wire(entries: list[LogEntry]) -> list[LogEntry]:
    """The entries as a peer's page gives them: no JCS bytes yet."""
    return [LogEntry.from_json(e.to_json()) for e in entries]


def test_verified_entries_keep_their_jcs_and_continue_an_identical_log() -> None:
    entries = _log(4)
    pulled = verified_entries(_wire(entries), after_seq=0, after_hash=GENESIS_HASH)
    assert pulled == entries
    assert [e.change_jcs for e in pulled] == [canonical(e.change) for e in entries]
    items = [(e.change, {"batch": "b" * 64, "index": i}) for i, e in enumerate(entries)]
    assert continuing(pulled, 0, GENESIS_HASH, items) == pulled
    assert continuing(pulled[1:], 1, entries[0].entry_hash, items[1:]) == pulled[1:]


def test_entries_that_our_log_would_not_chain_are_not_reused() -> None:
    entries = _log(3)
    pulled = verified_entries(_wire(entries), after_seq=0, after_hash=GENESIS_HASH)
    items = [(e.change, {"batch": "b" * 64, "index": i}) for i, e in enumerate(entries)]
    assert continuing(pulled, 5, GENESIS_HASH, items) is None  # our log is elsewhere
    assert continuing(pulled, 0, "f" * 64, items) is None
    assert continuing(_wire(entries), 0, GENESIS_HASH, items) is None  # not hashed by us
    assert continuing(pulled, 0, GENESIS_HASH, items[:2]) is None
    other = [(c, {**o, "extra": 1}) for c, o in items]
    assert continuing(pulled, 0, GENESIS_HASH, other) is None
    # equal in Python, not in JSON: index false is another entry than index 0
    falsy = [(c, {"batch": "b" * 64, "index": False}) if i == 0 else (c, o)
             for i, (c, o) in enumerate(items)]
    assert continuing(pulled, 0, GENESIS_HASH, falsy) is None
    renamed = [({**c, "did": "did:key:zOther"}, o) if i == 2 else (c, o)
               for i, (c, o) in enumerate(items)]
    assert continuing(pulled, 0, GENESIS_HASH, renamed) is None


def test_tampered_change_is_detected() -> None:
    entries = _log(3)
    bad = LogEntry(2, {**entries[1].change, "did": "did:key:zEvil"}, entries[1].origin,
                   entries[1].prev_hash, entries[1].entry_hash)
    with pytest.raises(ChainError) as err:
        verify_chain([entries[0], bad, entries[2]], after_seq=0, after_hash=GENESIS_HASH)
    assert err.value.code == "log.entry_tampered" and err.value.seq == 2


def test_rehashed_tampering_breaks_the_next_link() -> None:
    entries = _log(3)
    forged = LogEntry.chained(2, {"op": "revoke_issuer", "did": "did:key:zEvil"},
                              entries[1].origin, entries[1].prev_hash)
    with pytest.raises(ChainError) as err:
        verify_chain([entries[0], forged, entries[2]], after_seq=0, after_hash=GENESIS_HASH)
    assert err.value.code == "log.fork" and err.value.seq == 3


def test_gap_and_fork_from_cursor() -> None:
    entries = _log(4)
    with pytest.raises(ChainError) as gap:
        verify_chain([entries[0], entries[2]], after_seq=0, after_hash=GENESIS_HASH)
    assert gap.value.code == "log.gap"
    with pytest.raises(ChainError) as fork:
        verify_chain(entries[2:], after_seq=2, after_hash="f" * 64)
    assert fork.value.code == "log.fork"


def test_head_behind_or_different_at_cursor_is_a_fork() -> None:
    at = datetime(2026, 1, 1, tzinfo=UTC)
    with pytest.raises(ChainError):
        check_head_against_cursor(LogHead(3, "a" * 64, "did:x", at), seq=4, digest="b" * 64)
    with pytest.raises(ChainError):
        check_head_against_cursor(LogHead(4, "a" * 64, "did:x", at), seq=4, digest="b" * 64)
    check_head_against_cursor(LogHead(4, "b" * 64, "did:x", at), seq=4, digest="b" * 64)
    check_head_against_cursor(LogHead(9, "a" * 64, "did:x", at), seq=4, digest="b" * 64)


def test_entry_round_trips_through_json() -> None:
    entry = _log(1)[0]
    assert LogEntry.from_json(entry.to_json()) == entry
    with pytest.raises(ChainError):
        LogEntry.from_json({"seq": "1"})


async def test_signed_head_verifies_with_the_node_did_key() -> None:
    key = NodeKey.generate()
    head = LogHead(7, "c" * 64, key.did, datetime(2026, 1, 1, tzinfo=UTC))
    token = key.sign(head.payload(), typ=HEAD_TYP)
    verified = await verify_jws_by(token, key.did, None)
    assert LogHead.from_payload(verified.payload) == head
    other = NodeKey.generate()
    _header, payload, _ = parse_jws(token)
    forged = other.sign(payload, typ=HEAD_TYP)
    with pytest.raises(Exception) as err:
        await verify_jws_by(forged, key.did, None)
    assert getattr(err.value, "code", "") == "jws.kid_mismatch"
    assert NodeKey.from_pem(key.to_pem()).did == key.did


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**60), max_value=2**60)
    | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20)


@given(json_values)
def test_canonical_is_rfc8785(value: object) -> None:
    import rfc8785

    try:
        expected = bytes(rfc8785.dumps(value))
    except Exception:  # JCS refuses it (lone surrogates): so must we
        with pytest.raises(Exception):  # noqa: B017
            canonical(value)
        return
    assert canonical(value) == expected


@given(json_values, json_values, st.text(max_size=70), st.integers(min_value=0, max_value=2**60))
def test_entry_hash_is_the_hash_of_the_jcs_of_the_whole_entry(
        change: object, origin: object, prev: str, seq: int) -> None:
    import hashlib

    import rfc8785

    change_d, origin_d = {"v": change}, {"o": origin}
    material = {"seq": seq, "change": change_d, "origin": origin_d, "prev": prev}
    try:
        expected = hashlib.sha256(bytes(rfc8785.dumps(material))).hexdigest()
    except Exception:  # JCS refuses it (lone surrogates): so must we
        with pytest.raises(Exception):  # noqa: B017
            LogEntry.chained(seq, change_d, origin_d, prev)
        return
    entry = LogEntry.chained(seq, change_d, origin_d, prev)
    assert entry.entry_hash == expected
    assert entry.change_jcs == bytes(rfc8785.dumps(change_d))
    assert LogEntry.from_json(entry.to_json()) == entry


@given(st.dictionaries(st.text(max_size=6), json_values | st.floats(allow_nan=False,
                                                                    allow_infinity=False),
                       max_size=4),
       st.text(max_size=70), st.integers(min_value=-(2**60), max_value=2**60))
def test_entry_hash_with_origins_jcs_must_escape_or_reformat(
        origin: dict[str, object], prev: str, seq: int) -> None:
    """Floats, non-ASCII keys and huge integers in the non-change members take the rfc8785
    path for all three at once; the hash is still the JCS of the whole entry (or refused)."""
    import hashlib

    import rfc8785

    change = {"op": "add_issuer", "did": "did:key:z6Mk"}
    material = {"seq": seq, "change": change, "origin": origin, "prev": prev}
    try:
        expected = hashlib.sha256(bytes(rfc8785.dumps(material))).hexdigest()
    except Exception:  # JCS refuses it: so must we
        with pytest.raises(Exception):  # noqa: B017
            LogEntry.chained(seq, change, origin, prev)
        return
    assert LogEntry.chained(seq, change, origin, prev).entry_hash == expected
