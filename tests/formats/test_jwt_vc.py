"""JWT VC/VP parsing: VCDM 1.1 §6.3.1 claim mapping and VCDM 2.0 vc+jwt / enveloped VCs."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from trustbridge.errors import InputError
from trustbridge.formats.base import has_two_dots
from trustbridge.formats.jwt_vc import JwtVcFormat

ROOT = Path(__file__).resolve().parents[2]
OWN = ROOT / "fixtures" / "verify" / "vectors"
FMT = JwtVcFormat()


def vector(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((OWN / f"{name}.json").read_text())
    return data


def test_vcdm11_claims_map_into_the_credential() -> None:
    v = vector("vc-valid-eddsa")
    pc = FMT.parse_credential(v["input"])
    assert pc.format == "jwt_vc" and pc.vcdm_version == "1.1"
    assert pc.issuer == v["issuer_did"]
    assert pc.subject_ids == (v["holder_did"],)
    assert pc.validity.jwt_nbf == pc.validity.issuance_date
    assert pc.validity.jwt_exp == pc.validity.expiration_date
    assert pc.signer_kid is not None and pc.signer_kid.startswith(v["issuer_did"] + "#")
    assert pc.status_entries[0].index == 7 and pc.schema_ids
    assert pc.claim_conflicts == ()


def test_vcdm2_vc_jwt_payload_is_the_credential() -> None:
    pc = FMT.parse_credential(vector("vc2-valid-vc-jwt")["input"])
    assert pc.vcdm_version == "2.0" and pc.header["typ"] == "vc+jwt"
    assert pc.validity.valid_from is not None and pc.validity.valid_until is not None


def test_vp_unwraps_enveloped_credentials() -> None:
    v = vector("vp2-valid-enveloped")
    pp = FMT.parse_presentation(v["input"])
    assert pp.holder == v["holder_did"] and pp.nonce == v["nonce"]
    assert pp.audience == (v["audience"],)
    (inner,) = pp.credentials
    assert isinstance(inner, str) and FMT.detect(inner)


def test_iss_conflict_is_recorded() -> None:
    pc = FMT.parse_credential(vector("vc-iss-not-issuer")["input"])
    assert pc.claim_conflicts == ("iss",)


@pytest.mark.parametrize("token", ["", "a.b", "a.b.c", "eyJhbGciOiJFZERTQSJ9.W10.c2ln",
                                   "!!.??.**"])
def test_unparseable_tokens_raise_input_error(token: str) -> None:
    with pytest.raises(InputError) as err:
        FMT.parse_credential(token)
    assert err.value.code == "credential.malformed"


def test_detect() -> None:
    assert FMT.detect("a.b.c") and not FMT.detect("a.b.c~d~") and not FMT.detect({"a": 1})


def test_rsa_only_when_enabled() -> None:
    assert "RS256" not in FMT.allowed_algs
    assert {"RS256", "PS256"} <= JwtVcFormat(allow_rsa=True).allowed_algs
    assert not {"none", "HS256"} & JwtVcFormat(allow_rsa=True).allowed_algs


@pytest.mark.parametrize("text", ["", ".", "..", "a.b", "a.b.c", "a..", "..c", "a.b.c.d", "...",
                                  "abc", "a.b.c.", ".a.b"])
def test_has_two_dots_is_count_equals_two(text: str) -> None:
    assert has_two_dots(text) == (text.count(".") == 2)
