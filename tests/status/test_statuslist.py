"""Status lists: decoding against the W3C spec example and EBSI's list, per-entry checks, limits."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from trustbridge.formats.base import status_entries_of
from trustbridge.status.bitstring import (
    StatusListError,
    decode_bitstring,
    encode_bitstring,
    set_status,
    status_value,
)
from trustbridge.status.statuslist import check_status_entry, parse_status_list

ROOT = Path(__file__).resolve().parents[2]
W3C = ROOT / "fixtures" / "w3c" / "bitstring-status-list"
EBSI = ROOT / "fixtures" / "ebsi" / "vectors"
AT = datetime(2026, 6, 1, tzinfo=UTC)


def _json(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_w3c_example_decodes_to_16k_all_clear() -> None:
    example = _json(W3C / "encoded-list-all-clear.json")
    bits = decode_bitstring(example["encodedList"])
    assert len(bits) == example["decoded_bytes"] and not any(bits)
    assert decode_bitstring(example["statuslist2021_form"]) == bits  # no multibase prefix


def test_w3c_revocable_vc_against_w3c_list_passes() -> None:
    vc = _json(W3C / "revocable-vc.json")
    status_list = parse_status_list(_json(W3C / "status-list-credential-all-clear.json"),
                                    url="https://example.com/credentials/status/3")
    (entry,) = status_entries_of(vc)
    assert entry.index == 94567
    result = check_status_entry(entry, status_list, credential_issuer="did:example:12345", at=AT)
    assert result.status == "passed" and result.details["value"] == 0


def test_ebsi_list_standard_alphabet_bit_42() -> None:
    """EBSI's library emits the standard base64 alphabet; index 42 is the set bit (MSB first)."""
    vector = _json(EBSI / "vc-status-revoked.json")["status_list"]
    bits = decode_bitstring(vector["encoded_list"])
    assert len(bits) == vector["bitstring_bytes"]
    assert [i for i in range(len(bits) * 8) if status_value(bits, i)] == vector["set_indices"]


def test_roundtrip_and_multi_bit_status() -> None:
    bits = bytearray(16)
    set_status(bits, 3, 0b10, status_size=2)
    decoded = decode_bitstring(encode_bitstring(bytes(bits), multibase=True))
    assert status_value(decoded, 3, 2) == 0b10 and status_value(decoded, 2, 2) == 0
    with pytest.raises(IndexError):
        status_value(decoded, 64, 2)


def test_gzip_bomb_is_refused() -> None:
    bomb = encode_bitstring(bytes(8 * 1024 * 1024), multibase=True)
    assert len(bomb) < 20_000
    with pytest.raises(StatusListError) as err:
        decode_bitstring(bomb, max_bytes=1024 * 1024)
    assert err.value.code == "status.list_too_large"


@pytest.mark.parametrize("encoded", ["", "u!!!", "uAAAA", "H4sI"])
def test_garbage_lists_are_malformed(encoded: str) -> None:
    with pytest.raises(StatusListError) as err:
        decode_bitstring(encoded)
    assert err.value.code == "status.list_malformed"


def _list(purpose: str = "revocation", issuer: str = "did:example:i", **extra: Any
          ) -> dict[str, Any]:
    bits = bytearray(16384)
    set_status(bits, 9)
    return {"issuer": issuer, "validFrom": "2025-01-01T00:00:00Z", **extra,
            "credentialSubject": {"type": "BitstringStatusList", "statusPurpose": purpose,
                                  "encodedList": encode_bitstring(bytes(bits), multibase=True)}}


def _entry(index: Any, purpose: str = "revocation", kind: str = "BitstringStatusListEntry"
           ) -> Any:
    (entry,) = status_entries_of({"credentialStatus": {
        "type": kind, "statusPurpose": purpose, "statusListIndex": index,
        "statusListCredential": "https://s.test/1"}})
    return entry


@pytest.mark.parametrize(("entry", "status_list", "issuer", "code"), [
    (_entry("9"), _list(), "did:example:i", "status.revoked"),
    (_entry(9, "suspension"), _list("suspension"), "did:example:i", "status.suspended"),
    (_entry("8"), _list(), "did:example:i", "status.ok"),
    (_entry("9"), _list(), "did:example:other", "status.issuer_mismatch"),
    (_entry("9", "suspension"), _list(), "did:example:i", "status.purpose_mismatch"),
    (_entry("131072"), _list(), "did:example:i", "status.index_out_of_range"),
    (_entry("-1"), _list(), "did:example:i", "status.entry_malformed"),
    (_entry("9", kind="RevocationList2020Status"), _list(), "did:example:i",
     "status.type_unsupported"),
    (_entry("9"), _list(validUntil="2026-01-01T00:00:00Z"), "did:example:i",
     "status.list_expired"),
])
def test_entry_checks(entry: Any, status_list: dict[str, Any], issuer: str, code: str) -> None:
    parsed = parse_status_list(status_list, url="https://s.test/1")
    assert check_status_entry(entry, parsed, credential_issuer=issuer, at=AT).code == code


def test_allowed_list_issuer() -> None:
    parsed = parse_status_list(_list(issuer="did:example:delegate"), url="https://s.test/1")
    result = check_status_entry(_entry("8"), parsed, credential_issuer="did:example:i", at=AT,
                                allowed_issuers=frozenset({"did:example:delegate"}))
    assert result.status == "passed"


def test_list_ttl_is_read() -> None:
    parsed = parse_status_list({**_list(), "credentialSubject": {
        **_list()["credentialSubject"], "ttl": 60000}}, url="https://s.test/1")
    assert parsed.ttl_seconds == 60.0
