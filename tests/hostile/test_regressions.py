"""Regression tests for the defects the forgery corpus found (each named after it).

* a JWT VC/VP whose ``exp``/``nbf``/``iat`` is not a usable NumericDate (a string, a
  value beyond ``datetime``) had that bound silently ignored -- an expiry the issuer
  wrote as ``"1600000000"`` never expired (formats/jwt_vc.py, formats/sd_jwt/format.py);
* an ISO date with a trailing NUL parsed as the date (formats/base.py ``parse_datetime``);
* didkit-verified JSON-LD (Ed25519Signature2018, JsonWebSignature2020) dropped undefined
  terms silently, so an unsigned ``type`` or claim could be added (formats/ldp.py);
* didkit's own ``ValueError`` on odd input surfaced as "proof check crashed"
  (formats/_didkit.py);
* a request body with duplicate keys was read last-wins (api/body.py).
"""

from __future__ import annotations

import copy
import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.conftest import ROOT, ClientFactory
from tests.hostile.test_forgery_corpus import fc
from tests.verify.support import failing_codes
from trustbridge.did.resolver import offline_resolver
from trustbridge.formats.base import parse_datetime
from trustbridge.formats.jwt_vc import JwtVcFormat
from trustbridge.formats.ldp import LdpFormat
from trustbridge.formats.sd_jwt import SdJwtVcFormat
from trustbridge.verify.pipeline import VerificationInput, Verifier
from trustbridge.verify.policy import Policy

RELAXED = Policy(require_accredited_issuer=False, check_schema=False, check_status=False)
LDP = ROOT / "fixtures" / "ldp" / "own"


def _verifier(at: datetime) -> Verifier:
    return Verifier(formats=[SdJwtVcFormat(), LdpFormat(), JwtVcFormat()],
                    resolver=offline_resolver(), clock=lambda: at)


def _demo_vc_with(**claims: Any) -> str:
    keys = fc.Keys()
    vc = (ROOT / "fixtures" / "demo" / "ev-safety-vc.jwt").read_text().strip()
    payload = fc.dec_segment(vc, 1) | claims
    return str(fc.jws(fc.dec_segment(vc, 0), payload, keys.issuer))


AT = datetime(2026, 1, 1, tzinfo=UTC)


async def test_demo_vc_resigned_unchanged_is_valid() -> None:
    report = await _verifier(AT).verify(VerificationInput(credential=_demo_vc_with(), at=AT,
                                                          policy=RELAXED))
    assert report.verdict == "valid", failing_codes(report)


@pytest.mark.parametrize("exp", ["1600000000", "9999999999", 10**40, 1e300, True, None,
                                 [1600000000]])
async def test_jwt_vc_unusable_exp_is_malformed_not_ignored(exp: Any) -> None:
    report = await _verifier(AT).verify(VerificationInput(credential=_demo_vc_with(exp=exp),
                                                          at=AT, policy=RELAXED))
    assert report.verdict == "invalid"
    assert "structure.claims_inconsistent" in failing_codes(report)


async def test_jwt_vp_unusable_iat_is_malformed() -> None:
    base = fc.bases()[0]
    keys = fc.Keys()
    payload = fc.dec_segment(base.input, 1) | {"iat": "1748858400"}
    vp = fc.jws(fc.dec_segment(base.input, 0), payload, keys.holder)
    at = datetime(2025, 6, 2, 10, 5, tzinfo=UTC)
    report = await _verifier(at).verify(VerificationInput(
        presentation=vp, nonce=base.nonce, audience=base.audience, at=at, policy=RELAXED))
    assert report.verdict == "invalid"
    assert "structure.claims_inconsistent" in failing_codes(report)


async def test_sd_jwt_unusable_exp_is_malformed() -> None:
    keys = fc.Keys()
    at = datetime(2025, 6, 2, 10, 5, tzinfo=UTC)
    ok, disclosures = fc.sd_issue(keys)
    bad, _ = fc.sd_issue(keys, claims={"exp": "9999999999"})
    for token, verdict in ((ok, "valid"), (bad, "invalid")):
        report = await _verifier(at).verify(VerificationInput(
            presentation=fc.sd_present(token, disclosures, keys.holder), nonce=fc.SD_NONCE,
            audience=fc.SD_AUD, at=at, policy=RELAXED))
        assert report.verdict == verdict, failing_codes(report)


def test_date_with_trailing_nul_does_not_parse() -> None:
    assert parse_datetime("2025-06-01T09:00:00Z") is not None
    assert parse_datetime("2025-06-01T09:00:00Z\x00") is None
    assert parse_datetime("2025-06-01T09:00:00\x00Z") is None


def _ldp(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((LDP / f"{name}.json").read_text())
    return doc


@pytest.mark.parametrize("name", ["vc-ed25519-2018", "vc-jws-2020"])
@pytest.mark.parametrize("change", ["type", "claim"])
async def test_didkit_path_refuses_unsigned_undefined_terms(name: str, change: str) -> None:
    at = datetime(2025, 1, 1, 0, 6, tzinfo=UTC)
    doc = _ldp(name)
    ok = await _verifier(at).verify(VerificationInput(credential=doc, at=at, policy=RELAXED))
    assert ok.verdict == "valid", failing_codes(ok)
    forged = copy.deepcopy(doc)
    if change == "type":
        forged["type"] = [*forged["type"], "UniversityDegreeCredential"]
    else:
        forged["credentialSubject"]["degreeXyz"] = "PhD"
    report = await _verifier(at).verify(VerificationInput(credential=forged, at=at,
                                                          policy=RELAXED))
    assert report.verdict == "invalid"
    assert "jsonld.term_undefined" in failing_codes(report)


async def test_didkit_value_error_is_a_failed_proof_not_a_crash(
        caplog: pytest.LogCaptureFixture) -> None:
    at = datetime(2025, 1, 1, 0, 6, tzinfo=UTC)
    doc = _ldp("vc-ed25519-2018")
    doc["proof"]["created"] = "not-a-date"  # didkit's serde raises ValueError on it
    with caplog.at_level(logging.ERROR):
        report = await _verifier(at).verify(VerificationInput(credential=doc, at=at,
                                                              policy=RELAXED))
    assert report.verdict == "invalid"
    assert "signature.invalid" in failing_codes(report)
    assert not [r for r in caplog.records if "crashed" in r.getMessage()]


async def test_request_body_with_duplicate_keys_is_refused(make_client: ClientFactory) -> None:
    client = await make_client()
    resp = await client.post("/v1/verify", data='{"credential": "a.b.c", "credential": "x"}',
                             headers={"Content-Type": "application/json"})
    assert resp.status == 400
    body = await resp.json(content_type=None)
    assert body["code"] == "request.malformed_json"
    assert "duplicate" in body["detail"]
