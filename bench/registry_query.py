#!/usr/bin/env python3
"""Accreditation-query throughput with 100,000 issuers, SQLite and PostgreSQL.

    python bench/registry_query.py [--issuers 100000] [--queries 5000] [--concurrency 32]
                                   [--backend sqlite|postgresql|both]

For each backend: a fresh store seeded with the demo hierarchy (registry/*.json), then
``--issuers`` Trusted Issuers accredited by the demo Spanish TAO (real did:key keys and
real ES256-signed accreditation JWTs) bulk-inserted in one transaction; then the real
app serves ``GET /v1/registry/accreditation`` on 127.0.0.1 and a bounded aiohttp client
(``--concurrency`` connections) asks about random issuers. Every answer is a full chain
evaluation unless the same issuer was asked before (answers are cached per registry
epoch), so queries are spread over all issuers. Prints req/s and latency percentiles.

PostgreSQL: a throwaway database on ``TRUSTBRIDGE_TEST_PG`` (default
postgresql://postgres@127.0.0.1:5432/postgres), dropped afterwards. A script, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from aiohttp import ClientSession, TCPConnector, web  # noqa: E402

from trustbridge.api import create_app  # noqa: E402
from trustbridge.config import Settings  # noqa: E402
from trustbridge.registry.issuance import DidKey, accreditation_claims  # noqa: E402
from trustbridge.registry.model import TO_ATTEST, Attribute, IssuerRecord, attribute_id  # noqa: E402
from trustbridge.registry.service import registry_of  # noqa: E402
from trustbridge.services import build_services  # noqa: E402

PG_ADMIN = os.environ.get("TRUSTBRIDGE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
DEMO = json.loads((ROOT / "fixtures" / "demo" / "demo.json").read_text())
EV = "EVHighVoltageSafetyCredential"
FROM = datetime(2025, 1, 1, tzinfo=UTC)
UNTIL = datetime(2035, 1, 1, tzinfo=UTC)


def make_issuers(n: int) -> list[IssuerRecord]:
    """``n`` TIs accredited by the demo Spanish TAO for EV safety credentials in Spain."""
    tao_file = json.loads((ROOT / "registry" / "demo-keys" / "es-tao.json").read_text())
    tao = DidKey.from_pem(tao_file["private_key_pem"])
    grant = [{"schemaId": DEMO["schema"], "types": ["VerifiableCredential",
                                                     "VerifiableAttestation", EV],
              "limitJurisdiction": "ES"}]
    out = []
    for i in range(n):
        did = DidKey.generate("EdDSA").did
        jwt = tao.sign(accreditation_claims(kind=TO_ATTEST, issuer=tao.did, subject=did,
                                            accredited_for=grant, valid_from=FROM,
                                            valid_until=UNTIL, jti=f"urn:uuid:bench-{i}"))
        out.append(IssuerRecord(did=did, name=f"Bench training provider {i}", country="ES",
                                attributes=(Attribute(id=attribute_id(jwt), did=did, body=jwt,
                                                      issuer_type="TI", tao=tao.did,
                                                      root_tao=DEMO["trust_anchor"]),)))
    return out


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def run(backend: str, url: str | None, issuers: list[IssuerRecord], queries: int,
              concurrency: int) -> dict[str, Any]:
    data_dir = Path(tempfile.mkdtemp(prefix="tb-bench-"))
    settings = Settings(environment="test", data_dir=data_dir, database_url=url,
                        registry_seed_dir=ROOT / "registry")
    services = await build_services(settings)
    registry = registry_of(services)
    t0 = time.perf_counter()
    for start in range(0, len(issuers), 10_000):
        async with registry.store.transaction() as writer:
            await writer.bulk_insert(issuers[start:start + 10_000])
    insert_s = time.perf_counter() - t0
    runner = web.AppRunner(create_app(settings, services=services), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    base = f"http://127.0.0.1:{port}/v1/registry/accreditation"
    rng = random.Random(7)
    targets = [rng.choice(issuers).did for _ in range(queries)]
    latencies: list[float] = []
    accredited = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for did in targets:
        queue.put_nowait(did)

    async def worker(session: ClientSession) -> None:
        nonlocal accredited
        while not queue.empty():
            did = queue.get_nowait()
            t = time.perf_counter()
            async with session.get(base, params={"issuer": did, "type": EV,
                                                 "schema": DEMO["schema"],
                                                 "jurisdiction": "ES",
                                                 "at": "2026-01-01T00:00:00Z"}) as resp:
                body = await resp.json()
            latencies.append(time.perf_counter() - t)
            accredited += bool(body.get("accredited"))

    async with ClientSession(connector=TCPConnector(limit=concurrency)) as session:
        start = time.perf_counter()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed = time.perf_counter() - start
    await runner.cleanup()
    await services.close()
    return {"backend": backend, "issuers": await_count(len(issuers)), "insert_s": insert_s,
            "queries": queries, "accredited": accredited, "req_s": queries / elapsed,
            "p50_ms": 1000 * statistics.median(latencies), "p95_ms": 1000 * pct(latencies, 95),
            "p99_ms": 1000 * pct(latencies, 99)}


def await_count(n: int) -> int:
    return n + 8  # plus the demo hierarchy


async def with_postgres(job: Any) -> Any:
    import asyncpg

    name = f"tb_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        return await job(PG_ADMIN.rsplit("/", 1)[0] + f"/{name}")
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--issuers", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    args = parser.parse_args()
    t = time.perf_counter()
    issuers = make_issuers(args.issuers)
    print(f"generated {len(issuers)} signed accreditations in {time.perf_counter() - t:.1f} s",
          file=sys.stderr)
    results = []
    if args.backend in ("sqlite", "both"):
        results.append(await run("sqlite", None, issuers, args.queries, args.concurrency))
    if args.backend in ("postgresql", "both"):
        results.append(await with_postgres(
            lambda url: run("postgresql", url, issuers, args.queries, args.concurrency)))
    for r in results:
        print(f"{r['backend']:<10} issuers={r['issuers']} bulk-insert={r['insert_s']:.1f}s "
              f"queries={r['queries']} accredited={r['accredited']} "
              f"{r['req_s']:.0f} req/s  p50={r['p50_ms']:.1f}ms p95={r['p95_ms']:.1f}ms "
              f"p99={r['p99_ms']:.1f}ms (concurrency {args.concurrency})")


if __name__ == "__main__":
    asyncio.run(main())
