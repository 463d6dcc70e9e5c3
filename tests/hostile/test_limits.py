"""Resource limits and access control at the HTTP edge (real app on 127.0.0.1).

* a 10 MiB body is a 413 before it is read, deep nesting a 400 before it is parsed, a VP
  with more credentials than the cap is ``invalid`` -- all bounded in time;
* fifty concurrent verifications naming the same uncached did:web issuer fetch its DID
  document once (single flight) and all agree;
* every registry write refuses anonymous and wrongly-authorised callers -- with 401 before
  the body is judged; the other write endpoints refuse what they must (signed batches, the
  demo issuer) -- never a 2xx;
* the verification POSTs are rate limited per client (429 ``request.rate_limited`` with
  ``Retry-After``); invented API keys buy no fresh bucket; ``0`` turns the limit off.
"""

from __future__ import annotations

import asyncio
import io
import json
import ssl
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
import trustme
from aiohttp import web

from tests.conftest import ClientFactory
from tests.hostile.test_forgery_corpus import fc
from tests.sync.support import BATCH_TYP, Actor, Hierarchy, Registry, push, sign_compact
from trustbridge.api.ratelimit import TokenBuckets
from trustbridge.hr.tenants import key_digest

ADMIN = "hostile-admin-token-0123456789"
DEMO_VP = fc.bases()[0]


async def test_ten_mib_body_is_413_and_quick(make_client: ClientFactory) -> None:
    client = await make_client()
    body = io.BytesIO(b'{"credential": "' + b"A" * (10 * 1024 * 1024) + b'"}')
    started = time.monotonic()
    resp = await client.post("/v1/verify", data=body,
                             headers={"Content-Type": "application/json"})
    assert resp.status == 413
    assert (await resp.json(content_type=None))["code"]
    assert time.monotonic() - started < 5


async def test_deep_nesting_is_400_before_parsing(make_client: ClientFactory) -> None:
    client = await make_client()
    body = '{"credential": ' + "[" * 100_000 + "]" * 100_000 + "}"
    resp = await client.post("/v1/verify", data=body,
                             headers={"Content-Type": "application/json"})
    assert resp.status == 400
    assert (await resp.json(content_type=None))["code"] == "request.too_deep"


async def test_many_credentials_in_one_vp_are_capped(make_client: ClientFactory) -> None:
    keys = fc.Keys()
    header, payload = fc.dec_segment(DEMO_VP.input, 0), fc.dec_segment(DEMO_VP.input, 1)
    vc = payload["vp"]["verifiableCredential"][0]
    payload["vp"]["verifiableCredential"] = [vc] * 200
    vp = fc.jws(header, payload, keys.holder)
    client = await make_client()
    started = time.monotonic()
    resp = await client.post("/v1/verify", json={"presentation": vp, "nonce": DEMO_VP.nonce,
                                                 "audience": DEMO_VP.audience,
                                                 "at": DEMO_VP.at})
    assert resp.status in (200, 400, 413)
    if resp.status == 200:
        data = await resp.json()
        assert data["verdict"] == "invalid"
        codes = [c["code"] for c in data["checks"]]
        assert "structure.too_many_credentials" in codes, codes
    assert time.monotonic() - started < 10


# -- single flight for one uncached did:web issuer ---------------------------------------------

class DidHost:
    def __init__(self) -> None:
        self.hits = 0
        self.document: dict[str, Any] = {}
        self.authority = ""


@pytest.fixture
async def did_host(tmp_path: Path) -> AsyncIterator[tuple[DidHost, Path]]:
    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    state = DidHost()

    async def serve(_request: web.Request) -> web.Response:
        state.hits += 1
        await asyncio.sleep(0.3)  # slow enough that every request arrives before the answer
        return web.Response(text=json.dumps(state.document), content_type="application/json")

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx).start()
    state.authority = f"localhost%3A{runner.addresses[0][1]}"
    yield state, ca_file
    await runner.cleanup()


async def test_concurrent_requests_for_one_uncached_did_fetch_it_once(
        did_host: tuple[DidHost, Path], make_client: ClientFactory,
        hostile_stats: dict[str, dict[str, int]]) -> None:
    state, ca_file = did_host
    key = fc.Keys().attacker["P-256"]
    did = f"did:web:{state.authority}:issuer"
    vm = {"id": f"{did}#key-1", "type": "JsonWebKey2020", "controller": did,
          "publicKeyJwk": key.jwk}
    state.document = {"@context": ["https://www.w3.org/ns/did/v1"], "id": did,
                      "verificationMethod": [vm], "assertionMethod": [vm["id"]]}
    payload = fc.dec_segment(str(fc.bases()[1].input), 1)
    payload["iss"] = payload["vc"]["issuer"] = did
    token = fc.jws({"alg": "ES256", "typ": "JWT", "kid": f"{did}#key-1"}, payload, key)
    client = await make_client(did_web_allow_hosts=["localhost"], did_web_allow_private=True,
                               did_web_ca_file=ca_file)

    async def one(i: int) -> str:
        resp = await client.post("/v1/verify", json={
            "credential": token, "at": f"2025-06-02T10:05:{i:02d}Z",
            "policy": {"require_accredited_issuer": False, "check_schema": False}})
        assert resp.status == 200
        return str((await resp.json())["verdict"])

    verdicts = await asyncio.gather(*(one(i) for i in range(50)))
    assert set(verdicts) == {"valid"}, verdicts
    assert state.hits == 1, state.hits
    hostile_stats["single flight (one uncached did:web, 50 concurrent)"] = {
        "upstream fetches": state.hits}


