"""End-to-end OpenID4VP flows over real HTTP on 127.0.0.1: HR system, verifier, test wallet."""

from __future__ import annotations

import asyncio
import importlib.util
import json
import time
from typing import Any
from urllib.parse import quote, urlsplit

import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient

from tests.oid4vp.wallet import DEGREE, TestWallet, jwt_parts, request_uri_of, verify_request_object
from trustbridge.oid4vp.webhook import SIGNATURE_HEADER, verify_signature

PIPELINE = importlib.util.find_spec("trustbridge.verify.pipeline") is not None
LDP = PIPELINE and importlib.util.find_spec("trustbridge.formats.ldp") is not None
RELAXED = {"require_accredited_issuer": False, "check_status": False, "check_schema": False}
Client = TestClient[Any, Any]


async def create(client: Client, **body: Any) -> dict[str, Any]:
    body.setdefault("types", [DEGREE])
    body.setdefault("policy", RELAXED)
    body = {k: v for k, v in body.items() if v is not None}
    resp = await client.post("/v1/presentation-requests", json=body)
    assert resp.status == 201, await resp.text()
    return dict(await resp.json())


async def fetch_request(client: Client, created: dict[str, Any]) -> dict[str, Any]:
    """The wallet scans the QR link, fetches the request object and checks its signature."""
    request_uri = request_uri_of(created["authorization_request"]["deep_link"])
    resp = await client.session.get(request_uri)
    assert resp.status == 200
    assert resp.content_type == "application/oauth-authz-req+jwt"
    return verify_request_object(await resp.text(), created["client_id"])


async def post_response(client: Client, request: dict[str, Any],
                        fields: dict[str, str]) -> tuple[int, dict[str, Any]]:
    path = urlsplit(request["response_uri"]).path
    resp = await client.post(path, data=fields)
    expected = "application/json" if resp.status == 200 else "application/problem+json"
    assert resp.content_type == expected
    return resp.status, dict(await resp.json())


async def status(client: Client, created: dict[str, Any]) -> dict[str, Any]:
    resp = await client.get(f"/v1/presentation-requests/{created['id']}")
    assert resp.status == 200
    return dict(await resp.json())


def assert_verified(view: dict[str, Any]) -> None:
    """``verified`` with a valid report; without the pipeline installed, the honest
    ``indeterminate`` (``verification.unavailable``) and nothing else."""
    if PIPELINE:
        problems = [c for c in (view.get("report") or {}).get("checks", [])
                    if c["status"] != "passed" and c["status"] != "skipped"]
        assert view["status"] == "verified", (view["error"], problems)
        assert view["verdict"] == "valid"
        return
    assert view["status"] == "failed", view
    assert view["verdict"] == "indeterminate"
    bad = [c["code"] for c in view["report"]["checks"] if c["status"] != "passed"]
    assert bad == ["verification.unavailable"]


async def test_jwt_presentation_dcql_end_to_end(client: Client) -> None:
    wallet = TestWallet()
    created = await create(client, redirect_uri="https://hr.example/done")
    assert created["status"] == "pending"
    assert created["client_id"].startswith("decentralized_identifier:did:jwk:")
    request = await fetch_request(client, created)
    assert request["response_mode"] == "direct_post"
    assert request["response_type"] == "vp_token"
    assert request["aud"] == "https://self-issued.me/v2"
    assert len(request["nonce"]) >= 43
    status_code, answer = await post_response(client, request,
                                              await wallet.vp_token_for(request))
    view = await status(client, created)
    assert_verified(view)
    if PIPELINE:
        assert status_code == 200
        assert answer["redirect_uri"].startswith("https://hr.example/done#response_code=")
    checks = {c["check"] for c in view["report"]["checks"]}
    assert {"oid4vp.submission", "oid4vp.binding"} <= checks


async def test_request_by_value_is_the_same_signed_request(client: Client) -> None:
    created = await create(client)
    by_value = created["authorization_request"]["by_value"]
    claims = verify_request_object(by_value["request"], created["client_id"])
    assert claims["dcql_query"]["credential_sets"][0]["options"] == [["jwt_vc_json"], ["ldp_vc"]]
    assert created["authorization_request"]["deep_link_by_value"].startswith("openid4vp://?")


@pytest.mark.skipif(not LDP, reason="needs the JSON-LD format in the pipeline")
async def test_ldp_presentation_end_to_end(client: Client) -> None:
    wallet = TestWallet()
    created = await create(client, formats=["ldp_vc"])
    request = await fetch_request(client, created)
    await post_response(client, request, await wallet.vp_token_for(request))
    assert_verified(await status(client, created))


