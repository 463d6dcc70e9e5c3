"""The pure checks and policies, with an injected time (no sleeping, no I/O)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from trustbridge.formats.base import ParsedCredential, ParsedPresentation, ValidityDates
from trustbridge.verify import checks
from trustbridge.verify.policy import AllOf, Policy, UnsafeNoOp
from trustbridge.verify.result_cache import result_key, result_ttl

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
V1 = "https://www.w3.org/2018/credentials/v1"


def cred(validity: ValidityDates, **overrides: Any) -> ParsedCredential:
    values: dict[str, Any] = {
        "format": "jwt_vc", "raw": "x", "issuer": "did:key:z6Mki",
        "credential": {"@context": [V1], "type": ["VerifiableCredential"],
                       "issuer": "did:key:z6Mki", "issuanceDate": "2026-01-01T00:00:00Z",
                       "credentialSubject": {"id": "did:key:zH"}},
        "types": ("VerifiableCredential",), "subject_ids": ("did:key:zH",),
        "validity": validity}
    values.update(overrides)
    return ParsedCredential(**values)


def vp(**overrides: Any) -> ParsedPresentation:
    values: dict[str, Any] = {
        "format": "jwt_vc", "raw": "x", "presentation": {"@context": [V1]},
        "holder": "did:key:zH", "nonce": "n1", "audience": ("https://hr.test",),
        "iat": T0 - timedelta(minutes=1), "types": ("VerifiablePresentation",),
        "credentials": ("a.b.c",)}
    values.update(overrides)
    return ParsedPresentation(**values)


@pytest.mark.parametrize(("validity", "skew", "code"), [
    (ValidityDates(jwt_nbf=T0 + timedelta(seconds=30), issuance_date=T0 + timedelta(seconds=30)),
     60, "validity.ok"),
    (ValidityDates(jwt_nbf=T0 + timedelta(seconds=90), issuance_date=T0 + timedelta(seconds=90)),
     60, "credential.not_yet_valid"),
    (ValidityDates(expiration_date=T0 - timedelta(seconds=30)), 60, "validity.ok"),
    (ValidityDates(expiration_date=T0 - timedelta(seconds=30)), 0, "credential.expired"),
    (ValidityDates(valid_until=T0 - timedelta(days=1), jwt_exp=T0 - timedelta(days=1)), 60,
     "credential.expired"),
    (ValidityDates(jwt_exp=T0 + timedelta(days=1), expiration_date=T0 + timedelta(days=2)), 60,
     "validity.inconsistent"),
    (ValidityDates(jwt_nbf=T0 - timedelta(days=1), issuance_date=T0 - timedelta(days=3),
                   valid_from=T0 - timedelta(days=1)), 60, "validity.ok"),
])
def test_validity_window(validity: ValidityDates, skew: int, code: str) -> None:
    assert checks.check_validity(cred(validity), at=T0, skew_seconds=skew).code == code


@pytest.mark.parametrize(("pres", "nonce", "aud", "code"), [
    (vp(), "n1", "https://hr.test", "replay.ok"),
    (vp(), None, None, "replay.ok"),
    (vp(nonce=None), "n1", None, "nonce.missing"),
    (vp(), "n2", None, "nonce.mismatch"),
    (vp(audience=()), None, "https://hr.test", "audience.missing"),
    (vp(), None, "https://other.test", "audience.mismatch"),
    (vp(iat=T0 + timedelta(minutes=5)), None, None, "presentation.issued_in_future"),
    (vp(iat=T0 - timedelta(hours=1)), None, None, "presentation.stale"),
    (vp(exp=T0 - timedelta(minutes=5)), None, None, "presentation.expired"),
    (vp(nbf=T0 + timedelta(minutes=5)), None, None, "presentation.not_yet_valid"),
])
def test_replay(pres: ParsedPresentation, nonce: str | None, aud: str | None,
                code: str) -> None:
    result = checks.check_replay(pres, expected_nonce=nonce, expected_audience=aud, at=T0,
                                 max_age_seconds=900, skew_seconds=60)
    assert result.code == code


def test_holder_binding_via_cnf_kid_and_jwk() -> None:
    jwk = {"kty": "OKP", "crv": "Ed25519", "x": "abc"}
    by_kid = cred(ValidityDates(), subject_ids=(), holder_binding_key={"kid": "did:key:zH#0"})
    assert checks.check_holder_binding(vp(), by_kid, required=True).status == "passed"
    by_jwk = cred(ValidityDates(), subject_ids=(), holder_binding_key={"jwk": jwk})
    assert checks.check_holder_binding(vp(), by_jwk, required=True,
                                       signer_jwk=dict(jwk)).status == "passed"
    assert checks.check_holder_binding(vp(), by_jwk, required=True,
                                       signer_jwk={**jwk, "x": "other"}).code == "holder.mismatch"
    unbound = cred(ValidityDates(), subject_ids=())
    assert checks.check_holder_binding(vp(), unbound, required=True).code == "holder.unbound"


def test_structure_rejects_missing_parts() -> None:
    base = cred(ValidityDates(issuance_date=T0))
    assert checks.check_credential_structure(base).code == "structure.ok"
    assert checks.check_credential_structure(
        cred(ValidityDates(issuance_date=T0), types=("Other",))).code == "structure.type_missing"
    assert checks.check_credential_structure(
        cred(ValidityDates(issuance_date=T0), issuer=None)).code == "structure.issuer_missing"
    assert checks.check_credential_structure(
        cred(ValidityDates())).code == "structure.date_malformed"  # present but unparsed
    no_date = {k: v for k, v in base.credential.items() if k != "issuanceDate"}
    assert checks.check_credential_structure(
        cred(ValidityDates(), credential=no_date)).code == "structure.issuance_date_missing"
    assert checks.check_presentation_structure(vp(credentials=())).code == \
        "structure.no_credentials"
    assert checks.check_presentation_structure(
        vp(credentials=("x",) * 33)).code == "structure.too_many_credentials"


def test_policy_defaults_are_the_contract() -> None:
    assert Policy().model_dump() == {
        "require_accredited_issuer": True, "check_status": True, "check_schema": True,
        "require_holder_binding": True, "require_microcredential_profile": False,
        "clock_skew_seconds": 60}


def test_all_of_is_strictest() -> None:
    combined = AllOf(Policy(check_status=False, clock_skew_seconds=300),
                     Policy(require_holder_binding=False, clock_skew_seconds=30), UnsafeNoOp())
    assert combined.check_status and combined.require_holder_binding
    assert combined.clock_skew_seconds == 30 and not combined.unsafe


def test_unsafe_noop_warns_every_run(caplog: pytest.LogCaptureFixture) -> None:
    policy = UnsafeNoOp()
    with caplog.at_level(logging.WARNING):
        policy.announce()
        policy.announce()
    assert sum("UnsafeNoOp" in r.getMessage() for r in caplog.records) == 2
    assert policy.cache_key() != Policy(**policy.model_dump()).cache_key()


def test_result_key_depends_on_everything() -> None:
    base: dict[str, Any] = {"presentation": {"b": 1, "a": 2}, "credential": None, "nonce": "n",
                            "audience": "a", "policy": Policy().cache_key(), "at": T0,
                            "epoch": 3}
    key = result_key(**base)
    assert key == result_key(**{**base, "presentation": {"a": 2, "b": 1}})
    for change in ({"nonce": "m"}, {"audience": "b"}, {"epoch": 4}, {"at": None},
                   {"policy": Policy(check_status=False).cache_key()}):
        assert result_key(**{**base, **change}) != key


def test_result_ttl_is_the_minimum() -> None:
    assert result_ttl(now=T0, max_ttl=300, earliest_expiry=None, status_ttls=[]) == 300
    assert result_ttl(now=T0, max_ttl=300, earliest_expiry=T0 + timedelta(seconds=40),
                      status_ttls=[120]) == 40
    assert result_ttl(now=T0, max_ttl=300, earliest_expiry=None, status_ttls=[120, 90]) == 90
    assert result_ttl(now=T0, max_ttl=300, earliest_expiry=T0 - timedelta(1),
                      status_ttls=[]) == 0
