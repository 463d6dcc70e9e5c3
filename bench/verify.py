"""VP verification throughput over HTTP on 127.0.0.1: uncached vs result-cached.

Starts the real app in-process on a free loopback port (embedded SQLite and
in-process cache), then drives ``POST /v1/verify`` with a bounded concurrent
aiohttp client. The presentation is EBSI's own vector (fixtures/ebsi: one VP,
two VCs: three signature checks and three did:key resolutions per uncached
request). Issuer trust, status and schema are off so the number measures the
pipeline, not fixture gaps.

    python bench/verify.py [--requests 400] [--concurrency 16] [--max-seconds 60]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

ROOT = Path(__file__).resolve().parents[1]
VECTOR = ROOT / "fixtures" / "ebsi" / "vectors" / "vp-es256-valid.json"
POLICY = {"require_accredited_issuer": False, "check_status": False, "check_schema": False}


def _percentile(sorted_values: list[float], q: float) -> float:
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


async def _drive(url: str, body: dict[str, Any], *, requests: int, concurrency: int,
                 max_seconds: float) -> dict[str, Any]:
    latencies: list[float] = []
    verdicts: dict[str, int] = {}
    cached = 0
    counter = iter(range(requests))
    deadline = time.perf_counter() + max_seconds
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            nonlocal cached
            for _ in counter:
                if time.perf_counter() > deadline:
                    return
                start = time.perf_counter()
                async with session.post(url, json=body) as resp:
                    data = await resp.json()
                    if resp.status != 200:
                        raise RuntimeError(f"HTTP {resp.status}: {data}")
                latencies.append(time.perf_counter() - start)
                verdicts[data["verdict"]] = verdicts.get(data["verdict"], 0) + 1
                cached += bool(data["cached"])

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "requests": len(latencies),
        "req_per_s": round(len(latencies) / elapsed, 1) if elapsed else 0.0,
        "p50_ms": round(_percentile(latencies, 0.50) * 1000, 2),
        "p95_ms": round(_percentile(latencies, 0.95) * 1000, 2),
        "p99_ms": round(_percentile(latencies, 0.99) * 1000, 2),
        "mean_ms": round(statistics.fmean(latencies) * 1000, 2) if latencies else 0.0,
        "verdicts": verdicts,
        "cached_answers": cached,
    }


async def _serve(result_cache_ttl: int, data_dir: Path) -> tuple[web.AppRunner, str]:
    from trustbridge.api import create_app
    from trustbridge.config import Settings

    settings = Settings(environment="test", data_dir=data_dir, registry_seed_dir=None,
                        result_cache_ttl_seconds=result_cache_ttl,
                        rate_limit_verify_per_second=0)  # the limiter would answer 429
    runner = web.AppRunner(create_app(settings), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    server = site._server
    assert server is not None
    port = server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    return runner, f"http://127.0.0.1:{port}/v1/verify"


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    vector = json.loads(VECTOR.read_text())
    body = {"presentation": vector["input"], "nonce": vector["nonce"],
            "audience": vector["audience"], "at": vector["verify_at"], "policy": POLICY}
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for label, ttl in (("uncached", 0), ("cached", 300)):
            runner, url = await _serve(ttl, Path(tmp) / label)
            try:
                await _drive(url, body, requests=warmup_requests(args), concurrency=1,
                             max_seconds=args.max_seconds)
                results[label] = await _drive(url, body, requests=args.requests,
                                              concurrency=args.concurrency,
                                              max_seconds=args.max_seconds)
            finally:
                await runner.cleanup()
    return results


def warmup_requests(args: argparse.Namespace) -> int:
    return max(1, min(10, args.requests // 20))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--max-seconds", type=float, default=60.0)
    args = parser.parse_args()
    results = asyncio.run(main_async(args))
    for label, r in results.items():
        print(f"{label:>9}: {r['req_per_s']:>8} req/s  p50 {r['p50_ms']} ms  p95 {r['p95_ms']} ms"
              f"  p99 {r['p99_ms']} ms  ({r['requests']} requests, verdicts {r['verdicts']}, "
              f"cached answers {r['cached_answers']})")
    print(json.dumps({"bench": "verify", **results}))
    bad = [label for label, r in results.items() if set(r["verdicts"]) != {"valid"}]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