async def test_presentation_exchange_definition(client: Client) -> None:
    wallet = TestWallet()
    definition = {
        "id": "degree-check",
        "input_descriptors": [{
            "id": "degree",
            "format": {"jwt_vc_json": {"alg": ["EdDSA"]}, "jwt_vp_json": {"alg": ["EdDSA"]}},
            "constraints": {"fields": [
                {"path": ["$.vc.type", "$.type"],
                 "filter": {"type": "array", "contains": {"const": DEGREE}}},
                {"path": ["$.vc.credentialSubject.degree.name"], "filter": {"type": "string"}},
            ]},
        }],
    }
    created = await create(client, types=None, presentation_definition=definition)
    request = await fetch_request(client, created)
    assert request["presentation_definition"]["id"] == "degree-check"
    await post_response(client, request, await wallet.vp_token_for(request))
    assert_verified(await status(client, created))


async def test_replayed_response_is_refused(client: Client) -> None:
    wallet = TestWallet()
    created = await create(client)
    request = await fetch_request(client, created)
    fields = await wallet.vp_token_for(request)
    await post_response(client, request, fields)
    code, answer = await post_response(client, request, fields)
    assert code == 400
    assert answer["error"] == "invalid_request"
    view = await status(client, created)
    assert view["rejected_responses"][-1]["code"] in ("session.already_used", "nonce.replayed")
    assert view["status"] in ("verified", "failed")
    # the request object is no longer served either
    resp = await client.session.get(created["request_uri"])
    assert resp.status == 400
    assert (await resp.json())["code"] == "session.already_used"


async def test_concurrent_responses_have_one_winner(client: Client) -> None:
    wallet = TestWallet()
    created = await create(client)
    request = await fetch_request(client, created)
    fields = await wallet.vp_token_for(request)
    results = await asyncio.gather(*(post_response(client, request, fields) for _ in range(6)))
    refused = [a for code, a in results if code == 400 and a.get("error") == "invalid_request"
              and "already" in a.get("error_description", "")]
    assert len(refused) >= 5
    view = await status(client, created)
    codes = {r["code"] for r in view["rejected_responses"]}
    assert codes <= {"nonce.replayed", "session.already_used"}
    assert len(view["rejected_responses"]) == 5


@pytest.mark.parametrize(("override", "code"), [
    ({"nonce": "not-the-nonce"}, "nonce.mismatch"),
    ({"aud": "decentralized_identifier:did:example:someone-else"}, "audience.mismatch"),
])
async def test_binding_mismatch_fails_session(client: Client, override: dict[str, str],
                                              code: str) -> None:
    wallet = TestWallet()
    created = await create(client)
    request = await fetch_request(client, created)
    status_code, answer = await post_response(client, request,
                                              await wallet.vp_token_for(request, **override))
    assert status_code == 400
    assert answer["error"] == "invalid_request"
    view = await status(client, created)
    assert view["status"] == "failed"
    assert view["error"]["code"] == code


async def test_submission_not_matching_definition(client: Client) -> None:
    wallet = TestWallet()
    created = await create(client, types=["DiplomaSupplement"])
    request = await fetch_request(client, created)
    status_code, answer = await post_response(client, request, await wallet.vp_token_for(request))
    assert status_code == 400
    assert answer["error"] == "invalid_request"
    view = await status(client, created)
    assert view["status"] == "failed"
    assert view["error"]["code"] == "oid4vp.submission_mismatch"


async def test_schema_requirement(client: Client) -> None:
    wallet = TestWallet()
    created = await create(client, schema="https://schemas.example/degree.json")
    request = await fetch_request(client, created)
    vc = wallet.jwt_vc(schema="https://schemas.example/other.json")
    status_code, _ = await post_response(client, request,
                                         await wallet.vp_token_for(request, vc=vc))
    assert status_code == 400
    assert (await status(client, created))["error"]["code"] == "oid4vp.submission_mismatch"


async def test_missing_vp_token_and_wrong_state(client: Client) -> None:
    created = await create(client)
    request = await fetch_request(client, created)
    code, answer = await post_response(client, request, {"state": "forged"})
    assert (code, answer["error"]) == (400, "invalid_request")
    view = await status(client, created)
    assert view["status"] == "pending"  # a forged state cannot end someone's session
    assert view["rejected_responses"][0]["code"] == "state.mismatch"
    code, _ = await post_response(client, request, {"state": request["state"]})
    assert code == 400
    view = await status(client, created)
    assert (view["status"], view["error"]["code"]) == ("failed", "oid4vp.vp_token_missing")


