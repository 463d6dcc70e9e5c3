"""DCQL and Presentation Exchange matching against the spec's own example queries."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest

from trustbridge.errors import InputError
from trustbridge.oid4vp.matching import check_binding, match_dcql, type_matches
from trustbridge.oid4vp.paths import parse_json_path, select_path
from trustbridge.oid4vp.query import DcqlQuery
from trustbridge.oid4vp.response import WalletResponseError

SPEC = Path(__file__).resolve().parents[2] / "fixtures" / "oid4vp" / "spec-1.0"
VCT = "https://credentials.example.com/identity_credential"


def b64(obj: Any) -> str:
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


def sd_jwt(claims: dict[str, Any], disclosed: dict[str, Any], *, nonce: str = "n",
           aud: str = "x509_hash:abc") -> str:
    """An unsigned SD-JWT+KB shape: matching reads it, verification would refuse it."""
    issuer = f"{b64({'alg': 'ES256', 'typ': 'dc+sd-jwt'})}.{b64(claims)}.c2ln"
    disclosures = [b64(["salt", k, v]) for k, v in disclosed.items()]
    kb = f"{b64({'alg': 'ES256', 'typ': 'kb+jwt'})}.{b64({'nonce': nonce, 'aud': aud})}.c2ln"
    return "~".join([issuer, *disclosures, kb])


@pytest.mark.parametrize("path", sorted(SPEC.glob("*.json")), ids=lambda p: p.stem)
def test_spec_queries_parse(path: Path) -> None:
    query = DcqlQuery.model_validate(json.loads(path.read_text()))
    assert query.credentials


def test_simple_query_matches_and_refuses() -> None:
    query = DcqlQuery.model_validate(json.loads((SPEC / "simple.json").read_text()))
    good = sd_jwt({"vct": VCT}, {"family_name": "Doe", "given_name": "Jane",
                                 "address": {"street_address": "1 Main St"}})
    result = match_dcql(query, {"my_credential": [good]})
    assert result.answered == {"my_credential": []}
    check_binding(result, nonce="n", client_id="x509_hash:abc")
    with pytest.raises(WalletResponseError) as err:
        check_binding(result, nonce="other", client_id="x509_hash:abc")
    assert err.value.code == "nonce.mismatch"
    missing = sd_jwt({"vct": VCT}, {"family_name": "Doe"})
    with pytest.raises(WalletResponseError) as err:
        match_dcql(query, {"my_credential": [missing]})
    assert err.value.code == "oid4vp.submission_mismatch"
    wrong_vct = sd_jwt({"vct": "https://other"}, {"family_name": "Doe", "given_name": "J",
                                                  "address": {"street_address": "x"}})
    with pytest.raises(WalletResponseError):
        match_dcql(query, {"my_credential": [wrong_vct]})
    with pytest.raises(WalletResponseError) as err:
        match_dcql(query, {"my_credential": [good, good]})
    assert "allows one" in err.value.description
    with pytest.raises(WalletResponseError):
        match_dcql(query, {"unknown": [good]})
    with pytest.raises(WalletResponseError):
        match_dcql(query, ["not", "an", "object"])


def test_value_matching_is_type_exact() -> None:
    query = DcqlQuery.model_validate(json.loads((SPEC / "value_matching_simple.json").read_text()))
    base = {"family_name": "Doe", "given_name": "J", "address": {"street_address": "x"}}
    ok = sd_jwt({"vct": VCT}, {**base, "postal_code": "90210"})
    match_dcql(query, {"my_credential": [ok]})
    as_int = sd_jwt({"vct": VCT}, {**base, "postal_code": 90210})
    with pytest.raises(WalletResponseError):
        match_dcql(query, {"my_credential": [as_int]})


def test_credential_sets_need_one_required_option() -> None:
    query = DcqlQuery.model_validate(
        json.loads((SPEC / "credentials_alternatives.json").read_text()))
    assert query.credential_sets is not None
    with pytest.raises(WalletResponseError) as err:
        match_dcql(query, {})
    assert "credential set" in err.value.description


def test_json_path_subset() -> None:
    assert parse_json_path("$.vc.credentialSubject['given name'][0]") == [
        "vc", "credentialSubject", "given name", 0]
    doc = {"vp": {"verifiableCredential": ["a", "b"]}}
    assert select_path(doc, "$.vp.verifiableCredential[*]") == ["a", "b"]
    assert select_path(doc, "$.vp.verifiableCredential[5]") == []
    for hostile in ("$..type", "$.a[?(@.x)]", "vc.type", "$.a[1:2]"):
        with pytest.raises(InputError):
            parse_json_path(hostile)


def test_type_matching_compact_and_expanded() -> None:
    assert type_matches("UniversityDegreeCredential", ["VerifiableCredential",
                                                       "UniversityDegreeCredential"])
    assert type_matches("https://example.org/examples#UniversityDegreeCredential",
                        ["UniversityDegreeCredential"])
    assert not type_matches("Degree", ["UniversityDegreeCredential"])
