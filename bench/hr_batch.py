"""Batch verification throughput beside single-request throughput, over real HTTP.

The app runs on 127.0.0.1 (embedded SQLite, in-process cache, shipped demo registry and
schemas). Every item is the demo learner's VP at a distinct ``at`` time, so the result
cache never answers (each item is a full verification: VP + VC signatures, holder
binding, registry chain, schema). Compared:

* single: N ``POST /v1/verify`` requests, ``--concurrency`` at a time;
* batch: the same N items as ``POST /v1/verify/batch`` requests of ``--batch`` items.

    python bench/hr_batch.py [--n 1000] [--batch 100] [--concurrency 8] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from aiohttp.test_utils import TestClient, TestServer  # noqa: E402

from trustbridge.api import create_app  # noqa: E402
from trustbridge.config import Settings  # noqa: E402

DEMO = ROOT / "fixtures" / "demo"
META = json.loads((DEMO / "demo.json").read_text())
VP = (DEMO / "ev-safety-vp.jwt").read_text().strip()


def items(n: int, minute: int) -> list[dict[str, Any]]:
    """Distinct ``at`` per item (milliseconds into ``minute``) so nothing is a cache hit."""
    return [{"presentation": VP, "nonce": META["vp_nonce"], "audience": META["vp_audience"],
             "at": f"2025-06-02T10:{minute:02d}:{i // 1000:02d}.{i % 1000:03d}Z"}
            for i in range(n)]


async def run(n: int, batch: int, concurrency: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        settings = Settings(environment="test", data_dir=Path(tmp),
                            registry_seed_dir=ROOT / "registry",
                            schema_store_dir=ROOT / "fixtures" / "ebsi" / "schemas",
                            schema_fetch_remote=False, hr_batch_max_items=batch,
                            max_body_bytes=16 * 1024 * 1024, rate_limit_verify_per_second=0)
        client: TestClient[Any, Any] = TestClient(TestServer(create_app(settings),
                                                             host="127.0.0.1"))
        await client.start_server()
        try:
            singles = iter(items(n, 5))

            async def worker() -> None:
                for body in singles:
                    resp = await client.post("/v1/verify", json=body)
                    assert resp.status == 200
                    assert (await resp.json())["verdict"] == "valid"

            started = time.perf_counter()
            await asyncio.gather(*(worker() for _ in range(concurrency)))
            single_s = time.perf_counter() - started

            batched = items(n, 6)
            started = time.perf_counter()
            for first in range(0, n, batch):
                resp = await client.post("/v1/verify/batch",
                                         json={"items": batched[first:first + batch]})
                data = await resp.json()
                assert all(r["report"]["verdict"] == "valid" for r in data["items"])
            batch_s = time.perf_counter() - started
        finally:
            await client.close()
    return {"items": n, "batch_size": batch, "concurrency": concurrency,
            "single_items_per_s": round(n / single_s, 1),
            "batch_items_per_s": round(n / batch_s, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--n", type=int, default=1000, help="items (at most 60,000)")
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    result = asyncio.run(run(args.n, args.batch, args.concurrency))
    if args.json:
        print(json.dumps(result))
    else:
        print(f"{result['items']} items: single {result['single_items_per_s']}/s "
              f"(concurrency {result['concurrency']}), batch {result['batch_items_per_s']}/s "
              f"(batches of {result['batch_size']})")


if __name__ == "__main__":
    main()
