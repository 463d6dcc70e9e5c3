"""The shipped demo hierarchy answers the verification pipeline: the demo learner's EV safety
VP is valid (schema from the bundled EBSI schemas), the wrong-issuer VC fails issuer trust."""

from __future__ import annotations

import json
from typing import Any

from ..conftest import FIXTURES, ClientFactory

DEMO_DIR = FIXTURES / "demo"
DEMO = json.loads((DEMO_DIR / "demo.json").read_text())


def jwt(name: str) -> str:
    return (DEMO_DIR / name).read_text().strip()


def check(report: dict[str, Any], name: str) -> dict[str, Any]:
    return next(c for c in report["credentials"][0]["checks"] if c["check"] == name)


async def test_demo_vp_is_valid_through_the_registry(make_client: ClientFactory) -> None:
    client = await make_client(schema_store_dir=FIXTURES / "ebsi" / "schemas",
                               schema_fetch_remote=False)
    resp = await client.post("/v1/verify", json={
        "presentation": jwt("ev-safety-vp.jwt"), "nonce": DEMO["vp_nonce"],
        "audience": DEMO["vp_audience"], "at": DEMO["vp_verify_at"]})
    report = await resp.json()
    trust = check(report, "issuer_trust")
    assert trust["status"] == "passed", trust
    assert [link["issuer_type"] for link in trust["details"]["chain"]] == ["TI", "TAO",
                                                                           "RootTAO"]
    assert report["verdict"] == "valid", [c for c in report["credentials"][0]["checks"]
                                          if c["status"] != "passed"]


async def test_unaccredited_issuer_fails_issuer_trust(make_client: ClientFactory) -> None:
    client = await make_client(schema_store_dir=FIXTURES / "ebsi" / "schemas",
                               schema_fetch_remote=False)
    resp = await client.post("/v1/verify", json={
        "credential": jwt("ev-safety-vc-unaccredited-issuer.jwt"), "at": "2025-07-01T00:00:00Z"})
    report = await resp.json()
    assert report["verdict"] == "invalid"
    trust = check(report, "issuer_trust")
    assert trust["status"] == "failed" and trust["code"] == "accreditation.type_mismatch"
