"""Shared benchmark machinery: a bounded load generator, percentiles, a served app in a subprocess.

Kept here so each benchmark measures the same way: at most ``concurrency`` requests in
flight, wall-clock and a deadline, latencies per request; and, for "per core" figures,
the CPU seconds the *server* process spent (``/proc/<pid>/stat``), so a client sharing
the machine does not count against the service.
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an already sorted list (``q`` in 0..1); 0.0 when empty."""
    if not sorted_values:
        return 0.0
    index = min(len(sorted_values) - 1, max(0, round(q * (len(sorted_values) - 1))))
    return sorted_values[index]


@dataclass
class LoadResult:
    """What one bounded run measured."""

    count: int
    elapsed_s: float
    latencies_s: list[float] = field(default_factory=list)
    outcomes: dict[str, int] = field(default_factory=dict)
    server_cpu_s: float | None = None

    @property
    def per_s(self) -> float:
        return self.count / self.elapsed_s if self.elapsed_s else 0.0

    @property
    def per_core_s(self) -> float | None:
        """Operations per CPU second of the server process (one core fully busy = per core)."""
        if not self.server_cpu_s:
            return None
        return self.count / self.server_cpu_s

    def summary(self) -> dict[str, Any]:
        lat = sorted(self.latencies_s)
        out: dict[str, Any] = {
            "count": self.count, "per_s": round(self.per_s, 1),
            "p50_ms": round(percentile(lat, .50) * 1000, 2),
            "p95_ms": round(percentile(lat, .95) * 1000, 2),
            "p99_ms": round(percentile(lat, .99) * 1000, 2),
            "mean_ms": round(statistics.fmean(lat) * 1000, 2) if lat else 0.0,
            "outcomes": dict(self.outcomes),
        }
        if self.server_cpu_s is not None:
            out["server_cpu_s"] = round(self.server_cpu_s, 3)
            per_core = self.per_core_s
            out["per_core_s"] = round(per_core, 1) if per_core is not None else None
        return out


async def bounded_load(op: Callable[[int], Awaitable[str]], *, concurrency: int,
                       seconds: float, max_ops: int | None = None) -> LoadResult:
    """Run ``op(i)`` for i = 0, 1, … with at most ``concurrency`` in flight until ``seconds``
    have passed (or ``max_ops`` ran). ``op`` returns an outcome label that is counted."""
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    counter = iter(range(max_ops if max_ops is not None else sys.maxsize))
    start = time.perf_counter()
    deadline = start + seconds

    async def worker() -> None:
        for i in counter:
            began = time.perf_counter()
            if began >= deadline:
                return
            label = await op(i)
            latencies.append(time.perf_counter() - began)
            outcomes[label] = outcomes.get(label, 0) + 1

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return LoadResult(count=len(latencies), elapsed_s=time.perf_counter() - start,
                      latencies_s=latencies, outcomes=outcomes)


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def throwaway_database(admin: str, name: str, *, create: bool) -> str:
    """(Re)create, or drop, database ``name`` on the PostgreSQL server of ``admin`` (a URL
    whose database is only used to connect); returns the URL of ``name``."""
    import asyncpg

    conn = await asyncpg.connect(admin)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if create:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return admin.rsplit("/", 1)[0] + "/" + name


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def wait_until_healthy(proc: subprocess.Popen[bytes], url: str, *, seconds: float, name: str,
                       exited: Callable[[], str] = lambda: "") -> None:
    """Poll ``url`` (http://127.0.0.1 only) until it answers; fail at once if ``proc`` exits
    (``exited()`` says why, e.g. the tail of its log) or after ``seconds``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{name} exited: {exited()}")
        try:
            with urllib.request.urlopen(url, timeout=1):  # noqa: S310 (http://127.0.0.1 only)
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{name} did not answer {url} within {seconds:g} s")


class ServedApp:
    """``trustbridge serve`` in a subprocess on 127.0.0.1 (its own process: its own core).

    ``env`` adds ``TRUSTBRIDGE_*`` settings; ``REDIS_URL``/``DATABASE_URL`` pass through
    from the caller's environment, so the same benchmark runs embedded or on Redis +
    PostgreSQL."""

    def __init__(self, data_dir: Path, env: Mapping[str, str] | None = None) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "TRUSTBRIDGE_ENVIRONMENT": "test",
                    "TRUSTBRIDGE_DATA_DIR": str(data_dir), "TRUSTBRIDGE_PORT": str(self.port),
                    "TRUSTBRIDGE_HOST": "127.0.0.1",
                    "TRUSTBRIDGE_RATE_LIMIT_VERIFY_PER_SECOND": "0", **(env or {})}
        self.log_path = data_dir / "serve.log"
        self.proc: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> ServedApp:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:  # a file, not a pipe: a chatty server never blocks
            self.proc = subprocess.Popen([sys.executable, "-m", "trustbridge", "serve",
                                          "--log-level", "WARNING"], cwd=ROOT, env=self.env,
                                         stdout=subprocess.DEVNULL, stderr=log)
        wait_until_healthy(self.proc, f"{self.base}/health", seconds=60, name="trustbridge serve",
                           exited=lambda: self.log_path.read_text(errors="replace")[-2000:])
        return self

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def cpu_seconds(self) -> float:
        return process_cpu_seconds(self.pid)

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
