"""Faults injected under a running service (real sockets on 127.0.0.1, real servers).

* Redis SIGKILLed mid-run (twice): verification goes on from the in-process cache -- 200 with
  the right verdict, never a 503/500; ``/ready`` says ``degraded`` with the reason while it
  is gone; OpenID4VP sessions and Idempotency-Key records fail closed (503 problem+json);
  back on the same port, the same app returns to Redis by itself. Without the fallback
  (``redis_fallback_seconds=0``) the answer is an honest 503.
* PostgreSQL refusing connections (then dropped): ``/ready`` 503 naming the store, reads
  answer 503 problem+json, never 500; the service recovers without a restart.
* Slow (slowloris), hanging and endless status-list and did:web servers over local HTTPS:
  ``indeterminate`` with the reason, within the fetch timeout, never ``valid``.
"""

from __future__ import annotations

import asyncio
import ssl
import subprocess
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web

from tests.cache.redis_proc import RedisProcess
from tests.conftest import PG_ADMIN, ROOT, ClientFactory, free_port
from tests.hostile.test_forgery_corpus import fc
from tests.status.test_https_status import GEN  # the committed vector generator

DEMO = fc.bases()
DEMO_VC = next(b for b in DEMO if b.name == "demo-vc")
SCHEMAS = {"schema_store_dir": ROOT / "fixtures" / "ebsi" / "schemas",
           "schema_fetch_remote": False}
FORGED = next(m for m in fc.corpus() if m.base.name == "demo-vc" and m.category == "alg")


def _vc_request(second: int, credential: Any = None) -> dict[str, Any]:
    """The demo VC at a distinct instant, so the result cache cannot answer for it."""
    return {"credential": credential or DEMO_VC.input,
            "at": f"2025-06-02T10:{second // 60 % 60:02d}:{second % 60:02d}Z"}


