"""Completion webhooks (signature, retries after 500, delivery log) and signed receipts
(batch, job and single verification; offline check with the published key; tampering)."""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import AsyncIterator
from typing import Any

import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from tests.conftest import ClientFactory
from tests.hr.support import DEMO_META, VP, Receiver, demo_settings, vp_item, webhook_receiver
from tests.hr.test_jobs import wait_done
from trustbridge.crypto.jwk import public_key_from_jwk
from trustbridge.crypto.jws import parse_compact_jws, verify_jws
from trustbridge.did.key import decode_did_key

SECRET = "whsec-0123456789abcdef"


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    async for r in webhook_receiver(Receiver(SECRET, fail_first=2)):
        yield r


async def test_webhook_signed_and_retried(make_client: ClientFactory,
                                          receiver: Receiver) -> None:
    client = await make_client(**demo_settings(hr_webhook_allow_private=True,
                                               hr_webhook_backoff_seconds=0.01))
    resp = await client.post("/v1/jobs", json={"items": [vp_item()] * 3,
                                                "webhook": {"url": receiver.url,
                                                            "secret": SECRET}})
    job = await resp.json()
    await wait_done(client, resp.headers["Location"])
    for _ in range(200):
        log = (await (await client.get("/v1/webhooks/deliveries")).json())["deliveries"]
        if log:
            break
        await asyncio.sleep(0.02)
    assert len(receiver.received) == 3  # two 500s, then accepted
    assert all(receiver.signatures_ok)
    assert receiver.received[-1]["job_id"] == job["id"]
    assert receiver.received[-1]["summary"]["valid"] == 3
    assert VP not in json.dumps(receiver.received)
    assert log[0]["delivered"] is True and log[0]["attempts"] == 3
    assert log[0]["job_id"] == job["id"]


async def test_webhook_url_refused_without_allow_private(make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings())
    resp = await client.post("/v1/jobs", json={"items": [vp_item()], "webhook": {
        "url": "http://127.0.0.1:9/hook", "secret": SECRET}})
    assert resp.status == 400 and (await resp.json())["code"] == "webhook.url_refused"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _tamper(token: str) -> str:
    """Change one byte of the payload (a verdict) and keep the signature."""
    h, p, s = token.split(".")
    payload = json.loads(base64.urlsafe_b64decode(p + "=" * (-len(p) % 4)))
    payload["verdict"] = "valid" if payload["verdict"] != "valid" else "invalid"
    return ".".join([h, _b64(json.dumps(payload, separators=(",", ":")).encode()), s])


async def test_batch_receipts_verify_offline_and_online(make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings())
    resp = await client.post("/v1/verify/batch", json={"items": [vp_item()], "receipts": True})
    item = (await resp.json())["items"][0]
    receipt, report = item["receipt"], item["report"]

    # Offline: the published key, and the node's did:key, both verify the signature.
    keys = await (await client.get("/.well-known/trustbridge-keys")).json()
    jws = parse_compact_jws(receipt)
    verify_jws(jws, public_key_from_jwk(keys["keys"][0]), allowed_algs=frozenset({"EdDSA"}))
    if keys["node_did"].startswith("did:key:"):
        _, _, did_public = decode_did_key(keys["node_did"])
        assert isinstance(did_public, ed25519.Ed25519PublicKey)
        verify_jws(jws, did_public, allowed_algs=frozenset({"EdDSA"}))
    claims = json.loads(jws.payload)
    assert claims["verdict"] == "valid" and claims["iss"] == keys["node_did"]
    assert VP not in receipt and claims["input_digest"]["alg"] == "sha-256"

    async def check(body: dict[str, Any]) -> dict[str, Any]:
        r = await client.post("/v1/receipts/verify", json=body)
        assert r.status == 200
        data: dict[str, Any] = await r.json()
        return data

    ok = await check({"receipt": receipt, "report": report, "presentation": VP})
    assert ok["valid"] is True and ok["code"] == "receipt.ok"
    bad = await check({"receipt": _tamper(receipt)})
    assert bad == {**bad, "valid": False, "code": "receipt.signature_invalid"}
    flipped = receipt[:-2] + ("A" if receipt[-2] != "A" else "B") + receipt[-1]
    assert (await check({"receipt": flipped}))["valid"] is False
    other_report = {**report, "verdict": "invalid"}
    assert (await check({"receipt": receipt, "report": other_report}))["code"] == \
        "receipt.report_mismatch"
    assert (await check({"receipt": receipt, "presentation": VP + "x"}))["code"] == \
        "receipt.input_mismatch"
    assert (await check({"receipt": "not.a.jws"}))["code"] == "receipt.malformed"


async def test_single_verify_receipt_header_and_job_receipts(make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings())
    resp = await client.post("/v1/verify", json=vp_item(),
                             headers={"TrustBridge-Receipt": "true"})
    report = await resp.json()
    receipt = resp.headers["TrustBridge-Receipt"]
    data = await (await client.post("/v1/receipts/verify", json={
        "receipt": receipt, "report": report, "presentation": VP})).json()
    assert data["valid"] is True
    assert data["claims"]["checked_at"] == report["checked_at"]

    resp = await client.post("/v1/jobs", json={"items": [vp_item()], "receipts": True})
    location = resp.headers["Location"]
    await wait_done(client, location)
    item = (await (await client.get(location)).json())["results"][0]
    data = await (await client.post("/v1/receipts/verify", json={
        "receipt": item["receipt"], "report": item["report"]})).json()
    assert data["valid"] is True and data["claims"]["registry_epoch"]
    assert DEMO_META["vp_nonce"]  # the demo input is the one the receipts cover