# -- access control -----------------------------------------------------------------------------

ATTRIBUTE = {"jwt": "a.b.cdefghijk", "issuerType": "TI"}
NAVARRA = fc.Keys().issuer.did
REGISTRY_WRITES = [
    ("/v1/registry/issuers", {"did": "did:key:z6MkExample", "attributes": [ATTRIBUTE]}),
    (f"/v1/registry/issuers/{NAVARRA}/attributes", {"attributes": [ATTRIBUTE]}),
    (f"/v1/registry/issuers/{NAVARRA}/revoke", {}),
]


@pytest.mark.parametrize(("path", "body"), REGISTRY_WRITES)
@pytest.mark.parametrize("auth", [None, "Bearer wrong-token", "Basic " + ADMIN, "Bearer ",
                                  "bearer " + ADMIN + "x", "Bearer " + ADMIN[:-1]])
async def test_registry_writes_refuse_the_unauthorised(
        make_client: ClientFactory, path: str, body: dict[str, Any], auth: str | None) -> None:
    client = await make_client(admin_token=ADMIN)
    headers = {"Authorization": auth} if auth is not None else {}
    resp = await client.post(path, json=body, headers=headers)
    assert resp.status in (401, 403), (resp.status, await resp.text())
    assert resp.content_type == "application/problem+json"


@pytest.mark.parametrize(("path", "body"), REGISTRY_WRITES)
async def test_registry_writes_authenticate_before_reading_the_body(
        make_client: ClientFactory, path: str, body: dict[str, Any]) -> None:
    """A malformed, non-JSON or unknown-field body from an anonymous or wrong-token caller
    is 401 (no schema error leaks); the body is only judged for the admin."""
    client = await make_client(admin_token=ADMIN)
    bad_bodies: list[Any] = [{"unexpected": True}, [1, 2], b"{not json", b"x" * (512 << 10)]
    for bad in bad_bodies:
        for headers in ({}, {"Authorization": "Bearer wrong-token"}):
            kwargs = {"data": bad, "headers": {**headers, "Content-Type": "application/json"}} \
                if isinstance(bad, bytes) else {"json": bad, "headers": headers}
            resp = await client.post(path, **kwargs)
            assert resp.status == 401, (path, resp.status, await resp.text())
            problem = await resp.json(content_type=None)
            assert resp.content_type == "application/problem+json"
            assert problem["code"] in ("auth.required", "auth.invalid"), problem
    admin = {"Authorization": f"Bearer {ADMIN}"}
    resp = await client.post(path, json={"unexpected": True}, headers=admin)
    assert resp.status in (400, 404), resp.status  # the admin learns what is wrong


async def test_registry_writes_are_off_without_an_admin_token(
        make_client: ClientFactory) -> None:
    client = await make_client()
    for path, body in REGISTRY_WRITES:
        resp = await client.post(path, json=body, headers={"Authorization": "Bearer anything"})
        assert resp.status == 403, (path, resp.status)


async def test_other_writes_refuse_what_they_must(make_client: ClientFactory) -> None:
    client = await make_client()
    unsigned_batch = await client.post("/v1/registry/batches", json={"records": []})
    assert 400 <= unsigned_batch.status < 500
    issue = await client.post("/credentials/issue", json={"credential": {}})
    assert issue.status in (400, 403, 404)
    delete = await client.delete("/v1/jobs/no-such-job")
    assert 400 <= delete.status < 500


# -- rate limits ---------------------------------------------------------------------------------

def test_token_buckets_refill_wait_and_stay_bounded() -> None:
    now = [0.0]
    buckets = TokenBuckets(2.0, 3, max_clients=100, monotonic=lambda: now[0])
    assert [buckets.take("a") for _ in range(3)] == [0.0, 0.0, 0.0]
    assert buckets.take("a") == pytest.approx(0.5)  # one token back in 1/rate seconds
    assert buckets.take("b") == 0.0  # another client, its own bucket
    now[0] += 0.5
    assert buckets.take("a") == 0.0 and buckets.take("a") > 0
    for i in range(1000):  # a flood of new clients cannot grow memory past the cap
        buckets.take(f"c{i}")
    assert len(buckets) <= 100
    started = time.perf_counter()
    for _ in range(100_000):
        buckets.take("hot")
    assert time.perf_counter() - started < 1.0  # O(1), microseconds per request


