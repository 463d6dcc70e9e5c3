"""``Idempotency-Key``: replay, key reuse with another body, concurrent duplicates; on the
in-process cache and on Redis shared by two nodes."""

from __future__ import annotations

import asyncio
from typing import Any

from tests.conftest import ClientFactory
from tests.hr.support import demo_settings, unaccredited_item, vp_item


async def test_replay_returns_the_first_answer(make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings())
    headers = {"Idempotency-Key": "job-1"}
    first = await client.post("/v1/jobs", json={"items": [vp_item()]}, headers=headers)
    assert first.status == 202
    body = await first.json()
    again = await client.post("/v1/jobs", json={"items": [vp_item()]}, headers=headers)
    assert again.status == 202
    assert again.headers["Idempotent-Replayed"] == "true"
    assert again.headers["Location"] == first.headers["Location"]
    assert await again.json() == body  # the same job, not a second one
    assert "Idempotent-Replayed" not in first.headers


async def test_same_key_other_body_is_422(make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings())
    headers = {"Idempotency-Key": "k"}
    resp = await client.post("/v1/verify", json=vp_item(), headers=headers)
    assert resp.status == 200
    resp = await client.post("/v1/verify", json=unaccredited_item(), headers=headers)
    assert resp.status == 422
    assert (await resp.json())["code"] == "idempotency.key_reused"
    # Another path with the same key is another request.
    resp = await client.post("/v1/verify/batch", json={"items": [vp_item()]}, headers=headers)
    assert resp.status == 200 and "Idempotent-Replayed" not in resp.headers


async def test_bad_requests_free_the_key_and_invalid_keys_refused(
        make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings())
    resp = await client.post("/v1/verify", json={"items": 1}, headers={"Idempotency-Key": "b"})
    assert resp.status == 400
    resp = await client.post("/v1/verify", json=vp_item(), headers={"Idempotency-Key": "b"})
    assert resp.status == 200 and "Idempotent-Replayed" not in resp.headers
    resp = await client.post("/v1/verify", json=vp_item(), headers={"Idempotency-Key": "x" * 300})
    assert resp.status == 400
    assert (await resp.json())["code"] == "idempotency.key_invalid"


BIG = {"items": [vp_item(at=f"2025-06-02T10:0{i % 6}:00Z") for i in range(60)]}


async def _concurrent(clients: list[Any], key: str) -> list[int]:
    big = BIG
    resps = await asyncio.gather(*(c.post("/v1/verify/batch", json=big,
                                          headers={"Idempotency-Key": key}) for c in clients))
    statuses = [r.status for r in resps]
    for r in resps:
        if r.status == 409:
            assert (await r.json())["code"] == "idempotency.in_progress"
    return statuses


async def test_concurrent_duplicates_one_runs(make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings())
    statuses = await _concurrent([client, client], "dup")
    assert sorted(statuses) == [200, 409]


async def test_concurrent_duplicates_across_nodes_on_redis(make_client: ClientFactory,
                                                           redis_url: str) -> None:
    a = await make_client(**demo_settings(redis_url=redis_url))
    b = await make_client(**demo_settings(redis_url=redis_url))
    statuses = await _concurrent([a, b], "dup-redis")
    assert sorted(statuses) == [200, 409]
    replay = await b.post("/v1/verify/batch", json=BIG, headers={"Idempotency-Key": "dup-redis"})
    assert replay.status == 200 and replay.headers["Idempotent-Replayed"] == "true"


async def test_presentation_request_created_once(make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings())
    body = {"types": ["VerifiableAttestation"]}
    headers = {"Idempotency-Key": "wallet-ask-1"}
    first = await client.post("/v1/presentation-requests", json=body, headers=headers)
    assert first.status == 201, await first.text()
    again = await client.post("/v1/presentation-requests", json=body, headers=headers)
    assert again.status == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert (await again.json())["id"] == (await first.json())["id"]
