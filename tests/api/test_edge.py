"""The HTTP edge: problem+json everywhere, limits, request ids, metrics, OpenAPI.

The garbage tests enumerate every POST endpoint from the live OpenAPI document,
so each endpoint added later is covered without a new test.
"""

from __future__ import annotations

import io
import json
import re
import socket
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import ClientFactory

PROBLEM = "application/problem+json"


def assert_problem(resp_status: int, ctype: str, body: dict[str, Any], status: int) -> None:
    assert resp_status == status
    assert ctype == PROBLEM
    assert body["status"] == status
    assert isinstance(body["code"], str) and "." in body["code"]
    assert body["type"].endswith(body["code"])


async def test_health(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/health")
    assert resp.status == 200
    assert (await resp.json())["status"] == "ok"
    assert resp.headers["X-Request-ID"]


async def test_request_id_echoed_when_safe(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/health", headers={"X-Request-ID": "abc-123"})
    assert resp.headers["X-Request-ID"] == "abc-123"
    resp = await client.get("/health", headers={"X-Request-ID": "bad id\twith junk" * 10})
    assert resp.headers["X-Request-ID"] != "bad id\twith junk" * 10


async def test_ready_names_store_and_cache(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/ready")
    assert resp.status == 200
    assert (await resp.json())["checks"] == {"store": "ok", "cache": "ok",
                                             "registry_sync": "ok: 0 peers"}


async def test_ready_reports_a_failing_sync_peer_but_stays_ready(make_client: ClientFactory
                                                                 ) -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        peer = f"http://127.0.0.1:{s.getsockname()[1]}"  # nobody listens once closed
    client = await make_client(sync_mirror_peers=[peer], did_web_allow_private=True)
    await client.server.app["services"].components["sync"].mirror_all()
    resp = await client.get("/ready")
    assert resp.status == 200
    body = await resp.json()
    assert body["status"] == "ready"
    assert body["checks"]["registry_sync"] == f"lagging: 1 of 1 peers failing ({peer})"


@pytest.mark.redis
async def test_ready_503_names_failing_cache(make_client: ClientFactory, redis_url: str) -> None:
    import subprocess

    from tests.conftest import free_port

    port = free_port()
    proc = subprocess.Popen(["redis-server", "--port", str(port), "--save", "", "--appendonly",
                             "no"], stdout=subprocess.DEVNULL)
    try:
        import asyncio

        for _ in range(100):
            try:
                _r, w = await asyncio.open_connection("127.0.0.1", port)
                w.close()
                break
            except OSError:
                await asyncio.sleep(0.05)
        # without the in-process fallback (with it, /ready says "degraded": tests/hostile)
        client = await make_client(redis_url=f"redis://127.0.0.1:{port}/0",
                                   redis_fallback_seconds=0)
        assert (await client.get("/ready")).status == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    resp = await client.get("/ready")
    body = await resp.json(content_type=None)
    assert_problem(resp.status, resp.content_type, body, 503)
    assert "cache" in body["detail"] and body["checks"]["store"] == "ok"


async def test_unknown_route_and_method_are_problems(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/no/such/route")
    assert_problem(resp.status, resp.content_type, await resp.json(content_type=None), 404)
    resp = await client.delete("/health")
    body = await resp.json(content_type=None)
    assert_problem(resp.status, resp.content_type, body, 405)
    assert body["code"] == "method.not_allowed"


async def test_metrics_counts_requests(client: TestClient[Any, Any]) -> None:
    await client.get("/health")
    await client.get("/nope")
    text = await (await client.get("/metrics")).text()
    assert 'trustbridge_http_requests_total{method="GET",route="/health",status="200"} 1' in text
    assert 'route="unmatched",status="404"' in text
    assert "trustbridge_http_request_duration_seconds_bucket" in text


async def test_openapi_lists_every_route(client: TestClient[Any, Any]) -> None:
    doc = await (await client.get("/openapi.json")).json()
    assert doc["openapi"].startswith("3.1")
    documented = {(m.upper(), p) for p, ops in doc["paths"].items() for m in ops}
    app = client.server.app
    assert app is not None
    import re

    from trustbridge.api.system import _endpoints_key

    # routes declared include_in_schema=False (HTML pages, their assets) are left out on purpose
    def plain(path: str) -> str:
        return re.sub(r"\{(\w+)(?::[^}]*)?\}", r"{\1}", path)

    excluded = {(ep.method, plain(ep.path)) for ep in app[_endpoints_key]
                if not ep.include_in_schema}
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        path = plain(route.resource.canonical)
        if (route.method, path) in excluded:
            continue
        assert (route.method, path) in documented, f"{route.method} {path} missing in OpenAPI"


def _refs(node: Any) -> set[str]:
    if isinstance(node, dict):
        own = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return own.union(*(_refs(v) for v in node.values()))
    if isinstance(node, list):
        return set().union(*(_refs(v) for v in node))
    return set()


async def test_every_openapi_ref_resolves_in_every_app_of_the_process(
        make_client: ClientFactory) -> None:
    """Model schemas are generated once per process (``api.openapi._schema_text``); each app
    still gets whole components, nested models included, and documents equal to the first."""
    docs = []
    for _ in range(2):
        client = await make_client()
        docs.append(await (await client.get("/openapi.json")).json())
    assert docs[0] == docs[1]
    for doc in docs:
        refs = _refs(doc)
        assert len(refs) > 40
        prefix = "#/components/schemas/"
        missing = {r for r in refs if not (r.startswith(prefix)
                                           and r[len(prefix):] in doc["components"]["schemas"])}
        assert not missing, missing


async def test_docs_page_offline(client: TestClient[Any, Any]) -> None:
    resp = await client.get("/docs")
    html = await resp.text()
    assert resp.status == 200 and "/openapi.json" in html
    assert "https://" not in html.split("<body>", 1)[1].replace("https://trustbridge", "")


async def _post_endpoints(client: TestClient[Any, Any]) -> list[str]:
    doc = await (await client.get("/openapi.json")).json()
    paths = []
    for path, ops in doc["paths"].items():
        if "post" in ops:
            paths.append(re.sub(r"\{(\w+)\}", r"unknown-\1", path))
    return paths


GARBAGE: list[tuple[str, bytes, str]] = [
    ("invalid json", b'{"presentation": ', "application/json"),
    ("not json at all", b"\x00\xff\xfe garbage", "application/json"),
    ("deep nesting", b"[" * 10_000 + b"]" * 10_000, "application/json"),
    ("deep object nesting", b'{"a":' * 10_000 + b"1" + b"}" * 10_000, "application/json"),
    ("wrong content type", b"<xml/>", "application/xml"),
    ("json array", b"[1,2,3]", "application/json"),
    ("NaN constant", b'{"x": NaN}', "application/json"),
    ("huge number", b'{"x": ' + b"9" * 5000 + b"}", "application/json"),
]


@pytest.mark.parametrize(("label", "body", "ctype"), GARBAGE, ids=[g[0] for g in GARBAGE])
async def test_garbage_to_every_post_endpoint_is_4xx_problem(
    client: TestClient[Any, Any], label: str, body: bytes, ctype: str
) -> None:
    for path in await _post_endpoints(client):
        resp = await client.post(path, data=body, headers={"Content-Type": ctype})
        text = await resp.text()
        assert 400 <= resp.status < 500, f"{label} -> {path}: {resp.status} {text[:200]}"
        assert resp.content_type == PROBLEM, f"{label} -> {path}: {resp.content_type}"
        assert json.loads(text)["code"]


async def test_oversized_body_is_413_everywhere(client: TestClient[Any, Any]) -> None:
    big = b'{"x": "' + b"a" * (10 * 1024 * 1024) + b'"}'
    paths = await _post_endpoints(client)
    for path in paths or ["/health"]:
        resp = await client.post(path, data=io.BytesIO(big),
                                 headers={"Content-Type": "application/json"})
        body = await resp.json(content_type=None)
        if not paths:  # no POST endpoint yet: still must not be a 500
            assert resp.status in (405, 413)
            continue
        # A route naming an unknown (or disabled) resource may answer 404 before reading.
        assert_problem(resp.status, resp.content_type, body, 404 if resp.status == 404 else 413)


def test_json_depth_scanner_ignores_brackets_in_strings() -> None:
    from trustbridge.api.body import json_depth_exceeds, parse_json_bytes
    from trustbridge.errors import InputError

    assert not json_depth_exceeds(b'{"a": "[[[[[[[[[[[[[[[["}', 3)
    assert json_depth_exceeds(b'{"a": [[[1]]]}', 3)
    assert parse_json_bytes(b'{"s": "\\"[[[["}', max_depth=2) == {"s": '"[[[['}
    with pytest.raises(InputError) as err:
        parse_json_bytes(b"[" * 100 + b"]" * 100, max_depth=64)
    assert err.value.code == "request.too_deep"


async def test_every_answer_carries_a_request_id_and_is_counted(
        make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The one edge middleware: a fresh id (32 hex digits) or the caller's safe one on every
    answer -- 200, a problem raised by a handler or by aiohttp, an unhandled error -- and
    each answer counted under its route and final status."""
    client = await make_client()
    ok = await client.get("/health")
    assert re.fullmatch(r"[0-9a-f]{32}", ok.headers["X-Request-ID"])
    assert ok.headers["X-Request-ID"] != (await client.get("/health")).headers["X-Request-ID"]
    bad = await client.post("/v1/verify", json={"presentation": "a.b.c", "credential": "a.b.c"},
                            headers={"X-Request-ID": "mine-1"})
    assert (bad.status, bad.headers["X-Request-ID"]) == (400, "mine-1")
    assert (await bad.json(content_type=None))["code"] == "request.nothing_to_verify"
    missing = await client.get("/nope", headers={"X-Request-ID": "mine-2"})
    assert (missing.status, missing.headers["X-Request-ID"]) == (404, "mine-2")

    async def boom(request: Any) -> Any:
        raise RuntimeError("boom")

    app = client.server.app
    assert app is not None
    route = next(r for r in app.router.routes() if r.resource is not None
                 and r.resource.canonical == "/health" and r.method == "GET")
    monkeypatch.setattr(route, "_handler", boom)
    crash = await client.get("/health", headers={"X-Request-ID": "mine-3"})
    problem = await crash.json(content_type=None)
    assert (crash.status, crash.headers["X-Request-ID"]) == (500, "mine-3")
    assert crash.content_type == PROBLEM and problem["code"] == "internal.error"
    assert problem["instance"] == "/health"
    monkeypatch.undo()
    text = await (await client.get("/metrics")).text()
    for line in ('{method="GET",route="/health",status="200"} 2',
                 '{method="POST",route="/v1/verify",status="400"} 1',
                 '{method="GET",route="unmatched",status="404"} 1',
                 '{method="GET",route="/health",status="500"} 1'):
        assert "trustbridge_http_requests_total" + line in text, line


async def test_feature_gates_act_only_on_their_requests(make_client: ClientFactory) -> None:
    """Idempotency and receipts wrap the handler only for POSTs to their paths that carry
    their header; the same header elsewhere changes nothing."""
    client = await make_client()
    for headers in ({"Idempotency-Key": "k"}, {"TrustBridge-Receipt": "true"}):
        resp = await client.get("/health", headers=headers)
        assert resp.status == 200
        assert "Idempotent-Replayed" not in resp.headers
        assert "TrustBridge-Receipt" not in resp.headers
    body = {"presentation": "a.b.c", "credential": "a.b.c"}
    first = await client.post("/v1/verify", json=body, headers={"Idempotency-Key": "k"})
    again = await client.post("/v1/verify", json=body, headers={"Idempotency-Key": "k"})
    assert first.status == again.status == 400
    assert "Idempotent-Replayed" not in again.headers  # 4xx raised: the key was freed
    reused = await client.post("/v1/verify", json={}, headers={"Idempotency-Key": " "})
    assert (await reused.json(content_type=None))["code"] == "idempotency.key_invalid"
