"""Token Status List (draft-ietf-oauth-status-list): the spec's encoding vectors decode as the
spec lists them; Status List Tokens are signature-checked and each entry outcome has its code."""

from __future__ import annotations

import json
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.formats.test_sd_jwt import (
    AT,
    BASE_CLAIMS,
    ISSUER_JWK,
    SPEC_KID,
    b64u,
    fmt_with,
    issue,
    new_jwk,
    present,
    sign,
)
from trustbridge.did.resolver import offline_resolver
from trustbridge.formats.base import StatusEntry
from trustbridge.model.report import CheckStatus
from trustbridge.status.bitstring import StatusListError
from trustbridge.status.token_status_list import (
    TokenStatusList,
    check_token_status_entry,
    decode_lst,
    parse_status_list_token,
    status_at,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS: list[dict[str, Any]] = json.loads(
    (ROOT / "fixtures" / "sd_jwt" / "token-status-list-vectors.json").read_text())
URI = "https://issuer.example.com/statuslists/1"
ISS = "https://issuer.example.com"


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
def test_spec_encoding_vectors(vector: dict[str, Any]) -> None:
    lst = decode_lst(vector["lst"])
    bits = vector["bits"]
    listed = {int(k): v for k, v in vector["statuses"].items()}
    size = len(lst) * 8 // bits
    values = [status_at(lst, i, bits) for i in range(size)]
    assert {i: v for i, v in enumerate(values) if v} == {i: v for i, v in listed.items() if v}
    with pytest.raises(IndexError):
        status_at(lst, size, bits)


def test_zlib_bomb_is_capped() -> None:
    bomb = b64u(zlib.compress(b"\0" * 2_000_000))
    with pytest.raises(StatusListError) as exc:
        decode_lst(bomb, max_bytes=1_000_000)
    assert exc.value.code == "status.list_too_large"


def _list(values: list[int], bits: int) -> str:
    per = 8 // bits
    out = bytearray((len(values) + per - 1) // per)
    for i, v in enumerate(values):
        out[i // per] |= v << ((i % per) * bits)
    return b64u(zlib.compress(bytes(out)))


def _token(values: list[int], *, bits: int = 2, sub: str = URI, exp: int = 1_900_000_000,
           jwk: dict[str, Any] = ISSUER_JWK, typ: str = "statuslist+jwt") -> str:
    payload = {"iss": ISS, "sub": sub, "iat": 1_690_000_000, "exp": exp, "ttl": 3600,
               "status_list": {"bits": bits, "lst": _list(values, bits)}}
    return sign({"alg": "ES256", "typ": typ, "kid": SPEC_KID}, payload, jwk)


def _entry(idx: int) -> StatusEntry:
    return StatusEntry(type="TokenStatusList", purpose=None, index=idx, list_credential=URI)


async def _verified(token: str) -> TokenStatusList:
    result = await fmt_with().verify_status_list_token(token, uri=URI, issuer=ISS,
                                                       resolver=offline_resolver(), at=AT)
    assert isinstance(result, TokenStatusList), result
    return result


@pytest.mark.parametrize(("idx", "status", "code"), [
    (0, CheckStatus.PASSED, "status.ok"),
    (1, CheckStatus.FAILED, "status.revoked"),
    (2, CheckStatus.FAILED, "status.suspended"),
    (3, CheckStatus.ERROR, "status.value_unknown"),
    (99, CheckStatus.FAILED, "status.index_out_of_range"),
])
async def test_entry_outcomes(idx: int, status: CheckStatus, code: str) -> None:
    token_list = await _verified(_token([0, 1, 2, 3]))
    assert token_list.ttl_seconds == 3600
    result = check_token_status_entry(_entry(idx), token_list, credential_issuer=ISS, at=AT)
    assert (result.status, result.code) == (status, code)


async def test_expired_list_is_indeterminate() -> None:
    token_list = await _verified(_token([0], exp=1_690_000_100))
    result = check_token_status_entry(_entry(0), token_list, credential_issuer=ISS, at=AT)
    assert (result.status, result.code) == (CheckStatus.ERROR, "status.list_expired")


async def test_list_of_another_issuer() -> None:
    token_list = await _verified(_token([0]))
    result = check_token_status_entry(_entry(0), token_list, credential_issuer="https://x.example",
                                      at=AT)
    assert result.code == "status.issuer_mismatch"


@pytest.mark.parametrize(("token", "code"), [
    (lambda: _token([0], sub="https://issuer.example.com/statuslists/2"),
     "status.list_uri_mismatch"),
    (lambda: _token([0], jwk=new_jwk()), "status.list_signature_invalid"),
    (lambda: _token([0], typ="jwt"), "status.list_malformed"),
    (lambda: "not-a-jwt", "status.list_malformed"),
])
async def test_bad_status_list_tokens(token: Any, code: str) -> None:
    result = await fmt_with().verify_status_list_token(token(), uri=URI, issuer=ISS,
                                                       resolver=offline_resolver(), at=AT)
    assert not isinstance(result, TokenStatusList)
    assert (result.status, result.code) == (CheckStatus.ERROR, code)


def test_spec_status_list_token_payload() -> None:
    """The draft's example Status List Token (§5.1) decodes to its §4.1 example list."""
    payload = {"exp": 2291720170, "iat": 1686920170, "iss": "https://example.com",
               "status_list": {"bits": 1, "lst": "eNrbuRgAAhcBXQ"},
               "sub": "https://example.com/statuslists/1", "ttl": 43200}
    tsl = parse_status_list_token({"alg": "ES256", "kid": "12", "typ": "statuslist+jwt"},
                                  payload, uri="https://example.com/statuslists/1")
    assert tsl.lst == bytes([0xB9, 0xA3])
    assert tsl.expires == datetime.fromtimestamp(2291720170, tz=UTC)


def test_sd_jwt_vc_status_claim_becomes_a_token_status_entry() -> None:
    token, disclosures = issue(BASE_CLAIMS | {"status": {"status_list": {"idx": 7, "uri": URI}}},
                               {"given_name": "Erika"})
    pc = fmt_with().parse_credential(present(token, disclosures, holder=None))
    (entry,) = pc.status_entries
    assert (entry.type, entry.index, entry.list_credential) == ("TokenStatusList", 7, URI)
