"""``POST /v1/verify`` over a real 127.0.0.1 socket: the contract HR systems integrate against."""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import ClientFactory
from tests.verify.support import EBSI, load

RELAXED = {"require_accredited_issuer": False, "check_schema": False}
VC_OK = load(EBSI / "vc-eddsa-valid.json")
VP_OK = load(EBSI / "vp-es256-valid.json")


async def _verify(client: TestClient[Any, Any], body: dict[str, Any]) -> dict[str, Any]:
    resp = await client.post("/v1/verify", json=body)
    assert resp.status == 200, await resp.text()
    data: dict[str, Any] = await resp.json()
    return data


async def test_valid_credential_json_body(client: TestClient[Any, Any]) -> None:
    data = await _verify(client, {"credential": VC_OK["input"], "at": VC_OK["verify_at"],
                                  "policy": RELAXED})
    assert data["verdict"] == "valid"
    assert data["cached"] is False
    assert set(data) == {"verdict", "checks", "credentials", "holder", "cached", "checked_at"}
    cred = data["credentials"][0]
    assert set(cred) == {"verdict", "checks", "summary"}
    assert set(cred["checks"][0]) == {"check", "status", "code", "message", "details"}
    assert cred["summary"]["issuer"]["did"] == VC_OK["issuer_did"]


async def test_report_body_and_headers_are_the_rendered_report(
        client: TestClient[Any, Any]) -> None:
    """The answer is exactly ``model_dump_json()`` of the report, in UTF-8, and says so."""
    from trustbridge.model.report import VerificationReport

    resp = await client.post("/v1/verify", json={
        "presentation": VP_OK["input"], "nonce": VP_OK["nonce"], "audience": VP_OK["audience"],
        "at": VP_OK["verify_at"], "policy": RELAXED})
    raw = await resp.read()
    assert resp.status == 200
    assert resp.headers["Content-Type"] == "application/json; charset=utf-8"
    assert resp.headers["Content-Length"] == str(len(raw))
    assert raw == VerificationReport.model_validate_json(raw).model_dump_json().encode("utf-8")


async def test_valid_presentation_with_nonce_and_audience(client: TestClient[Any, Any]) -> None:
    data = await _verify(client, {"presentation": VP_OK["input"], "nonce": VP_OK["nonce"],
                                  "audience": VP_OK["audience"], "at": VP_OK["verify_at"],
                                  "policy": RELAXED})
    assert data["verdict"] == "valid", data
    assert data["holder"] == VP_OK["holder_did"]
    assert len(data["credentials"]) == 2


@pytest.mark.parametrize(("name", "code"), [
    ("vp-wrong-nonce", "nonce.mismatch"),
    ("vp-signature-flipped", "signature.invalid"),
    ("vp-alg-none", "alg.not_allowed"),
])
async def test_invalid_is_200_with_code(client: TestClient[Any, Any], name: str,
                                        code: str) -> None:
    v = load(EBSI / f"{name}.json")
    data = await _verify(client, {"presentation": v["input"], "nonce": v["nonce"],
                                  "audience": v["audience"], "at": v["verify_at"],
                                  "policy": RELAXED})
    assert data["verdict"] == "invalid"
    codes = [c["code"] for c in data["checks"]]
    codes += [c["code"] for cred in data["credentials"] for c in cred["checks"]]
    assert code in codes


async def test_default_policy_without_registry_is_indeterminate(
        client: TestClient[Any, Any]) -> None:
    data = await _verify(client, {"credential": VC_OK["input"], "at": VC_OK["verify_at"]})
    assert data["verdict"] in {"indeterminate", "invalid"}
    assert data["verdict"] != "valid"


async def test_raw_compact_jwt_body(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/v1/verify", data=VP_OK["input"],
                             headers={"Content-Type": "application/jwt"})
    assert resp.status == 200
    data = await resp.json()
    assert data["holder"] == VP_OK["holder_did"]  # routed as a presentation
    assert data["verdict"] != "valid"  # defaults: no registry here, and the VP is old
    resp = await client.post("/v1/verify", data=VC_OK["input"],
                             headers={"Content-Type": "application/jwt"})
    data = await resp.json()
    assert data["holder"] is None and len(data["credentials"]) == 1


