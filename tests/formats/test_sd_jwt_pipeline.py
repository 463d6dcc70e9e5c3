"""SD-JWT VC through the real verifier pipeline and through ``POST /v1/verify`` on 127.0.0.1.

The pipeline test uses the spec's examples (issuer key from JWT VC Issuer Metadata via
a fake ``DocumentFetcher``); the HTTP test issues with a did:jwk issuer so the running
app needs no network at all.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.formats.test_sd_jwt import (
    AT,
    BASE_CLAIMS,
    BY_NAME,
    HOLDER_JWK,
    NONCE,
    did_jwk,
    fmt_with,
    issue,
    kb_at,
    new_jwk,
    present,
)
from trustbridge.did.resolver import offline_resolver
from trustbridge.formats.jwt_vc import JwtVcFormat
from trustbridge.model.report import Verdict
from trustbridge.verify.pipeline import VerificationInput, Verifier
from trustbridge.verify.policy import Policy

RELAXED = Policy(require_accredited_issuer=False, check_schema=False)


def verifier() -> Verifier:
    return Verifier(formats=[fmt_with(), JwtVcFormat()], resolver=offline_resolver())


def codes(report: Any) -> set[str]:
    found = {c.code for c in report.checks}
    for cred in report.credentials:
        found |= {c.code for c in cred.checks}
    return found


@pytest.mark.parametrize("name", ["sdjwtvc-presentation-kb", "sdjwtvc-pid-presentation-kb",
                                  "sdjwt-a3-pid-presentation-kb"])
async def test_spec_presentation_is_valid(name: str) -> None:
    vector = BY_NAME[name]
    aud = (vector["kb_payload"] or {}).get("aud", "https://example.com/verifier")
    report = await verifier().verify(VerificationInput(
        presentation=vector["sd_jwt"], nonce=NONCE, audience=aud, at=kb_at(vector),
        policy=RELAXED))
    assert report.verdict == Verdict.VALID, report.model_dump_json(indent=1)
    assert report.holder is not None and report.holder.startswith("urn:ietf:params:oauth:jwk")
    checks = {c.check: c for c in report.credentials[0].checks}
    assert checks["holder_binding"].status == "passed"
    assert checks["credential_proof"].details["disclosed"]


@pytest.mark.parametrize(("nonce", "aud", "code"), [
    ("other-nonce", "https://example.com/verifier", "nonce.mismatch"),
    (NONCE, "https://other.example", "audience.mismatch"),
])
async def test_spec_presentation_for_someone_else(nonce: str, aud: str, code: str) -> None:
    vector = BY_NAME["sdjwtvc-presentation-kb"]
    report = await verifier().verify(VerificationInput(
        presentation=vector["sd_jwt"], nonce=nonce, audience=aud, at=kb_at(vector),
        policy=RELAXED))
    assert report.verdict == Verdict.INVALID
    assert code in codes(report)


async def test_stale_key_binding() -> None:
    vector = BY_NAME["sdjwtvc-presentation-kb"]
    report = await verifier().verify(VerificationInput(
        presentation=vector["sd_jwt"], nonce=NONCE, at=kb_at(vector) + timedelta(days=1),
        policy=RELAXED))
    assert "presentation.stale" in codes(report)


async def test_expired_credential() -> None:
    token, disclosures = issue(BASE_CLAIMS | {"exp": 1_690_000_000}, {"given_name": "Erika"})
    report = await verifier().verify(VerificationInput(
        presentation=present(token, disclosures, holder=HOLDER_JWK), nonce=NONCE, at=AT,
        policy=RELAXED))
    assert report.verdict == Verdict.INVALID
    assert "credential.expired" in codes(report)


async def test_missing_key_binding_fails_holder_binding() -> None:
    token, disclosures = issue(BASE_CLAIMS, {"given_name": "Erika"})
    report = await verifier().verify(VerificationInput(
        presentation=present(token, disclosures, holder=None), at=AT, policy=RELAXED))
    assert report.verdict == Verdict.INVALID
    assert {"sd_jwt.kb_missing", "holder.mismatch"} <= codes(report)


async def test_tampered_disclosure_in_a_presentation() -> None:
    token, disclosures = issue(BASE_CLAIMS, {"given_name": "Erika"})
    report = await verifier().verify(VerificationInput(
        presentation=present(token, [*disclosures, disclosures[0]], holder=HOLDER_JWK),
        nonce=NONCE, at=AT, policy=RELAXED))
    assert report.verdict == Verdict.INVALID
    assert "sd_jwt.disclosure_duplicate" in codes(report)


async def test_single_credential_without_key_binding() -> None:
    vector = BY_NAME["sdjwtvc-presentation-no-kb"]
    report = await verifier().verify(VerificationInput(
        credential=vector["sd_jwt"], at=datetime.fromtimestamp(1_700_000_000).astimezone(),
        policy=RELAXED))
    assert report.verdict == Verdict.VALID, report.model_dump_json(indent=1)


# -- POST /v1/verify over a real socket ----------------------------------------------------

def _did_issued(exp: int = 1_883_000_000) -> tuple[str, list[str]]:
    issuer = new_jwk()
    did = did_jwk(issuer)
    return issue(BASE_CLAIMS | {"iss": did, "exp": exp},
                 {"given_name": "Erika", "family_name": "Mustermann"}, jwk=issuer,
                 header={"alg": "ES256", "typ": "dc+sd-jwt", "kid": did + "#0"})


async def test_post_verify_with_an_sd_jwt_presentation(client: TestClient[Any, Any]) -> None:
    token, disclosures = _did_issued()
    body = {"presentation": present(token, disclosures[:1], holder=HOLDER_JWK,
                                    aud="https://hr.example.eu"),
            "nonce": NONCE, "audience": "https://hr.example.eu", "at": AT.isoformat(),
            "policy": {"require_accredited_issuer": False, "check_schema": False}}
    resp = await client.post("/v1/verify", json=body)
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    assert data["verdict"] == "valid", data
    cred = data["credentials"][0]
    assert cred["summary"]["format"] == "sd_jwt_vc"
    assert cred["summary"]["types"] == ["https://credentials.example.com/identity_credential"]
    proof = next(c for c in cred["checks"] if c["check"] == "credential_proof")
    assert len(proof["details"]["disclosed"]) == 1
    assert proof["details"]["undisclosed_digests"] == 1


async def test_post_verify_tampered_sd_jwt_is_invalid(client: TestClient[Any, Any]) -> None:
    token, disclosures = _did_issued()
    tampered = present(token, disclosures, holder=new_jwk())
    resp = await client.post("/v1/verify", json={
        "presentation": tampered, "nonce": NONCE, "at": AT.isoformat(),
        "policy": {"require_accredited_issuer": False, "check_schema": False}})
    assert resp.status == 200
    data = await resp.json()
    assert data["verdict"] == "invalid"
    assert "sd_jwt.kb_signature_invalid" in {c["code"] for c in data["checks"]}


async def test_revoked_in_a_token_status_list_is_never_valid() -> None:
    """Until the pipeline dispatches ``TokenStatusList`` entries to
    ``status.token_status_list`` the status is indeterminate; after, invalid -- never valid."""
    from tests.formats.test_sd_jwt_status import URI, _token
    from trustbridge.cache.memory import MemoryCache
    from trustbridge.status.fetcher import StatusListFetcher

    class ListHost:
        async def fetch(self, url: str, *, accept: str, max_bytes: int) -> bytes:
            assert url == URI
            return _token([1]).encode()

    token, disclosures = issue(BASE_CLAIMS | {"status": {"status_list": {"idx": 0, "uri": URI}}},
                               {"given_name": "Erika"})
    lists = StatusListFetcher(ListHost(), MemoryCache(max_entries=10), max_bytes=65536,
                              default_ttl=60, max_ttl=600)
    v = Verifier(formats=[fmt_with(), JwtVcFormat()], resolver=offline_resolver(),
                 status_lists=lists)
    report = await v.verify(VerificationInput(
        presentation=present(token, disclosures, holder=HOLDER_JWK), nonce=NONCE, at=AT,
        policy=RELAXED))
    assert report.verdict != Verdict.VALID
    status = next(c for c in report.credentials[0].checks if c.check == "status")
    assert status.status in ("failed", "error")
