"""DID resolution throughput: cold vs cached, for did:key, did:jwk and did:web.

* did:key / did:jwk: documents are pure functions of the DID, memoised in-process; "cold"
  clears the memo first, so every resolution decodes the key, checks the point and builds
  the document; "cached" resolves the same DIDs again.
* did:web: a local HTTPS server on 127.0.0.1 (throwaway trustme CA, host allow-listed)
  serves one document per DID; "cold" starts from an empty cache, so every resolution is an
  SSRF-checked HTTPS fetch plus document checks; "cached" reads the raw document back from
  the cache (and checks it again).

The resolver's cache is in-process, or Redis with ``--redis URL`` (default ``$REDIS_URL``,
as the service does: Redis behind the in-process fallback).

    python bench/resolve.py [--n 2000] [--web-n 300] [--concurrency 8] [--redis URL] [--json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from trustbridge.cache.interface import Cache, open_cache  # noqa: E402
from trustbridge.cache.memory import MemoryCache  # noqa: E402
from trustbridge.crypto.jwk import jwk_from_public_key  # noqa: E402
from trustbridge.crypto.jws import generate_private_key  # noqa: E402
from trustbridge.did import jwk as did_jwk  # noqa: E402
from trustbridge.did import key as did_key  # noqa: E402
from trustbridge.did.resolver import CachingResolver  # noqa: E402


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q * (len(ordered) - 1))))]


async def _measure(name: str, dids: list[str], resolve: Callable[[str], Awaitable[bool]],
                   concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    failures = 0
    queue = iter(dids)

    async def worker() -> None:
        nonlocal failures
        for did in queue:
            started = time.perf_counter()
            ok = await resolve(did)
            latencies.append(time.perf_counter() - started)
            failures += not ok

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    ms = [x * 1000 for x in latencies]
    return {"scenario": name, "resolutions": len(dids), "failures": failures,
            "per_second": round(len(dids) / elapsed, 1), "p50_ms": round(_percentile(ms, .5), 3),
            "p95_ms": round(_percentile(ms, .95), 3), "p99_ms": round(_percentile(ms, .99), 3),
            "mean_ms": round(statistics.fmean(ms), 3)}


def _key_dids(n: int) -> list[str]:
    algs = ["EdDSA", "ES256", "ES256K"]
    return [did_key.did_key_from_public_key(generate_private_key(algs[i % 3]).public_key())
            for i in range(n)]


def _jwk_dids(n: int) -> list[str]:
    return [did_jwk.did_jwk_from_jwk(jwk_from_public_key(generate_private_key("ES256")
                                                         .public_key())) for _ in range(n)]


async def cache_for(args: argparse.Namespace, local: MemoryCache) -> Cache:
    """``local``, or Redis (behind the in-process fallback, as ``serve`` opens it)."""
    if not args.redis:
        return local
    return await open_cache(args.redis, fallback_seconds=5.0)


async def _pure(args: argparse.Namespace) -> list[dict[str, Any]]:
    cache = await cache_for(args, MemoryCache())
    resolver = CachingResolver(cache=cache, fetcher=None)

    async def ok(did: str) -> bool:
        return (await resolver.resolve(did)).ok

    out = []
    for method, dids, clear in (("did:key", _key_dids(args.n), did_key.clear_memo),
                                ("did:jwk", _jwk_dids(args.n), did_jwk.clear_memo)):
        clear()
        out.append(await _measure(f"{method} cold", dids, ok, 1))
        out.append(await _measure(f"{method} cached", dids, ok, 1))
    await cache.close()
    return out


async def _web(args: argparse.Namespace) -> list[dict[str, Any]]:
    from tests.did.support import did_document, doc_server, make_ca, make_resolver

    with tempfile.TemporaryDirectory() as tmp:
        ca = make_ca(Path(tmp))
        async with doc_server(ca) as server:
            dids = [f"did:web:{server.authority}:u{i}" for i in range(args.web_n)]
            for i, did in enumerate(dids):
                server.serve_document(f"/u{i}/did.json", did_document(did))
            cache = await cache_for(args, MemoryCache(max_entries=args.web_n * 2))
            resolver = make_resolver(ca, cache=cache)

            async def ok(did: str) -> bool:
                return (await resolver.resolve(did)).ok

            cold = await _measure("did:web cold (HTTPS fetch)", dids, ok, args.concurrency)
            cached = await _measure("did:web cached", dids, ok, args.concurrency)
            cold["server_hits"] = sum(server.hits.values())
            await cache.close()
            return [cold, cached]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=2000, help="did:key / did:jwk DIDs")
    parser.add_argument("--web-n", type=int, default=300, help="did:web DIDs")
    parser.add_argument("--concurrency", type=int, default=8, help="did:web workers")
    parser.add_argument("--redis", default=os.environ.get("REDIS_URL"),
                        help="resolver cache in this Redis (default $REDIS_URL; else in-process)")
    parser.add_argument("--json", action="store_true", help="print JSON only")
    args = parser.parse_args()

    async def run() -> list[dict[str, Any]]:
        return [*await _pure(args), *await _web(args)]

    rows = asyncio.run(run())
    for r in rows:
        r["cache"] = "redis" if args.redis else "in-process"
    if args.json:
        print(json.dumps(rows, indent=2))
    else:
        print(f"{'scenario':32} {'n':>6} {'res/s':>10} {'p50 ms':>9} {'p95 ms':>9} {'p99 ms':>9}")
        for r in rows:
            print(f"{r['scenario']:32} {r['resolutions']:>6} {r['per_second']:>10} "
                  f"{r['p50_ms']:>9} {r['p95_ms']:>9} {r['p99_ms']:>9}")
    return 1 if any(r["failures"] for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
