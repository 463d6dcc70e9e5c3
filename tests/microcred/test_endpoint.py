"""``POST /v1/verify`` on a real socket: a signed ELM micro-credential comes back with its
Annex I summary (the pipeline calls ``trustbridge.microcred``; nothing is mocked)."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.microcred.support import load
from trustbridge.crypto.jws import sign_jws
from trustbridge.issuer.keys import demo_key

RELAXED = {"require_accredited_issuer": False, "check_schema": False, "check_status": False}


def signed(credential: dict[str, Any]) -> str:
    """The credential as a JWT VC (EdDSA, did:key) from the public demo key."""
    key = demo_key()
    vc = dict(credential)
    issuer = vc["issuer"]
    vc["issuer"] = {**issuer, "id": key.did} if isinstance(issuer, dict) else key.did
    issued = datetime.fromisoformat(vc["issuanceDate"].replace("Z", "+00:00"))
    payload = {"iss": key.did, "sub": vc["credentialSubject"]["id"], "jti": vc["id"],
               "nbf": int(issued.timestamp()), "iat": int(issued.timestamp()), "vc": vc}
    header = {"alg": "EdDSA", "typ": "JWT", "kid": key.verification_method}
    return sign_jws(header, json.dumps(payload).encode(), key.private_key)


async def _verify(client: TestClient[Any, Any], token: str,
                  policy: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post("/v1/verify", json={"credential": token, "policy": policy,
                                                 "at": "2025-12-01T00:00:00Z"})
    assert resp.status == 200, await resp.text()
    data: dict[str, Any] = await resp.json()
    return data


def _check(data: dict[str, Any]) -> dict[str, Any]:
    (cred,) = data["credentials"]
    micro = [c for c in cred["checks"] if c["check"] == "microcredential"]
    assert len(micro) == 1, cred["checks"]
    check: dict[str, Any] = micro[0]
    return check


async def test_valid_elm_micro_credential_returns_every_annex_element(
        client: TestClient[Any, Any]) -> None:
    data = await _verify(client, signed(load("ev-hv-safety-elm")),
                         {**RELAXED, "require_microcredential_profile": True})
    assert data["verdict"] == "valid", data
    check = _check(data)
    assert check["status"] == "passed" and check["code"] == "microcredential.ok"
    micro = data["credentials"][0]["summary"]["microcredential"]
    assert micro["complete"] is True and micro["missing"] == []
    for key in ("title", "learner", "awarding_bodies", "countries", "issued",
                "learning_outcomes", "workload", "level", "assessment_type",
                "participation_form", "quality_assurance"):
        assert micro[key], key
    assert micro["level"]["eqf"] == 4 and micro["workload"]["ects"] == 3.0
    assert micro["countries"] == ["ES"]
    assert micro["learning_outcomes"][0]["skills"][0]["uri"].startswith(
        "http://data.europa.eu/esco/skill/")


@pytest.mark.parametrize(("required", "status", "verdict"), [
    (True, "failed", "invalid"), (False, "passed", "valid")])
async def test_incomplete_micro_credential_fails_only_when_policy_requires(
        client: TestClient[Any, Any], required: bool, status: str, verdict: str) -> None:
    credential = load("ev-hv-safety-elm")
    del credential["credentialSubject"]["hasClaim"]["specifiedBy"]["learningOutcome"]
    data = await _verify(client, signed(credential),
                         {**RELAXED, "require_microcredential_profile": required})
    check = _check(data)
    assert check["status"] == status
    assert check["details"]["missing"] == ["learning_outcomes"]
    assert data["verdict"] == verdict
    if required:
        assert check["code"] == "microcredential.missing.learning_outcomes"