@pytest.mark.parametrize(("body", "code"), [
    ({}, "request.nothing_to_verify"),
    ({"presentation": "a.b.c", "credential": "a.b.c"}, "request.nothing_to_verify"),
    ({"credential": "a.b.c", "nonse": "typo"}, "request.schema"),
    ({"credential": "a.b.c", "policy": {"check_status": "maybe"}}, "request.schema"),
    ({"credential": "a.b.c", "policy": {"skip_everything": True}}, "request.schema"),
    ({"credential": "a.b.c", "at": "yesterday"}, "request.schema"),
    ({"credential": 42}, "request.schema"),
])
async def test_unusable_requests_are_problems(client: TestClient[Any, Any],
                                              body: dict[str, Any], code: str) -> None:
    resp = await client.post("/v1/verify", json=body)
    assert resp.status == 400
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["code"] == code


async def test_garbage_jwt_body_is_a_problem(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/v1/verify", data="not-a-jwt",
                             headers={"Content-Type": "application/jwt"})
    assert resp.status == 400
    assert (await resp.json())["code"] == "request.malformed_jwt"


async def test_unparseable_credential_is_an_invalid_verdict(client: TestClient[Any, Any]) -> None:
    data = await _verify(client, {"credential": "eyJhbGciOiJFZERTQSJ9.bm90IGpzb24.c2ln"})
    assert data["verdict"] == "invalid"
    assert data["credentials"][0]["checks"][0]["code"] == "credential.malformed"


async def test_second_identical_request_is_cached(client: TestClient[Any, Any]) -> None:
    body = {"credential": VC_OK["input"], "at": VC_OK["verify_at"], "policy": RELAXED}
    first = await _verify(client, body)
    second = await _verify(client, body)
    assert first["cached"] is False and second["cached"] is True
    assert second["verdict"] == first["verdict"] == "valid"
    other_policy = await _verify(client, {**body, "policy": {**RELAXED, "clock_skew_seconds": 5}})
    assert other_policy["cached"] is False


@pytest.mark.redis
async def test_result_cache_shared_through_redis(make_client: ClientFactory,
                                                 redis_url: str, tmp_path: Path) -> None:
    """Two nodes of one registry (one store) on one Redis: the second node answers from the
    first node's result. (Nodes of *different* stores never do: test_store_identity.)"""
    shared = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    node_a = await make_client(redis_url=redis_url, database_url=shared)
    node_b = await make_client(redis_url=redis_url, database_url=shared)
    body = {"presentation": VP_OK["input"], "nonce": VP_OK["nonce"],
            "audience": VP_OK["audience"], "at": VP_OK["verify_at"], "policy": RELAXED}
    first = await _verify(node_a, body)
    second = await _verify(node_b, body)
    assert first["verdict"] == "valid" and first["cached"] is False
    assert second["cached"] is True and second["verdict"] == "valid"
    changed = await _verify(node_b, {**body, "nonce": "another"})
    assert changed["cached"] is False and changed["verdict"] == "invalid"


async def test_access_log_records_verdict(client: TestClient[Any, Any],
                                          caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.INFO):
        await _verify(client, {"credential": VC_OK["input"], "at": VC_OK["verify_at"],
                               "policy": RELAXED})
    lines = [json.loads(r.getMessage()) for r in caplog.records
             if r.getMessage().startswith('{"event": "request"')]
    assert any(line.get("verdict") == "valid" and line["route"] == "/v1/verify"
               for line in lines)
    assert all(VC_OK["input"][:40] not in r.getMessage() for r in caplog.records)


async def test_openapi_documents_verify(client: TestClient[Any, Any]) -> None:
    doc = await (await client.get("/openapi.json")).json()
    op = doc["paths"]["/v1/verify"]["post"]
    assert set(op["requestBody"]["content"]) == {"application/json", "application/jwt"}
    schema = doc["components"]["schemas"]["VerifyRequest"]
    assert {"presentation", "credential", "nonce", "audience", "at", "policy"} <= set(
        schema["properties"])


async def test_registry_change_event_drops_cached_results(client: TestClient[Any, Any]) -> None:
    events_mod = pytest.importorskip("trustbridge.registry.events")
    body = {"credential": VC_OK["input"], "at": VC_OK["verify_at"], "policy": RELAXED}
    await _verify(client, body)
    assert (await _verify(client, body))["cached"] is True
    events = events_mod.events_of(client.server.app["services"])
    await events.wait_listening()
    await events.publish([VC_OK["issuer_did"]], epoch=10_000)
    for _ in range(50):
        data = await _verify(client, body)
        if not data["cached"]:
            break
        await asyncio.sleep(0.02)
    assert data["cached"] is False