async def _until(client: Any, path: str, status: str, seconds: float = 15) -> dict[str, Any]:
    """Poll ``path`` until its JSON ``status`` is ``status``; the last body."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        resp = await client.get(path)
        body: dict[str, Any] = await resp.json(content_type=None)
        if body.get("status") == status:
            return body
        await asyncio.sleep(0.2)
    raise AssertionError(f"{path} never reported {status}")


DEGREE = "UniversityDegree"


@pytest.mark.redis
async def test_redis_killed_mid_run_verification_continues(
        make_client: ClientFactory, tmp_path: Path,
        hostile_stats: dict[str, dict[str, int]]) -> None:
    """Redis SIGKILLed during a burst, twice: verification goes on from the in-process cache
    (always 200, never a wrong verdict), ``/ready`` says ``degraded`` with the reason;
    OpenID4VP sessions and Idempotency-Key records fail closed (503); after each restart
    the same app is back on Redis by itself."""
    redis = await RedisProcess(free_port()).started()
    try:
        client = await make_client(redis_url=redis.url, redis_fallback_seconds=0.5, **SCHEMAS)
        assert (await client.get("/ready")).status == 200
        outcomes: Counter[str] = Counter()

        async def one(i: int, forged: bool = False) -> None:
            body = _vc_request(i, FORGED.input if forged else None)
            resp = await client.post("/v1/verify", json=body)
            data = await resp.json(content_type=None)
            assert resp.status == 200, (resp.status, data)  # never a 503, never a 500
            verdict = data["verdict"]
            assert verdict == ("invalid" if forged else "valid"), data
            outcomes[verdict] += 1

        async def shared_state_fails_closed() -> None:
            oid4vp = await client.post("/v1/presentation-requests",
                                       json={"types": [DEGREE]})
            idem = await client.post("/v1/verify", json=_vc_request(1),
                                     headers={"Idempotency-Key": f"k-{redis.kills}"})
            for resp in (oid4vp, idem):
                assert resp.status == 503, (resp.status, await resp.text())
                assert resp.content_type == "application/problem+json"
                outcomes["503 shared state"] += 1

        await asyncio.gather(*(one(i) for i in range(20)))
        for round_ in range(2):
            base = 1000 * (round_ + 1)
            # SIGKILL while a burst is in flight
            burst = [asyncio.create_task(one(base + i, forged=i % 3 == 0)) for i in range(60)]
            await asyncio.sleep(0.01)
            redis.kill()
            await asyncio.gather(*burst)
            await asyncio.gather(*(one(base + 100 + i, forged=i % 2 == 0) for i in range(20)))
            ready = await client.get("/ready")
            body = await ready.json()
            assert ready.status == 200 and body["status"] == "degraded", body
            assert "redis unreachable" in body["checks"]["cache"], body
            await shared_state_fails_closed()
            # back on the same port: ready and on Redis again without a restart
            await redis.started()
            await _until(client, "/ready", "ready")
            await one(base + 300)
            created = await client.post("/v1/presentation-requests", json={"types": [DEGREE]})
            assert created.status == 201, await created.text()
        hostile_stats["fault: redis SIGKILL (fallback)"] = {
            "SIGKILLs": redis.kills, "requests": sum(outcomes.values()), "500s": 0,
            "wrong verdicts": 0, **dict(outcomes)}
    finally:
        redis.stop()


@pytest.mark.redis
async def test_redis_killed_without_fallback_is_an_honest_503(
        make_client: ClientFactory) -> None:
    """``redis_fallback_seconds=0``: the old behaviour, 503 problem+json, never a 500."""
    redis = await RedisProcess(free_port()).started()
    try:
        client = await make_client(redis_url=redis.url, redis_fallback_seconds=0, **SCHEMAS)
        redis.kill()
        resp = await client.post("/v1/verify", json=_vc_request(5))
        assert resp.status == 503 and resp.content_type == "application/problem+json"
        ready = await client.get("/ready")
        assert ready.status == 503 and "cache" in (await ready.json(content_type=None))["detail"]
    finally:
        redis.stop()


ADMIN = "faults-admin-token-0123456789"
ISSUER = fc.Keys().issuer.did  # a seeded, accredited issuer


def _psql(sql: str) -> None:
    subprocess.run(["psql", PG_ADMIN, "-qc", sql], check=True, capture_output=True, timeout=30)


@pytest.mark.postgres
@pytest.mark.usefixtures("_pg_admin")
async def test_postgres_unreachable_then_dropped(
        make_client: ClientFactory, hostile_stats: dict[str, dict[str, int]]) -> None:
    name = f"tb_hostile_{uuid.uuid4().hex[:10]}"
    _psql(f"CREATE DATABASE {name}")
    base = PG_ADMIN.rsplit("/", 1)[0]
    reads = ("/trusted-issuers-registry/v5/issuers", "/v1/registry/accreditation?did=x&type=y")
    try:
        client = await make_client(database_url=f"{base}/{name}", admin_token=ADMIN, **SCHEMAS)
        assert (await client.get("/ready")).status == 200
        ok_before = await client.get(reads[0])
        assert ok_before.status == 200
        issuer_before = await (await client.get(f"{reads[0]}/{ISSUER}")).json()
        epoch_before = (await (await client.get("/v1/registry/sync/status")).json())["log"]
        # 1. the database refuses connections and every open one is cut
        _psql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS false")
        _psql("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "  # noqa: S608 -- our name
              f"WHERE datname='{name}'")
        statuses: Counter[int] = Counter()
        writes_refused = 0
        for _ in range(3):
            ready = await client.get("/ready")
            body = await ready.json(content_type=None)
            assert ready.status == 503 and "store" in body["detail"], body
            for path in reads:
                resp = await client.get(path)
                statuses[resp.status] += 1
                assert resp.status in (503, 400, 404), (path, resp.status)
                if resp.status == 503:
                    assert resp.content_type == "application/problem+json"
            resp = await client.post("/v1/verify", json=_vc_request(7))
            statuses[resp.status] += 1
            assert resp.status in (200, 503)
            if resp.status == 200:
                assert (await resp.json())["verdict"] != "invalid"
            # a write while the store is away: 503 problem, and nothing half-applied after
            write = await client.post(f"/v1/registry/issuers/{ISSUER}/revoke", json={},
                                      headers={"Authorization": f"Bearer {ADMIN}"})
            statuses[write.status] += 1
            assert write.status == 503 and write.content_type == "application/problem+json"
            writes_refused += 1
        # 2. it comes back: the same app recovers without a restart
        _psql(f"ALTER DATABASE {name} ALLOW_CONNECTIONS true")
        await _until(client, "/ready", "ready")
        assert (await client.get(reads[0])).status == 200
        assert await (await client.get(f"{reads[0]}/{ISSUER}")).json() == issuer_before
        assert (await (await client.get("/v1/registry/sync/status")).json())["log"] \
            == epoch_before
        # 3. dropped outright: still a 503 problem, never a 500
        _psql(f"DROP DATABASE {name} WITH (FORCE)")
        ready = await client.get("/ready")
        assert ready.status == 503
        resp = await client.get(reads[0])
        assert resp.status == 503 and resp.content_type == "application/problem+json"
        hostile_stats["fault: postgres unreachable/dropped"] = {
            "requests": sum(statuses.values()) + 4, "500s": 0,
            "writes refused": writes_refused, "half-applied": 0}
    finally:
        _psql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


# -- slow, hanging and endless upstreams over local HTTPS --------------------------------------



@pytest.fixture
async def bad_upstream(tmp_path: Path) -> AsyncIterator[tuple[str, Path]]:
    """``/slow`` drips a byte every 0.2 s, ``/hang`` never answers, ``/endless`` streams
    forever, ``/garbage`` answers 200 with noise; for did:web, ``/wrongid`` a DID document
    of another DID, ``/html`` the right document as text/html, ``/nokid`` a good document
    of the DID without the credential's key."""
    ca = trustme.CA()
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))

    async def serve(request: web.Request) -> web.StreamResponse:
        kind = request.path.strip("/").split("/")[0]
        if kind == "hang":
            await asyncio.sleep(60)
        if kind == "garbage":
            return web.Response(body=b"\x00\xffnot a document" * 10,
                                content_type="application/json")
        did = f"did:web:{request.host.replace(':', '%3A')}:{kind}"
        if kind in ("wrongid", "html", "nokid"):
            doc = {"@context": "https://www.w3.org/ns/did/v1",
                   "id": "did:web:elsewhere.example" if kind == "wrongid" else did,
                   "verificationMethod": [], "assertionMethod": []}
            return web.json_response(doc, content_type="text/html" if kind == "html"
                                     else "application/did+json")
        resp = web.StreamResponse(headers={"Content-Type": "application/json"})
        await resp.prepare(request)
        chunk, pause = (b"{" * 65536, 0.0) if kind == "endless" else (b" ", 0.2)
        for _ in range(100_000):
            await resp.write(chunk)
            await asyncio.sleep(pause)
        return resp

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.1)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    yield f"localhost:{runner.addresses[0][1]}", ca_file
    await runner.cleanup()