@pytest.mark.parametrize("state", ["¢ý\U000318360\x00(", "\udcff", "𝖘𝖙𝖆𝖙𝖊"])
async def test_non_ascii_state_is_a_mismatch_not_a_crash(client: Client, state: str) -> None:
    """Regression (found by schemathesis): compare_digest raised TypeError on non-ASCII str."""
    created = await create(client)
    request = await fetch_request(client, created)
    resp = await client.post(
        f"/v1/presentation-requests/{created['id']}/response",
        data=f"state={quote(state, errors='surrogatepass')}&error=",
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    )
    assert resp.status == 400, await resp.text()
    assert request["state"] != state


async def test_repeated_format_in_simple_form_is_accepted(client: Client) -> None:
    """Regression (found by schemathesis): duplicate formats produced duplicate DCQL ids, a 500."""
    created = await create(client, formats=["jwt_vc_json", "ldp_vc", "jwt_vc_json"])
    request = await fetch_request(client, created)
    dcql = request["dcql_query"]
    dcql = json.loads(dcql) if isinstance(dcql, str) else dcql
    assert [c["format"] for c in dcql["credentials"]] == ["jwt_vc_json", "ldp_vc"]


async def test_wallet_error_response_ends_session(client: Client) -> None:
    created = await create(client)
    request = await fetch_request(client, created)
    code, answer = await post_response(client, request, {
        "state": request["state"], "error": "access_denied",
        "error_description": "user declined"})
    assert (code, answer) == (200, {})
    view = await status(client, created)
    assert (view["status"], view["error"]["code"]) == ("failed", "wallet.access_denied")


async def test_json_body_is_refused_with_oauth_error(client: Client) -> None:
    created = await create(client)
    request = await fetch_request(client, created)
    resp = await client.post(urlsplit(request["response_uri"]).path,
                             json={"state": request["state"], "vp_token": "x"})
    assert resp.status == 400
    assert (await resp.json())["error"] == "invalid_request"


async def test_oversized_response_is_refused(make_client: Any) -> None:
    client = await make_client(oid4vp_max_response_bytes=2048)
    created = await create(client)
    request = await fetch_request(client, created)
    code, answer = await post_response(client, request,
                                       {"state": request["state"], "vp_token": "a" * 5000})
    assert code == 413
    assert answer["error"] == "invalid_request"
    view = await status(client, created)
    assert view["rejected_responses"][0]["code"] == "oid4vp.response_too_large"


@pytest.mark.skipif(not PIPELINE, reason="needs trustbridge.verify.pipeline")
async def test_credential_failing_verification(client: Client) -> None:
    wallet = TestWallet()
    created = await create(client)
    request = await fetch_request(client, created)
    code, _ = await post_response(
        client, request, await wallet.vp_token_for(request, vc=wallet.jwt_vc(tamper=True)))
    assert code == 400
    view = await status(client, created)
    assert view["status"] == "failed"
    assert view["verdict"] == "invalid"
    assert view["error"]["code"] == "verification.invalid"


async def test_expired_session(client: Client) -> None:
    wallet = TestWallet()
    created = await create(client, expires_in=1)
    request = await fetch_request(client, created)
    fields = await wallet.vp_token_for(request)
    await asyncio.sleep(1.1)
    assert (await status(client, created))["status"] == "expired"
    code, answer = await post_response(client, request, fields)
    assert code == 400
    assert answer["error"] == "invalid_request"
    resp = await client.session.get(created["request_uri"])
    assert (await resp.json())["code"] == "session.expired"
    view = await status(client, created)
    assert view["status"] == "expired"
    assert view["rejected_responses"][-1]["code"] == "session.expired"


async def test_unknown_request(client: Client) -> None:
    resp = await client.get("/v1/presentation-requests/doesnotexist123")
    assert resp.status == 404
    assert resp.content_type == "application/problem+json"
    assert (await resp.json())["code"] == "session.unknown"
    resp = await client.post("/v1/presentation-requests/doesnotexist123/response",
                             data={"state": "x"})
    assert resp.status == 404
    assert (await resp.json())["error"] == "invalid_request"


async def test_create_validation(client: Client) -> None:
    bad = [
        {},
        {"types": [DEGREE], "dcql_query": {"credentials": [
            {"id": "a", "format": "jwt_vc_json", "meta": {}}]}},
        {"dcql_query": {"credentials": [{"id": "a", "format": "mso_mdoc", "meta": {}}]}},
        {"presentation_definition": {"id": "x", "input_descriptors": [
            {"id": "d", "constraints": {"fields": [{"path": ["$..type"]}]}}]}},
        {"types": [DEGREE], "webhook_url": "http://127.0.0.1:9/hook"},
        {"types": [DEGREE], "webhook_url": "https://10.0.0.1/hook"},
    ]
    for body in bad:
        resp = await client.post("/v1/presentation-requests", json=body)
        assert resp.status == 400, body
        assert resp.content_type == "application/problem+json"


