#!/usr/bin/env python3
"""Accreditation-query throughput against registry size, SQLite and PostgreSQL.

    python bench/registry_query.py [--sizes 1000,100000,1000000] [--distinct 1000]
                                   [--concurrency 32] [--backend sqlite|postgresql|both]

For each size and backend: a fresh store seeded with the demo hierarchy (registry/*.json)
plus ``size`` Trusted Issuers accredited by the demo Spanish TAO (real did:key DIDs, real
ES256-signed accreditation JWTs); then the real app serves ``GET /v1/registry/accreditation``
on 127.0.0.1 and a bounded aiohttp client (``--concurrency`` connections) asks about the
same number of distinct issuers at every size (``--distinct``, chosen at random):

* **cold** -- each of the distinct issuers asked once: no answer is cached, the issuer's
  record and its accreditation's signature verdict are not remembered, so every query is
  a full chain evaluation (the TAO and RootTAO above are shared by all and stay memoised,
  as in steady state);
* **warm** -- the same issuers again: every answer comes from the answer cache (keyed on
  the registry epoch).

One row per size, backend and cache state: req/s, p50/p95/p99 latency, and this process's
CPU time per query (client and server share it; with SQLite the database's thread too, with
PostgreSQL not the database server) -- steadier than req/s on a shared machine.

Generating a million signed accreditations is slow, so it is done once, in worker
processes, and kept under ``$TMPDIR/trustbridge-bench-registry/`` keyed by size (TI keys
are derived from their index, so the data is the same on every run); the SQLite store
filled with them is kept there too and copied for each run. PostgreSQL is filled from the
cached accreditations (bulk inserts, 10,000 per transaction) in a throwaway database on
``TRUSTBRIDGE_TEST_PG`` (default postgresql://postgres@127.0.0.1:5432/postgres), dropped
afterwards. ``--fresh`` ignores the cache. A script, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import shutil
import sqlite3
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from aiohttp import ClientSession, TCPConnector, web  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ed25519  # noqa: E402

from trustbridge.api import create_app  # noqa: E402
from trustbridge.config import Settings  # noqa: E402
from trustbridge.did.key import did_key_from_public_key  # noqa: E402
from trustbridge.registry.issuance import DidKey, accreditation_claims  # noqa: E402
from trustbridge.registry.model import TO_ATTEST, Attribute, IssuerRecord, attribute_id  # noqa: E402
from trustbridge.registry.service import registry_of  # noqa: E402
from trustbridge.services import build_services  # noqa: E402

PG_ADMIN = os.environ.get("TRUSTBRIDGE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
DEMO = json.loads((ROOT / "fixtures" / "demo" / "demo.json").read_text())
TAO_FILE = json.loads((ROOT / "registry" / "demo-keys" / "es-tao.json").read_text())
EV = "EVHighVoltageSafetyCredential"
FROM = datetime(2025, 1, 1, tzinfo=UTC)
UNTIL = datetime(2035, 1, 1, tzinfo=UTC)
CACHE = Path(tempfile.gettempdir()) / "trustbridge-bench-registry"
FORMAT = 1  # bump when the generated data changes
CHUNK = 10_000
GRANT = [{"schemaId": DEMO["schema"],
          "types": ["VerifiableCredential", "VerifiableAttestation", EV],
          "limitJurisdiction": "ES"}]


def ti_did(i: int) -> str:
    """The i-th bench TI: an Ed25519 did:key derived from its index (same on every run)."""
    seed = hashlib.sha256(f"trustbridge-bench-ti-{i}".encode()).digest()
    return did_key_from_public_key(ed25519.Ed25519PrivateKey.from_private_bytes(seed)
                                   .public_key())


def _sign_range(start: int, stop: int) -> list[tuple[int, str, str]]:
    """Worker: ``(i, did, accreditation JWT)`` for TIs ``start..stop-1``."""
    tao = DidKey.from_pem(TAO_FILE["private_key_pem"])
    out = []
    for i in range(start, stop):
        did = ti_did(i)
        jwt = tao.sign(accreditation_claims(kind=TO_ATTEST, issuer=tao.did, subject=did,
                                            accredited_for=GRANT, valid_from=FROM,
                                            valid_until=UNTIL, jti=f"urn:uuid:bench-{i}"))
        out.append((i, did, jwt))
    return out


def generated(n: int, *, fresh: bool) -> Path:
    """An SQLite file of ``n`` (did, accreditation JWT) rows, made once per size."""
    CACHE.mkdir(parents=True, exist_ok=True)
    path = CACHE / f"issuers-{n}-v{FORMAT}.sqlite3"
    if path.exists() and not fresh:
        with sqlite3.connect(path) as db:
            if db.execute("SELECT COUNT(*) FROM ti").fetchone()[0] == n:
                return path
    path.unlink(missing_ok=True)
    t = time.perf_counter()
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    with sqlite3.connect(partial) as db, ProcessPoolExecutor() as pool:
        db.execute("CREATE TABLE ti (i INTEGER PRIMARY KEY, did TEXT NOT NULL, jwt TEXT NOT NULL)")
        ranges = [(s, min(n, s + CHUNK)) for s in range(0, n, CHUNK)]
        for rows in pool.map(_sign_range, *zip(*ranges, strict=True)):
            db.executemany("INSERT INTO ti VALUES (?, ?, ?)", rows)
    partial.rename(path)
    print(f"  generated {n:,} signed accreditations in {time.perf_counter() - t:.0f} s "
          f"({path})", file=sys.stderr)
    return path


def read_records(path: Path, start: int, stop: int) -> list[IssuerRecord]:
    with sqlite3.connect(path) as db:
        rows = db.execute("SELECT i, did, jwt FROM ti WHERE i >= ? AND i < ? ORDER BY i",
                          (start, stop)).fetchall()
    tao, root = TAO_FILE["did"], DEMO["trust_anchor"]
    return [IssuerRecord(did=did, name=f"Bench training provider {i}", country="ES",
                         attributes=(Attribute(id=attribute_id(jwt), did=did, body=jwt,
                                               issuer_type="TI", tao=tao, root_tao=root),))
            for i, did, jwt in rows]


async def fill(services: Any, source: Path, n: int) -> float:
    """Bulk-insert the ``n`` cached TIs, ``CHUNK`` per transaction; seconds taken."""
    registry = registry_of(services)
    t = time.perf_counter()
    for start in range(0, n, CHUNK):
        records = read_records(source, start, min(n, start + CHUNK))
        async with registry.store.transaction() as writer:
            await writer.bulk_insert(records)
    return time.perf_counter() - t


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


async def ask(base: str, dids: list[str], concurrency: int) -> dict[str, Any]:
    latencies: list[float] = []
    accredited = 0
    queue: asyncio.Queue[str] = asyncio.Queue()
    for did in dids:
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
        start, cpu = time.perf_counter(), time.process_time()
        await asyncio.gather(*(worker(session) for _ in range(concurrency)))
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu
    return {"queries": len(dids), "accredited": accredited, "req_s": len(dids) / elapsed,
            "cpu_ms": 1000 * cpu / len(dids),
            "p50_ms": 1000 * statistics.median(latencies), "p95_ms": 1000 * pct(latencies, 95),
            "p99_ms": 1000 * pct(latencies, 99)}


async def measure(settings: Settings, source: Path, n: int, distinct: int, concurrency: int,
                  *, insert: bool) -> tuple[float | None, list[dict[str, Any]]]:
    services = await build_services(settings)
    try:
        insert_s = await fill(services, source, n) if insert else None
        runner = web.AppRunner(create_app(settings, services=services), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        base = f"http://127.0.0.1:{port}/v1/registry/accreditation"
        picked = random.Random(7).sample(range(n), distinct)
        dids = [ti_did(i) for i in picked]
        rows = []
        for state in ("cold", "warm"):
            rows.append({"cache": state, **await ask(base, dids, concurrency)})
        await runner.cleanup()
    finally:
        await services.close()
    return insert_s, rows


async def run_sqlite(n: int, distinct: int, concurrency: int, fresh: bool
                     ) -> tuple[float | None, list[dict[str, Any]]]:
    source = generated(n, fresh=fresh)
    store = CACHE / f"store-sqlite-{n}-v{FORMAT}.sqlite3"
    with tempfile.TemporaryDirectory(prefix="tb-bench-") as tmp:
        data_dir = Path(tmp)
        settings = Settings(environment="test", data_dir=data_dir,
                            registry_seed_dir=ROOT / "registry")
        target = data_dir / "trustbridge.sqlite3"
        cached = store.exists() and not fresh
        if cached:
            shutil.copyfile(store, target)
        insert_s, rows = await measure(settings, source, n, distinct, concurrency,
                                       insert=not cached)
        if not cached:  # closed, so the WAL is checkpointed into the file
            shutil.copyfile(target, store.with_suffix(".partial"))
            store.with_suffix(".partial").rename(store)
    return insert_s, rows


async def run_postgres(n: int, distinct: int, concurrency: int, fresh: bool
                       ) -> tuple[float | None, list[dict[str, Any]]]:
    import asyncpg

    source = generated(n, fresh=fresh)
    name = f"tb_bench_{uuid.uuid4().hex[:8]}"
    admin = await asyncpg.connect(PG_ADMIN)
    await admin.execute(f'CREATE DATABASE "{name}"')
    try:
        with tempfile.TemporaryDirectory(prefix="tb-bench-") as tmp:
            settings = Settings(environment="test", data_dir=Path(tmp),
                                database_url=PG_ADMIN.rsplit("/", 1)[0] + f"/{name}",
                                registry_seed_dir=ROOT / "registry")
            return await measure(settings, source, n, distinct, concurrency, insert=True)
    finally:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


Runner = Callable[[int, int, int, bool], Awaitable[tuple[float | None, list[dict[str, Any]]]]]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="1000,100000",
                        help="comma-separated TI counts (the issue's: 1000,100000,1000000)")
    parser.add_argument("--distinct", type=int, default=1000,
                        help="distinct issuers asked at every size (default 1000)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--backend", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--fresh", action="store_true", help="regenerate the cached data")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    distinct = min([args.distinct, *sizes])
    backends: list[tuple[str, Runner]] = []
    if args.backend in ("sqlite", "both"):
        backends.append(("sqlite", run_sqlite))
    if args.backend in ("postgresql", "both"):
        backends.append(("postgresql", run_postgres))
    print(f"{distinct} distinct issuers per size, concurrency {args.concurrency}; cold = each "
          "asked once (full chain evaluation), warm = the same again (answer cache)")
    print(f"{'TIs':>9} {'backend':<10} {'insert s':>8} {'cache':<5} {'queries':>7} "
          f"{'ok':>5} {'req/s':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'CPU ms/q':>8}",
          flush=True)
    out = []
    for n in sizes:
        for backend, runner in backends:
            insert_s, rows = await runner(n, distinct, args.concurrency, args.fresh)
            for r in rows:
                shown = "cached" if insert_s is None else f"{insert_s:.1f}"
                print(f"{n:>9} {backend:<10} {shown:>8} {r['cache']:<5} {r['queries']:>7} "
                      f"{r['accredited']:>5} {r['req_s']:>6.0f} {r['p50_ms']:>7.1f} "
                      f"{r['p95_ms']:>7.1f} {r['p99_ms']:>7.1f} {r['cpu_ms']:>8.2f}",
                      flush=True)
                out.append({"issuers": n, "backend": backend, "insert_s": insert_s,
                            "distinct": distinct, **r})
    if args.json:
        print(json.dumps(out, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