async def test_verify_endpoints_are_rate_limited_per_client(
        make_client: ClientFactory, hostile_stats: dict[str, dict[str, int]]) -> None:
    key = "tenant-a-secret"
    client = await make_client(rate_limit_verify_per_second=0.5, rate_limit_verify_burst=3,
                               hr_api_keys={key_digest(key): "tenant-a"})
    statuses: list[int] = []
    for path in ("/v1/verify", "/credentials/verify", "/v1/verify", "/presentations/verify"):
        resp = await client.post(path, json={})
        statuses.append(resp.status)
    assert 429 not in statuses[:3] and statuses[3] == 429, statuses  # one bucket, 4 paths
    limited = await client.post("/v1/verify", json={}, headers={"Idempotency-Key": "k1"})
    problem = await limited.json(content_type=None)
    assert limited.status == 429 and limited.content_type == "application/problem+json"
    assert problem["code"] == "request.rate_limited"
    assert 1 <= int(limited.headers["Retry-After"]) <= 2
    # inventing API keys buys no fresh bucket; a configured key is its tenant's own bucket
    invented = await client.post("/v1/verify", json={}, headers={"X-API-Key": "made-up"})
    assert invented.status == 429
    tenant = await client.post("/v1/verify", json={}, headers={"X-API-Key": key})
    assert tenant.status != 429
    # the rest of the API is not counted
    assert (await client.get("/health")).status == 200
    # a token is back after 1/rate s; the 429 was not kept as the Idempotency-Key's answer
    await asyncio.sleep(2.1)
    again = await client.post("/v1/verify", json={}, headers={"Idempotency-Key": "k1"})
    assert again.status != 429 and "Idempotent-Replayed" not in again.headers
    assert (await client.get("/trusted-issuers-registry/v5/issuers")).status == 200
    hostile_stats["rate limit (burst 3, 0.5/s)"] = {
        "requests": len(statuses) + 3, "429s": statuses.count(429) + 2}


async def test_rate_limit_zero_is_off(make_client: ClientFactory) -> None:
    client = await make_client(rate_limit_verify_per_second=0, rate_limit_verify_burst=1)
    for _ in range(5):
        assert (await client.post("/v1/verify", json={})).status != 429


async def test_sync_push_authenticates_before_the_payload_and_is_limited_per_registry(
        make_client: ClientFactory, hostile_stats: dict[str, dict[str, int]]) -> None:
    h = Hierarchy()
    node = await make_client(**h.settings(rate_limit_sync_batches_per_minute=2))
    code, body = await push(node, h.bootstrap())
    assert code == 200, body
    stranger = Registry()
    garbage_payload = sign_compact({"registry": h.es.did, "junk": True},
                                   h.es.key.private_key, kid=h.es.key.kid, typ=BATCH_TYP)
    other = sign_compact({"registry": h.es.did, "junk": False}, h.es.key.private_key,
                         kid=h.es.key.kid, typ=BATCH_TYP)
    forged = ".".join([*garbage_payload.split(".")[:2], other.split(".")[2]])  # transplant
    cases: list[tuple[str, str, int, str]] = [
        ("not.a.jws", "application/jose", 401, "batch.unsigned"),
        ("{not json", "application/json", 401, "batch.unsigned"),
        (json.dumps({"records": []}), "application/json", 401, "batch.unsigned"),
        (json.dumps({"batch": 7}), "application/json", 401, "batch.unsigned"),
        (forged, "application/jose", 401, "batch.signature_invalid"),
        # signed, but by nobody authorised here: 403 before its (malformed) payload is read
        (sign_compact({"junk": True}, stranger.key.private_key, kid=stranger.key.kid,
                      typ=BATCH_TYP), "application/jose", 403, "batch.not_authorised"),
        # the authorised registry itself learns what is wrong with its payload
        (garbage_payload, "application/jose", 400, "batch.malformed"),
    ]
    for token, ctype, status, code_ in cases:
        got, problem = await push(node, token, content_type=ctype)
        assert (got, problem["code"]) == (status, code_), (token[:40], problem)
    # 2 per minute per registry: the malformed push above took one, this one the second
    code, body = await push(node, h.es.batch([h.ti(Actor())]))
    assert code == 200, body
    resp = await node.post("/v1/registry/batches", data=h.es.batch([h.ti(Actor())]),
                           headers={"Content-Type": "application/jose"})
    problem = await resp.json(content_type=None)
    assert resp.status == 429 and problem["code"] == "request.rate_limited", problem
    assert int(resp.headers["Retry-After"]) >= 1
    # another registry has its own allowance
    code, body = await push(node, h.eu.batch([h.ti(Actor())]))
    assert code != 429, body
    hostile_stats["sync push auth-first"] = {"refused": len(cases), "429s": 1}