async def test_unsigned_redirect_uri_prefix(client: Client) -> None:
    wallet = TestWallet()
    created = await create(client, client_id_prefix="redirect_uri")
    assert created["client_id"] == "redirect_uri:" + created["response_uri"]
    by_value = created["authorization_request"]["by_value"]
    assert "request" not in by_value
    assert json.loads(by_value["dcql_query"])["credentials"]
    resp = await client.session.get(created["request_uri"])
    token = await resp.text()
    header, claims = jwt_parts(token)
    assert header == {"alg": "none", "typ": "oauth-authz-req+jwt"}
    assert token.endswith(".")
    await post_response(client, claims, await wallet.vp_token_for(claims))
    assert_verified(await status(client, created))


async def test_qr_codes(client: Client) -> None:
    created = await create(client)
    png = await client.session.get(created["qr_png"])
    assert png.status == 200
    assert png.content_type == "image/png"
    assert (await png.read()).startswith(b"\x89PNG\r\n\x1a\n")
    svg = await client.session.get(created["qr_svg"])
    assert svg.content_type == "image/svg+xml"
    assert b"<svg" in await svg.read()


async def test_server_sent_events_follow_the_session(client: Client) -> None:
    wallet = TestWallet()
    created = await create(client)
    request = await fetch_request(client, created)
    events = await client.session.get(created["events_url"])
    assert events.content_type == "text/event-stream"
    first = await events.content.readuntil(b"\n\n")
    assert b'"status":"pending"' in first
    fields = await wallet.vp_token_for(request)
    await post_response(client, request, fields)
    rest = (await asyncio.wait_for(events.content.read(), timeout=10)).decode()
    statuses = [json.loads(line[6:])["status"] for line in rest.splitlines()
                if line.startswith("data: ")]
    assert statuses[-1] in ("verified", "failed")
    events.release()


async def test_webhook_signed_and_retried(make_client: Any) -> None:
    received: list[tuple[bytes, str]] = []

    async def hook(request: web.Request) -> web.Response:
        received.append((await request.read(), request.headers[SIGNATURE_HEADER]))
        return web.Response(status=503 if len(received) == 1 else 204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    try:
        client = await make_client(oid4vp_webhook_allow_private=True,
                                   oid4vp_webhook_backoff_seconds=0.05)
        wallet = TestWallet()
        secret = "s3cret-shared-with-hr-system"
        created = await create(client, webhook_url=f"http://127.0.0.1:{port}/hook",
                               webhook_secret=secret)
        assert created["webhook_secret"] is None  # the HR system chose it
        request = await fetch_request(client, created)
        await post_response(client, request, await wallet.vp_token_for(request))
        for _ in range(100):
            view = await status(client, created)
            if view["webhook"]["delivered"]:
                break
            await asyncio.sleep(0.05)
        assert view["webhook"] == {"url": f"http://127.0.0.1:{port}/hook", "delivered": True,
                                   "attempts": 2, "last_error": None}
        body, signature = received[-1]
        assert verify_signature(secret, signature, body, now=int(time.time()))
        assert not verify_signature("wrong-secret-xxxxxxxx", signature, body,
                                    now=int(time.time()))
        event = json.loads(body)
        assert event["id"] == created["id"]
        assert event["status"] == view["status"]
    finally:
        await runner.cleanup()


@pytest.mark.redis
async def test_two_nodes_share_one_redis(make_client: Any, redis_url: str) -> None:
    """Created on node A, request fetched from A, response posted to node B, polled on A."""
    node_a = await make_client(redis_url=redis_url)
    node_b = await make_client(redis_url=redis_url)
    wallet = TestWallet()
    created = await create(node_a)
    request = await fetch_request(node_a, created)
    status_code, _ = await post_response(node_b, request, await wallet.vp_token_for(request))
    view_a = await status(node_a, created)
    assert_verified(view_a)
    assert status_code == (200 if PIPELINE else 400)
    assert view_a == await status(node_b, created)
    # the replay goes to node A this time: the nonce was consumed on B
    code, answer = await post_response(node_a, request, await wallet.vp_token_for(request))
    assert code == 400
    assert answer["error"] == "invalid_request"
