"""Registry sync at scale: push N issuers to one node, mirror them to a second, over HTTP.

Two real apps run in-process on free 127.0.0.1 ports, each with its own SQLite file
(the embedded default) or, with ``--postgres URL``, its own fresh PostgreSQL database.
A national registry (did:key) pushes N trusted issuers (one signed accreditation
each, under a Spanish TAO accredited by an EU RootTAO) in signed batches of
``--batch-size`` changes; then the second node mirrors the first's log. Timed:

* push  -- POST of every batch: signature, authorisation, every accreditation's chain,
           one transaction per batch with its log entries;
* mirror -- head signature, hash chain, every batch signature and accreditation again,
           one transaction per batch.

Signing the N accreditations is done before the clock starts. The report gives
seconds, issuers/s and the growth factor from the previous size (linear ~= size ratio),
and the CPU seconds of each phase (the wall time is noisy on a shared machine): this
process (both nodes and the client), the signature worker processes, the PostgreSQL
backends of the two databases and Redis (``REDIS_URL``, shared by both nodes), and their
sum (``server_cpu_s``, the "CPU s" columns).

    python bench/sync.py [--sizes 1000,5000] [--batch-size 5000]
    python bench/sync.py --sizes 1000,10000,100000   # the issue's sizes (100k: minutes)
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.test_utils import TestServer

from trustbridge import gc_tuning
from trustbridge.api import create_app
from trustbridge.config import Settings
from trustbridge.registry import signature_pool
from trustbridge.registry.batch import BATCH_TYP
from trustbridge.registry.signed import NodeKey, sign_compact

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import process_cpu_seconds, throwaway_database

SCHEMA = "https://api-pilot.ebsi.eu/trusted-schemas-registry/v3/schemas/0xbench"
TYPES = ["VerifiableCredential", "VerifiableAttestation", "MicroCredential"]
KINDS = {"RootTAO": "VerifiableAuthorisationForTrustChain",
         "TAO": "VerifiableAccreditationToAccredit", "TI": "VerifiableAccreditationToAttest"}


def accreditation(by: NodeKey, subject: str, kind: str, root: str,
                  jurisdiction: str | None) -> dict[str, Any]:
    now = int(time.time())
    grant: dict[str, Any] = {"schemaId": SCHEMA, "types": TYPES}
    if jurisdiction:
        grant["limitJurisdiction"] = jurisdiction
    payload = {"iss": by.did, "sub": subject, "nbf": now - 60, "exp": now + 86_400 * 365,
               "vc": {"type": ["VerifiableCredential", KINDS[kind]], "issuer": by.did,
                      "credentialSubject": {"id": subject, "accreditedFor": [grant]}}}
    return {"jwt": sign_compact(payload, by.private_key, kid=by.kid, typ="JWT"),
            "issuerType": kind, "tao": by.did, "rootTao": root}


def _cpu_of(pids: list[int]) -> dict[int, float]:
    out: dict[int, float] = {}
    for pid in pids:
        with contextlib.suppress(OSError):  # gone since (or a server on another machine)
            out[pid] = process_cpu_seconds(pid)
    return out


async def cpu_snapshot(admin: str | None, databases: list[str]) -> dict[str, Any]:
    """Cumulative CPU seconds of everything that does a sync's work: this process (both
    nodes and the client), the signature worker processes, the PostgreSQL backends serving
    ``databases`` and Redis (``REDIS_URL``), keyed by pid where processes come and go."""
    pool = signature_pool._pool  # the bench reads its workers' pids
    workers = _cpu_of(list(pool._processes or {}) if pool is not None else [])
    backends: dict[int, float] = {}
    if admin and databases:
        import asyncpg

        conn = await asyncpg.connect(admin)
        try:
            rows = await conn.fetch("SELECT pid FROM pg_stat_activity WHERE datname = ANY($1)",
                                    databases)
        finally:
            await conn.close()
        backends = _cpu_of([row["pid"] for row in rows])
    redis_s = None
    if url := os.environ.get("REDIS_URL"):
        import redis.asyncio as aioredis

        client = aioredis.Redis.from_url(url)
        try:
            info = await client.info("cpu")
        finally:
            await client.aclose()
        redis_s = float(info["used_cpu_sys"]) + float(info["used_cpu_user"])
    return {"process": time.process_time(), "workers": workers, "postgres": backends,
            "redis": redis_s}


def cpu_spent(start: dict[str, Any], end: dict[str, Any]) -> dict[str, float]:
    """CPU seconds per part between two ``cpu_snapshot``s (a process that began in between
    counts from 0) and their sum, ``server_cpu_s``."""
    out = {"process_cpu_s": end["process"] - start["process"],
           "workers_cpu_s": sum(v - start["workers"].get(pid, 0.0)
                                for pid, v in end["workers"].items()),
           "postgres_cpu_s": sum(v - start["postgres"].get(pid, 0.0)
                                 for pid, v in end["postgres"].items()),
           "redis_cpu_s": (end["redis"] - start["redis"]) if end["redis"] is not None else 0.0}
    out["server_cpu_s"] = sum(out.values())
    return {k: round(v, 2) for k, v in out.items()}


def batch(registry: NodeKey, sequence: int, changes: list[dict[str, Any]]) -> str:
    return sign_compact({"registry": registry.did, "sequence": sequence,
                         "issued_at": "2026-05-01T10:00:00Z", "changes": changes},
                        registry.private_key, kid=registry.kid, typ=BATCH_TYP)


def prepare(n: int, batch_size: int) -> tuple[dict[str, Any], list[str]]:
    root, tao, eu, es = (NodeKey.generate() for _ in range(4))
    boot = batch(eu, 1, [
        {"op": "add_issuer", "did": root.did,
         "attribute": accreditation(root, root.did, "RootTAO", root.did, None)},
        {"op": "add_issuer", "did": tao.did,
         "attribute": accreditation(root, tao.did, "TAO", root.did, "ES")}])
    tis = [{"op": "add_issuer", "did": (ti := NodeKey.generate()).did,
            "attribute": accreditation(tao, ti.did, "TI", root.did, "ES")} for _ in range(n)]
    batches = [boot] + [batch(es, i + 1, tis[start:start + batch_size])
                        for i, start in enumerate(range(0, n, batch_size))]
    settings = {"trust_anchors": [root.did], "seed_registry": False,
                "sync_registries": {eu.did: ["EU"], es.did: ["ES"]},
                "sync_max_batch_bytes": 512 * 1024 * 1024}
    return settings, batches


async def run_size(n: int, batch_size: int, postgres: str | None) -> dict[str, Any]:
    t0 = time.perf_counter()
    overrides, batches = prepare(n, batch_size)
    prepared = time.perf_counter() - t0
    # unique names: another run on the same server (run_all, another checkout) must not
    # drop or collide with this run's databases
    run = uuid.uuid4().hex[:8]
    databases = [f"tb_bench_sync_{run}_{i}" for i in range(2)] if postgres else []
    with tempfile.TemporaryDirectory() as tmp:
        servers: list[TestServer] = []
        try:
            urls: list[str] = []
            for i in range(2):
                extra: dict[str, Any] = dict(overrides)
                if postgres:
                    extra["database_url"] = await throwaway_database(postgres, databases[i],
                                                                     create=True)
                if urls:
                    extra["sync_mirror_peers"] = [urls[0]]
                    # Measured apart: with a shared Redis the mirror would otherwise pull on
                    # every registry.changed *during* the push (same process), slowing the
                    # push and leaving only the tail for the mirror timing.
                    extra["sync_mirror_on_event"] = False
                settings = Settings(environment="test", data_dir=Path(tmp) / f"n{i}", **extra)
                server = TestServer(create_app(settings), host="127.0.0.1")
                await server.start_server()
                servers.append(server)
                urls.append(str(server.make_url("")).rstrip("/"))
            # as ``trustbridge serve`` does once started: full collections then walk only
            # what was made since, not both apps' startup state
            gc_tuning.freeze_after_startup()
            timeout = aiohttp.ClientTimeout(total=3600)
            async with aiohttp.ClientSession(timeout=timeout) as session:
                cpu0 = await cpu_snapshot(postgres, databases)
                start = time.perf_counter()
                for jws in batches:
                    async with session.post(f"{urls[0]}/v1/registry/batches", data=jws,
                                            headers={"Content-Type": "application/jose"}) as r:
                        body = await r.json(content_type=None)
                        if r.status != 200:
                            raise RuntimeError(f"push refused: {r.status} {body}")
                push = time.perf_counter() - start
                cpu1 = await cpu_snapshot(postgres, databases)
                sync = servers[1].app["services"].components["sync"]
                start = time.perf_counter()
                [result] = await sync.mirror_all()
                mirror = time.perf_counter() - start
                cpu2 = await cpu_snapshot(postgres, databases)
                if result.status != "applied":
                    raise RuntimeError(f"mirror refused: {result.to_json()}")
                async with session.get(f"{urls[1]}/v1/registry/sync/status") as r:
                    status = await r.json()
        finally:
            gc_tuning.release_baseline()
            for server in servers:
                await server.close()
            if postgres:
                for name in databases:
                    await throwaway_database(postgres, name, create=False)
    return {"issuers": n, "batches": len(batches), "prepare_s": round(prepared, 2),
            "push_s": round(push, 2), "mirror_s": round(mirror, 2),
            "push_per_s": round(n / push), "mirror_per_s": round(n / mirror),
            "log_entries": status["log"]["seq"],
            "push_cpu": cpu_spent(cpu0, cpu1), "mirror_cpu": cpu_spent(cpu1, cpu2)}


async def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,5000",
                        help="comma-separated issuer counts (default 1000,5000)")
    parser.add_argument("--batch-size", type=int, default=5000,
                        help="changes per signed batch (default 5000)")
    parser.add_argument("--postgres", default=None,
                        help="admin URL of a PostgreSQL server (default: SQLite files)")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    rows: list[dict[str, Any]] = []
    print(f"{'issuers':>8} {'batches':>7} {'push s':>8} {'/s':>7} {'CPU s':>6} {'mirror s':>9} "
          f"{'/s':>7} {'CPU s':>6} {'growth (push, mirror) vs previous':>34}", flush=True)
    for n in sizes:
        row = await run_size(n, args.batch_size, args.postgres)
        growth = ""
        if rows:
            prev = rows[-1]
            growth = (f"x{row['push_s'] / max(prev['push_s'], 1e-9):.1f}, "
                      f"x{row['mirror_s'] / max(prev['mirror_s'], 1e-9):.1f} "
                      f"for x{n / prev['issuers']:.0f} issuers")
        rows.append(row)
        print(f"{n:>8} {row['batches']:>7} {row['push_s']:>8} {row['push_per_s']:>7} "
              f"{row['push_cpu']['server_cpu_s']:>6} {row['mirror_s']:>9} "
              f"{row['mirror_per_s']:>7} {row['mirror_cpu']['server_cpu_s']:>6} {growth:>34}",
              flush=True)
    for row in rows:
        for phase in ("push", "mirror"):
            parts = ", ".join(f"{k.removesuffix('_cpu_s')} {v}" for k, v in
                              row[f"{phase}_cpu"].items() if k != "server_cpu_s")
            print(f"{row['issuers']} issuers, {phase} CPU s: {parts}", flush=True)
    if args.json:
        print(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
