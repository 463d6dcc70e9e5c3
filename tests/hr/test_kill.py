"""A node SIGKILLed in the middle of a 1,000-item job: its lease lapses and another node
(in-process, same SQLite store) finishes the job, every item exactly once."""

from __future__ import annotations

import asyncio
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.conftest import ROOT, ClientFactory, free_port
from tests.hr.support import SCHEMAS, demo_settings, vp_item
from tests.hr.test_jobs import poll, wait_done

N = 1000


async def _started(url: str, proc: subprocess.Popen[bytes]) -> None:
    async with asyncio.timeout(30), aiohttp.ClientSession() as http:
        while True:
            assert proc.poll() is None, "node exited"
            try:
                async with http.get(f"{url}/health") as resp:
                    if resp.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)


async def test_killed_node_job_taken_over(tmp_path: Path, make_client: ClientFactory) -> None:
    data = tmp_path / "node"
    port = free_port()
    env = dict(os.environ, TRUSTBRIDGE_DATA_DIR=str(data), TRUSTBRIDGE_ENVIRONMENT="test",
               TRUSTBRIDGE_REGISTRY_SEED_DIR=str(ROOT / "registry"),
               TRUSTBRIDGE_SCHEMA_STORE_DIR=str(SCHEMAS), TRUSTBRIDGE_SCHEMA_FETCH_REMOTE="false",
               TRUSTBRIDGE_HR_JOB_CHUNK_SIZE="5", TRUSTBRIDGE_HR_JOB_LEASE_SECONDS="1",
               TRUSTBRIDGE_HR_JOB_POLL_SECONDS="0.05",
               TRUSTBRIDGE_MAX_BODY_BYTES=str(8 * 1024 * 1024))
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen([sys.executable, "-m", "trustbridge.cli", "serve", "--port",
                             str(port)], env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        await _started(url, proc)
        items = [vp_item(at=f"2025-06-02T10:0{i % 10}:{i % 60:02d}Z") for i in range(N)]
        body = io.BytesIO(json.dumps({"items": items}).encode())
        async with aiohttp.ClientSession() as http:
            async with http.post(f"{url}/v1/jobs", data=body,
                                 headers={"Content-Type": "application/json"}) as resp:
                assert resp.status == 202, await resp.text()
                location = resp.headers["Location"]
            async with asyncio.timeout(60):
                while True:
                    async with http.get(f"{url}{location}?limit=0") as resp:
                        done = (await resp.json())["done"]
                    if done >= 50:
                        break
                    await asyncio.sleep(0.01)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=10)
    assert done < N
    other = await make_client(**demo_settings(
        database_url=f"sqlite:///{data / 'trustbridge.sqlite3'}", hr_job_chunk_size=100))
    seen = await poll(other, location, until="any")
    assert seen["done"] >= done  # nothing written by the dead node is lost
    finished = await wait_done(other, location)
    assert finished["done"] == N and finished["summary"]["valid"] == N
    indexes: list[int] = []
    offset: int | None = 0
    while offset is not None:
        page = await (await other.get(f"{location}?offset={offset}&limit=250")).json()
        indexes += [r["index"] for r in page["results"]]
        offset = page["next_offset"]
    assert indexes == list(range(N))