FETCH_TIMEOUT = 1.0
RELAXED = {"require_accredited_issuer": False, "check_schema": False}


async def _verify_timed(make_client: ClientFactory, ca_file: Path, credential: str, at: str,
                        check: str) -> tuple[str, dict[str, Any]]:
    """Verdict and the named check's result; the whole request bounded by the fetch timeout."""
    client = await make_client(did_web_allow_hosts=["localhost"], did_web_allow_private=True,
                               did_web_ca_file=ca_file, fetch_timeout_seconds=FETCH_TIMEOUT)
    started = time.monotonic()
    resp = await client.post("/v1/verify", json={"credential": credential, "at": at,
                                                 "policy": RELAXED})
    elapsed = time.monotonic() - started
    assert resp.status == 200
    data = await resp.json()
    assert elapsed < FETCH_TIMEOUT + 3, elapsed
    result = next(c for c in data["credentials"][0]["checks"] if c["check"] == check)
    return str(data["verdict"]), dict(result)


@pytest.mark.parametrize("kind", ["slow", "hang", "endless", "garbage"])
async def test_bad_status_list_server_is_indeterminate_in_time(
        kind: str, bad_upstream: tuple[str, Path], make_client: ClientFactory) -> None:
    host, ca_file = bad_upstream
    url = f"https://{host}/{kind}/list"
    credential = GEN.vc(GEN.vc_payload(status=GEN.status_entry(7, url=url)))
    verdict, status = await _verify_timed(make_client, ca_file, credential,
                                          "2026-06-01T00:05:00Z", "status")
    assert verdict == "indeterminate", status  # could not get data: never valid
    assert status["status"] == "error" and status["code"].startswith("status.")


@pytest.mark.parametrize("kind", ["slow", "hang", "endless", "garbage", "wrongid", "html",
                                  "nokid"])
async def test_bad_did_web_host_is_never_valid_and_bounded(
        kind: str, bad_upstream: tuple[str, Path], make_client: ClientFactory) -> None:
    host, ca_file = bad_upstream
    did = f"did:web:{host.replace(':', '%3A')}:{kind}"
    att = fc.Keys().attacker["P-256"]
    vc_payload = fc.dec_segment(str(DEMO_VC.input), 1)
    vc_payload["iss"] = vc_payload["vc"]["issuer"] = did
    token = fc.jws({"alg": "ES256", "typ": "JWT", "kid": f"{did}#key-1"}, vc_payload, att)
    verdict, proof = await _verify_timed(make_client, ca_file, token, "2025-06-02T10:05:00Z",
                                         "credential_proof")
    if kind == "nokid":
        # the host works and the document is the DID's: the key is not there -- bad data
        assert verdict == "invalid" and proof["code"] == "kid.unresolvable", proof
        assert proof["status"] == "failed", proof
    else:  # the host is broken (or slow, or silent): could not get data, never valid
        assert verdict == "indeterminate", proof
        assert proof["status"] == "error" and proof["code"] == "did.unresolvable", proof
