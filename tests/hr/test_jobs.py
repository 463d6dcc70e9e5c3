"""Asynchronous jobs: 202 + Location, progress, restart survival, takeover, tenants, retention,
and what stored results contain (verdicts and checks, never the credential)."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import ClientFactory
from tests.hr.support import VP, demo_settings, unaccredited_item, vp_item
from trustbridge.hr.tenants import key_digest

KEYS = {key_digest("key-a"): "tenant-a", key_digest("key-b"): "tenant-b"}


async def poll(client: TestClient[Any, Any], location: str, *, headers: Any = None,
               until: str = "succeeded", min_done: int = 0) -> dict[str, Any]:
    """Poll the job (without results) until its state and progress are reached; 60 s cap."""
    async with asyncio.timeout(60):
        while True:
            resp = await client.get(f"{location}?limit=0", headers=headers)
            assert resp.status == 200, await resp.text()
            data: dict[str, Any] = await resp.json()
            if data["done"] >= min_done and until in (data["state"], "any"):
                return data
            await asyncio.sleep(0.02)


async def wait_done(client: TestClient[Any, Any], location: str, *,
                    headers: Any = None) -> dict[str, Any]:
    return await poll(client, location, headers=headers)


async def test_job_runs_to_completion(make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings(hr_job_chunk_size=7))
    items = [vp_item() if i % 3 else unaccredited_item() for i in range(30)] + [{"bad": 1}]
    resp = await client.post("/v1/jobs", json={"items": items})
    assert resp.status == 202
    created = await resp.json()
    assert resp.headers["Location"] == f"/v1/jobs/{created['id']}"
    assert created["state"] == "queued" and created["total"] == 31
    await wait_done(client, resp.headers["Location"])
    data = await (await client.get(resp.headers["Location"])).json()
    assert data["done"] == 31
    assert data["summary"] == {"valid": 20, "invalid": 10, "indeterminate": 0, "rejected": 1}
    assert [r["index"] for r in data["results"]] == list(range(31))
    assert data["results"][30]["problem"]["code"] == "request.schema"
    # Data minimisation: no holder DID, no credential summary, never the credential itself.
    stored = json.dumps(data["results"])
    assert VP not in stored and VP.split(".")[1] not in stored
    assert all("holder" not in r["report"] and "summary" not in r["report"]["credentials"][0]
               for r in data["results"][:30])
    page = await (await client.get(f"{resp.headers['Location']}?offset=10&limit=5")).json()
    assert [r["index"] for r in page["results"]] == [10, 11, 12, 13, 14]
    assert page["next_offset"] == 15


async def test_job_survives_restart_on_postgres(make_client: ClientFactory,
                                                postgres_url: str) -> None:
    """Queued on a node without a worker, which stops; a new node on the same store runs it."""
    first = await make_client(**demo_settings(database_url=postgres_url, hr_job_worker=False))
    resp = await first.post("/v1/jobs", json={"items": [vp_item()] * 20})
    location = resp.headers["Location"]
    await asyncio.sleep(0.2)
    assert (await (await first.get(location)).json())["state"] == "queued"
    await first.close()
    second = await make_client(**demo_settings(database_url=postgres_url))
    data = await wait_done(second, location)
    assert data["summary"]["valid"] == 20


async def test_takeover_after_a_node_stops_mid_job(make_client: ClientFactory,
                                                   tmp_path: Path) -> None:
    """1,000 items; node A is stopped part-way; node B on the same SQLite store finishes
    them, every item exactly once."""
    url = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
    big = {"max_body_bytes": 8 * 1024 * 1024}
    a = await make_client(**demo_settings(database_url=url, hr_job_chunk_size=5, **big))
    items = [vp_item(at=f"2025-06-02T10:0{i % 10}:{i % 60:02d}Z") for i in range(1000)]
    body = io.BytesIO(json.dumps({"items": items}).encode())
    resp = await a.post("/v1/jobs", data=body, headers={"Content-Type": "application/json"})
    assert resp.status == 202, await resp.text()
    location = resp.headers["Location"]
    done = (await poll(a, location, until="any", min_done=50))["done"]
    await a.close()
    b = await make_client(**demo_settings(database_url=url, hr_job_chunk_size=100, **big))
    data = await wait_done(b, location)
    assert done < 1000
    assert data["done"] == 1000
    results = []
    offset = 0
    while True:
        page = await (await b.get(f"{location}?offset={offset}&limit=200")).json()
        results += page["results"]
        if page["next_offset"] is None:
            break
        offset = page["next_offset"]
    assert [r["index"] for r in results] == list(range(1000))


async def test_tenants_see_only_their_jobs(make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings(hr_api_keys=KEYS))
    resp = await client.post("/v1/jobs", json={"items": [vp_item()]})
    assert resp.status == 401 and (await resp.json())["code"] == "auth.api_key_required"
    resp = await client.post("/v1/jobs", json={"items": [vp_item()]},
                             headers={"X-API-Key": "nope"})
    assert resp.status == 401 and (await resp.json())["code"] == "auth.api_key_invalid"
    resp = await client.post("/v1/jobs", json={"items": [vp_item()]},
                             headers={"X-API-Key": "key-a"})
    assert resp.status == 202
    location = resp.headers["Location"]
    await wait_done(client, location, headers={"Authorization": "Bearer key-a"})
    other = await client.get(location, headers={"X-API-Key": "key-b"})
    assert other.status == 404
    gone = await client.delete(location, headers={"X-API-Key": "key-b"})
    assert gone.status == 404
    gone = await client.delete(location, headers={"X-API-Key": "key-a"})
    assert gone.status == 204
    assert (await client.get(location, headers={"X-API-Key": "key-a"})).status == 404
    # The batch endpoint needs a key too; single /v1/verify stays open (its contract).
    assert (await client.post("/v1/verify/batch", json={"items": [vp_item()]})).status == 401
    assert (await client.post("/v1/verify", json=vp_item())).status == 200


async def test_results_purged_after_retention(make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings(hr_job_retention_seconds=0))
    resp = await client.post("/v1/jobs", json={"items": [vp_item()]})
    location = resp.headers["Location"]
    await wait_done(client, location)
    hr = client.server.app["services"].components["hr"]
    assert hr.worker is not None
    await asyncio.sleep(0.01)
    await hr.store.purge_expired(hr.worker.now())
    assert (await client.get(location)).status == 404


async def test_rate_limit_per_tenant_answers_429(make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings(hr_api_keys=KEYS, hr_rate_limit_per_minute=2))
    a, b = {"X-API-Key": "key-a"}, {"X-API-Key": "key-b"}
    body = {"items": [vp_item()]}
    statuses = [(await client.post("/v1/verify/batch", json=body, headers=a)).status
                for _ in range(2)]
    assert statuses == [200, 200]
    resp = await client.post("/v1/jobs", json=body, headers=a)
    assert resp.status == 429
    assert (await resp.json())["code"] == "request.rate_limited"
    assert 1 <= int(resp.headers["Retry-After"]) <= 60
    assert (await client.post("/v1/jobs", json=body, headers=b)).status == 202  # own budget
