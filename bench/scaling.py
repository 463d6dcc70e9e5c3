"""POST /v1/verify scaling: credentials per VP, worker processes, event loop, cached or not.

Workload: ``--n`` distinct JWT VPs per size (credentials per VP, ``--counts``, default
1, 5, 20), ES256 by default, made by EBSI's own libraries (``scripts/oracle/bench_verify.mjs
gen --counts``), verified with compare_ebsi's "pipeline" policy (signatures, dates, holder
binding, nonce/audience; registry, status and schema off), so every answer is ``valid``.

For each server configuration (``--configs``):

* ``1-embedded``: one process, SQLite + in-process cache (the default install);
* ``1-redis``: one process, SQLite + a throwaway Redis started here;
* ``2-redis``: ``serve --workers 2`` on the same throwaway Redis (the cache must be shared);

and each event loop (``--loops asyncio,uvloop``), the app is started twice: **uncached**
(result cache off, ``TRUSTBRIDGE_RESULT_CACHE_TTL_SECONDS=0``; DID documents and parsed keys
memoised as in steady state) and **cached** (result cache on; every VP verified once first).
Measured for each size:

* **peak**: closed loop, ``--connections`` keep-alive connections, for ``--seconds``; with
  ``wrk`` (one thread, bodies rotated by a small Lua script) when it is installed, else the
  Python raw-HTTP client below. Throughput, p50/p95/p99, and requests per CPU second of the
  server (supervisor + workers, from /proc);
* **p99 at half of peak** (cached only; the issue's target is "p99 under 10 ms at half of
  peak load"): open loop at 50 % of the measured peak for ``--half-seconds``, latency from
  each request's *scheduled* send time (no coordinated omission), 64 keep-alive connections.
  The client (``--client``) is ``bench/openloop.c``, compiled here with gcc into the run's
  temporary directory (one thread, epoll; a few % of a core), or the Python raw-HTTP client
  (20-100 % of a core: on a 2-core machine it competes with the server), or ``both``, one
  after the other on the same server. Each client's own CPU share is reported, and the
  server's, and how late the client itself sent (send lag: a starved client, not the server).

    python bench/scaling.py [--n 20] [--seconds 3] [--counts 1,5,20] [--json]
    python bench/scaling.py --configs 2-redis --loops uvloop --counts 1
    python bench/scaling.py --configs 1-redis,2-redis --loops asyncio --client both
    DATABASE_URL=postgresql://… python bench/scaling.py     # PostgreSQL instead of SQLite

Needs ``cd scripts/oracle && npm ci`` once, ``redis-server``, and ideally ``wrk``
(``apt-get install wrk``) and gcc (else the Python client does the half-peak phase).
Figures from a shared 2-core machine are rough (±20 %).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from common import LoadResult, ServedApp, bounded_load, free_port, percentile  # noqa: E402
from common import process_cpu_seconds as _cpu  # noqa: E402
from compare_ebsi import ORACLE, PIPELINE  # noqa: E402

CONFIGS = {"1-embedded": (1, False), "1-redis": (1, True), "2-redis": (2, True)}
WRK_SCRIPT = """
-- Rotates through the request bodies in the file named by the first script argument (one
-- JSON body per line); prints one JSON summary line on stdout at the end.
local requests = {}
local i = 0
function init(args)
  for line in io.lines(args[1]) do
    requests[#requests + 1] = wrk.format("POST", nil, {["Content-Type"] = "application/json"},
                                         line)
  end
end
function request()
  i = i % #requests + 1
  return requests[i]
end
function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    'WRK {"requests": %d, "duration_us": %d, "connect": %d, "read": %d, "write": %d, ' ..
    '"status": %d, "timeout": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "mean_us": %.1f}\\n',
    summary.requests, summary.duration, e.connect, e.read, e.write, e.status, e.timeout,
    latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.mean))
end
"""


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


# -- workload and backends ---------------------------------------------------------------------

def make_workload(n: int, counts: list[int], alg: str, path: Path) -> dict[str, Any]:
    if not (ORACLE / "node_modules" / "@cef-ebsi" / "verifiable-presentation").is_dir():
        raise SystemExit("EBSI's libraries are missing: cd scripts/oracle && npm ci")
    subprocess.run(["node", "bench_verify.mjs", "gen", "--n", str(n), "--out", str(path),
                    "--counts", ",".join(map(str, counts)), "--algs", alg],
                   cwd=ORACLE, check=True)
    workload: dict[str, Any] = json.loads(path.read_text())
    return workload


def request_bodies(workload: dict[str, Any], group: str) -> list[bytes]:
    return [json.dumps({"presentation": vp, "nonce": workload["nonce"],
                        "audience": workload["audience"], "at": workload["verify_at"],
                        "policy": PIPELINE}).encode() for vp in workload["groups"][group]]


# A half-peak run counts as *disturbed* (by other work on a shared machine) when the server's
# main threads spent more than this share of it runnable but without a CPU, or the C client
# itself sent its p99 request this late: the latency then measures the machine, not the
# service. A rule of thumb from the traces (bench/tailprobe): in such runs the event loop's
# stalls >10 ms had its thread on a CPU for only 8-36 % of their length.
DISTURBED_SERVER_WAIT = 0.15
DISTURBED_SEND_LAG_MS = 2.0
REDIS_PID = [0]  # the throwaway Redis, for its CPU share in the half-peak phase


@contextlib.contextmanager
def throwaway_redis() -> Iterator[str]:
    binary = shutil.which("redis-server")
    if binary is None:
        raise SystemExit("redis-server is not installed (needed for the *-redis configs)")
    port = free_port()
    proc = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                             "--appendonly", "no"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not redis_command(port, b"PING").startswith(b"+PONG"):
            if time.monotonic() > deadline:
                raise SystemExit("redis-server did not start")
            time.sleep(0.05)
        REDIS_PID[0] = proc.pid
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        REDIS_PID[0] = 0
        proc.terminate()
        proc.wait(timeout=10)


def redis_command(port: int, command: bytes) -> bytes:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(command + b"\r\n")
            return sock.recv(64)
    except OSError:
        return b""


def process_tree(pid: int) -> list[int]:
    """``pid`` and its live children (the supervisor and its workers)."""
    pids = [pid]
    with contextlib.suppress(OSError):
        pids += [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    return pids


def tree_runqueue_seconds(pid: int) -> float:
    """Seconds the main threads of ``pid`` and its live children spent runnable but waiting
    for a CPU (``/proc/<pid>/schedstat``, second field): time lost to other processes."""
    total = 0.0
    for p in process_tree(pid):
        with contextlib.suppress(OSError, IndexError, ValueError):
            total += int(Path(f"/proc/{p}/schedstat").read_text().split()[1]) / 1e9
    return total


def tree_cpu_seconds(pid: int) -> float:
    """CPU seconds of ``pid`` and its live children (the supervisor and its workers)."""
    total = _cpu(pid)
    for child in process_tree(pid)[1:]:
        with contextlib.suppress(OSError):
            total += _cpu(child)
    return total


# -- a small HTTP/1.1 client: pre-encoded requests on keep-alive connections -------------------

class Connections:
    """``size`` keep-alive connections; far less client CPU per request than aiohttp's."""

    def __init__(self, port: int, bodies: list[bytes]) -> None:
        self.port = port
        self.requests = http_requests(bodies)
        self.idle: asyncio.Queue[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = (
            asyncio.Queue())
        self.all: list[asyncio.StreamWriter] = []

    async def open(self, size: int) -> Connections:
        for _ in range(size):
            reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
            self.all.append(writer)
            self.idle.put_nowait((reader, writer))
        return self

    async def post(self, i: int) -> tuple[int, bytes]:
        reader, writer = await self.idle.get()
        try:
            writer.write(self.requests[i % len(self.requests)])
            head = await reader.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = next(int(line.split(b":", 1)[1]) for line in head.split(b"\r\n")
                          if line.lower().startswith(b"content-length:"))
            body = await reader.readexactly(length)
        finally:
            self.idle.put_nowait((reader, writer))
        return status, body

    async def close(self) -> None:
        for writer in self.all:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()


def outcome(status: int, body: bytes) -> str:
    if status != 200:
        return f"HTTP {status}"
    return str(json.loads(body)["verdict"])


async def check_and_warm(port: int, bodies: list[bytes]) -> dict[str, int]:
    """Every body once over 8 connections (both workers see some): verdicts, caches filled."""
    conns = await Connections(port, bodies).open(8)
    try:
        labels = await asyncio.gather(*(conns.post(i) for i in range(len(bodies))))
    finally:
        await conns.close()
    counts: dict[str, int] = {}
    for status, body in labels:
        label = outcome(status, body)
        counts[label] = counts.get(label, 0) + 1
    return counts


def wrk_peak(port: int, bodies_file: Path, script: Path, *, connections: int,
             seconds: float) -> dict[str, Any]:
    done = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s",
                           "-s", str(script), f"http://127.0.0.1:{port}/v1/verify", "--",
                           str(bodies_file)], capture_output=True, text=True, check=True)
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("WRK "))
    w = json.loads(line[4:])
    errors = {k: w[k] for k in ("connect", "read", "write", "status", "timeout") if w[k]}
    elapsed = w["duration_us"] / 1e6
    return {"count": w["requests"], "per_s": round(w["requests"] / elapsed, 1),
            "elapsed_s": elapsed, "p50_ms": round(w["p50_us"] / 1000, 2),
            "p95_ms": round(w["p95_us"] / 1000, 2), "p99_ms": round(w["p99_us"] / 1000, 2),
            "mean_ms": round(w["mean_us"] / 1000, 2), "errors": errors, "client": "wrk"}


async def python_peak(port: int, bodies: list[bytes], *, connections: int,
                      seconds: float) -> dict[str, Any]:
    conns = await Connections(port, bodies).open(connections)
    try:
        async def op(i: int) -> str:
            return outcome(*await conns.post(i))

        result: LoadResult = await bounded_load(op, concurrency=connections, seconds=seconds)
    finally:
        await conns.close()
    summary = result.summary()
    summary["elapsed_s"] = result.elapsed_s
    summary["errors"] = {k: v for k, v in result.outcomes.items() if k != "valid"}
    summary["client"] = "python"
    return summary


def build_openloop(tmp: Path) -> Path | None:
    """``bench/openloop.c`` compiled into ``tmp``; None (with a note) when gcc is missing or
    the build fails, so the Python client measures instead."""
    gcc = shutil.which("gcc") or shutil.which("cc")
    if gcc is None:
        log("gcc not found: the half-peak phase uses the Python client")
        return None
    binary = tmp / "openloop"
    done = subprocess.run([gcc, "-Wall", "-Wextra", "-O2", "-o", str(binary),
                           str(HERE / "openloop.c")], capture_output=True, text=True,
                          check=False)
    if done.returncode != 0 or done.stderr.strip():
        log(f"openloop.c did not build cleanly, using the Python client:\n{done.stderr}")
        return None
    return binary


def http_requests(bodies: list[bytes]) -> list[bytes]:
    return [b"POST /v1/verify HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
            b"application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(b), b) for b in bodies]


async def c_open_loop(binary: Path, port: int, requests_file: Path, *, rate: float,
                      seconds: float, connections: int = 64,
                      dump: Path | None = None) -> dict[str, Any]:
    """The same measurement as ``open_loop`` by ``openloop.c`` (see its header)."""
    argv = [str(binary), "-p", str(port), "-r", f"{rate:.1f}", "-d", str(seconds),
            "-c", str(connections), "-f", str(requests_file)]
    if dump is not None:
        argv += ["-o", str(dump)]
    proc = await asyncio.create_subprocess_exec(*argv, stdout=subprocess.PIPE,
                                                stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    if not out.strip():
        raise RuntimeError(f"openloop failed ({proc.returncode}): {err.decode()[-500:]}")
    r = json.loads(out)
    outcomes = {"ok": r["completed"] - r["non_2xx"]}
    for label, n in (("HTTP non-2xx", r["non_2xx"]), ("connection error", r["errors"]),
                     ("unanswered", r["unanswered"])):
        if n:
            outcomes[label] = n
    return {"client": "c", "rate": round(rate, 1), "count": r["completed"],
            "achieved_per_s": r["achieved_per_s"],
            **{f"{q}_ms": round(r[f"{q}_us"] / 1000, 2)
               for q in ("p50", "p95", "p99", "p999", "max")},
            "send_lag_p99_ms": round(r["send_lag_p99_us"] / 1000, 2),
            "outcomes": outcomes, "client_cpu_share": round(r["cpu_share"], 3),
            "client_runqueue_share": r["runqueue_share"],
            "start_monotonic_s": r["start_monotonic_s"]}


def requests_file(tmp: Path, group: str, bodies: list[bytes]) -> Path:
    """Pre-built requests for ``openloop``: each preceded by its length on a line."""
    path = tmp / f"requests-{group.replace('/', '-')}.bin"
    path.write_bytes(b"".join(b"%d\n%s" % (len(r), r) for r in http_requests(bodies)))
    return path


async def open_loop(port: int, bodies: list[bytes], *, rate: float, seconds: float,
                    connections: int = 64) -> dict[str, Any]:
    """Requests sent at ``rate`` per second whatever the answers; latency from the time each
    was *due*, so a stalled server shows up as latency, not as a lower send rate."""
    conns = await Connections(port, bodies).open(connections)
    loop = asyncio.get_running_loop()
    latencies: list[float] = []
    outcomes: dict[str, int] = {}
    total = max(1, int(rate * seconds))
    cpu0 = time.process_time()

    async def one(i: int, due: float) -> None:
        status, _ = await conns.post(i)  # verdicts were checked by check_and_warm
        label = "ok" if status == 200 else f"HTTP {status}"
        latencies.append(loop.time() - due)
        outcomes[label] = outcomes.get(label, 0) + 1

    try:
        start = loop.time() + 0.05
        tasks = []
        for i in range(total):
            due = start + i / rate
            delay = due - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.ensure_future(one(i, due)))
        await asyncio.gather(*tasks)
        elapsed = loop.time() - start
    finally:
        await conns.close()
    lat = sorted(latencies)
    return {"client": "python", "rate": round(rate, 1), "count": len(lat),
            "achieved_per_s": round(len(lat) / elapsed, 1),
            **{f"{name}_ms": round(percentile(lat, q) * 1000, 2)
               for name, q in (("p50", .50), ("p95", .95), ("p99", .99), ("p999", .999),
                               ("max", 1.0))},
            "outcomes": outcomes,
            "client_cpu_share": round((time.process_time() - cpu0) / elapsed, 3)}


# -- the run ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    config: str
    loop: str
    mode: str

    @property
    def name(self) -> str:
        return f"{self.config} {self.loop} {self.mode}"


async def measure_app(app: ServedApp, case: Case, workload: dict[str, Any], groups: list[str],
                      args: argparse.Namespace, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {}
    script = tmp / "post.lua"
    script.write_text(WRK_SCRIPT)
    use_wrk = shutil.which("wrk") is not None and not args.python_load
    clients: list[str | Path] = []
    if args.client in ("c", "both"):
        binary = build_openloop(tmp)
        clients.append(binary if binary is not None else "python")
    if args.client in ("python", "both") and "python" not in clients:
        clients.append("python")
    for group in groups:
        bodies = request_bodies(workload, group)
        bodies_file = tmp / f"bodies-{group.replace('/', '-')}.txt"
        bodies_file.write_bytes(b"\n".join(bodies) + b"\n")
        reqs_file = requests_file(tmp, group, bodies)
        verdicts = await check_and_warm(app.port, bodies)
        cpu0 = tree_cpu_seconds(app.pid)
        if use_wrk:
            peak = wrk_peak(app.port, bodies_file, script, connections=args.connections,
                            seconds=args.seconds)
        else:
            peak = await python_peak(app.port, bodies, connections=args.connections,
                                     seconds=args.seconds)
        cpu = tree_cpu_seconds(app.pid) - cpu0
        peak["server_cpu_s"] = round(cpu, 2)
        peak["per_core_s"] = round(peak["count"] / cpu, 1) if cpu else None
        peak["verdicts"] = verdicts
        halves = []
        if case.mode == "cached" and args.half_seconds > 0:
            for attempt in range(args.repeat):
                for client in clients:
                    halves.append(await half_peak(
                        app, client, bodies, reqs_file, rate=peak["per_s"] / 2, args=args,
                        tag=f"{case.name}-{group}-{attempt}".replace(" ", "-")
                        .replace("/", "-")))
            peak["half_peak"] = halves
        out[group] = peak
        log(f"  {case.name:30} {group:9} {peak['per_s']:>8.1f}/s  p99 {peak['p99_ms']:.1f} ms"
            + "".join(f"  | half peak {h['rate']:.0f}/s {h['client']}: p99 {h['p99_ms']:.1f} ms"
                      f" (client CPU {h['client_cpu_share']:.0%})" for h in halves)
            + (f"  errors {peak['errors']}" if peak["errors"] else ""))
    return out


def trace_window(trace: Path, start: float, seconds: float) -> dict[str, Any]:
    """What ``bench/tailprobe`` saw in [start, start + seconds] over every traced process:
    event-loop stalls over 10 ms (their total length, and the share of it the loop thread
    was on a CPU), and full GC collections (count, longest)."""
    stalls = cpu = 0.0
    count = full = 0
    longest_full = 0.0
    for path in trace.glob("*-lag.txt"):
        for line in path.read_text().splitlines():
            sent, lag, loop_cpu = (float(v) for v in line.split())
            if start <= sent < start + seconds and lag > 0.010:
                count += 1
                stalls += lag
                cpu += loop_cpu
    for path in trace.glob("*-gc.txt"):
        for line in path.read_text().splitlines():
            fields = line.split()
            if fields[1] == "2" and start <= float(fields[0]) < start + seconds:
                full += 1
                longest_full = max(longest_full, float(fields[2]))
    return {"loop_stalls_over_10ms": count, "stalled_ms": round(stalls * 1000),
            "loop_thread_on_cpu_share": round(cpu / stalls, 2) if stalls else None,
            "full_gc": full, "longest_full_gc_ms": round(longest_full * 1000, 1)}


def machine_jiffies() -> tuple[int, int]:
    """(busy, total) CPU jiffies of the whole machine, from /proc/stat."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields[:8]) - idle, sum(fields[:8])


async def half_peak(app: ServedApp, client: str | Path, bodies: list[bytes], reqs_file: Path,
                    *, rate: float, args: argparse.Namespace, tag: str) -> dict[str, Any]:
    """One open-loop run at ``rate``; ``client`` is "python" or the openloop binary. Adds the
    server's and the whole machine's CPU share over the run (other work on a shared machine
    shows as busy CPU that is neither server nor client)."""
    redis = REDIS_PID[0] if "REDIS_URL" in app.env else 0
    cpu0, (busy0, total0), t0 = tree_cpu_seconds(app.pid), machine_jiffies(), time.monotonic()
    wait0 = tree_runqueue_seconds(app.pid)
    redis0 = _cpu(redis) if redis else 0.0
    if isinstance(client, Path):
        dump = Path(args.latency_dir) / f"{tag}.txt" if args.latency_dir else None
        result = await c_open_loop(client, app.port, reqs_file, rate=rate,
                                   seconds=args.half_seconds, dump=dump)
    else:
        result = await open_loop(app.port, bodies, rate=rate, seconds=args.half_seconds)
    wall = time.monotonic() - t0
    busy1, total1 = machine_jiffies()
    result["server_cpu_share"] = round((tree_cpu_seconds(app.pid) - cpu0) / wall, 3)
    result["server_runqueue_share"] = round((tree_runqueue_seconds(app.pid) - wait0) / wall, 3)
    result["redis_cpu_share"] = round((_cpu(redis) - redis0) / wall, 3) if redis else 0.0
    machine = ((busy1 - busy0) / (total1 - total0) * (os.cpu_count() or 1)
               if total1 > total0 else 0.0)
    result["machine_busy_share"] = round(machine, 3)
    # what the machine did besides this measurement (the Python client's share is measured
    # from inside it, over the same run)
    result["other_cpu_share"] = round(max(0.0, machine - result["client_cpu_share"]
                                          - result["server_cpu_share"]
                                          - result["redis_cpu_share"]), 3)
    if args.trace and "start_monotonic_s" in result:
        await asyncio.sleep(1.2)  # the probe writes once a second
        result["trace"] = trace_window(Path(args.trace), result["start_monotonic_s"],
                                       args.half_seconds)
    result["disturbed"] = (result["server_runqueue_share"] > DISTURBED_SERVER_WAIT
                           or result.get("send_lag_p99_ms", 0.0) > DISTURBED_SEND_LAG_MS)
    return result


async def run(args: argparse.Namespace) -> dict[str, Any]:
    counts = [int(c) for c in args.counts.split(",")]
    groups = [f"{args.alg}/{c}" for c in counts]
    results: dict[str, Any] = {"bench": "scaling", "machine_cpus": os.cpu_count(),
                               "commit": git_output("rev-parse", "--short", "HEAD"),
                               "uncommitted_src": git_output("status", "--short", "--", "src")
                               .splitlines(), "load_client": "python" if args.python_load or
                               not shutil.which("wrk") else "wrk", "half_client": args.client,
                               "connections": args.connections, "seconds": args.seconds,
                               "results": {}}
    with tempfile.TemporaryDirectory(prefix="tb-scaling-") as tmp_name, \
            throwaway_redis() as redis_url:
        tmp = Path(tmp_name)
        t = time.perf_counter()
        workload = make_workload(args.n, counts, args.alg, tmp / "workload.json")
        log(f"EBSI made {len(groups) * args.n} JWT VPs in {time.perf_counter() - t:.1f} s")
        redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
        for config in args.configs.split(","):
            workers, use_redis = CONFIGS[config]
            for loop_name in args.loops.split(","):
                for mode, ttl in (("uncached", "0"), ("cached", "300")):
                    if mode not in args.modes.split(","):
                        continue
                    case = Case(config, loop_name, mode)
                    redis_command(redis_port, b"FLUSHALL")
                    env = {"TRUSTBRIDGE_WORKERS": str(workers), "TRUSTBRIDGE_LOOP": loop_name,
                           "TRUSTBRIDGE_RESULT_CACHE_TTL_SECONDS": ttl}
                    if use_redis:
                        env["REDIS_URL"] = redis_url
                    if args.trace:
                        env["PYTHONPATH"] = str(HERE / "tailprobe")
                        env["TAILPROBE_DIR"] = args.trace
                    saved = os.environ.pop("REDIS_URL", None)  # only the configured one counts
                    try:
                        with ServedApp(tmp / case.name.replace(" ", "-"), env) as app:
                            results["results"][case.name] = await measure_app(
                                app, case, workload, groups, args, tmp)
                    finally:
                        if saved is not None:
                            os.environ["REDIS_URL"] = saved
    return results


def git_output(*argv: str) -> str:
    done = subprocess.run(["git", *argv], cwd=ROOT, capture_output=True, text=True, check=False)
    return done.stdout.strip()


def table(results: dict[str, Any]) -> str:
    """One row per case and size (the peak), then one per half-peak run under it."""
    lines = [f"{'config':11} {'loop':8} {'mode':9} {'VCs':>4} {'req/s':>8} {'/core s':>8} "
             f"{'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7} {'client':>6}  notes",
             f"{'':>20} half peak: {'rate':>6} {'p50':>6} {'p95':>6} {'p99':>6} {'p99.9':>6} "
             f"{'max':>6}  CPU, share of one core: client / server / Redis / other work"]
    for name, groups in results["results"].items():
        config, loop_name, mode = name.split()
        for group, r in groups.items():
            notes = []
            if set(r["verdicts"]) != {"valid"}:
                notes.append(f"verdicts {r['verdicts']}")
            if r["errors"]:
                notes.append(f"errors {r['errors']}")
            per_core = r.get("per_core_s")
            lines.append(
                f"{config:11} {loop_name:8} {mode:9} {group.split('/')[1]:>4} {r['per_s']:>8.1f} "
                f"{per_core if per_core is not None else float('nan'):>8.1f} {r['p50_ms']:>7.2f} "
                f"{r['p95_ms']:>7.2f} {r['p99_ms']:>7.2f} {r['client']:>6}  {'; '.join(notes)}")
            for h in r.get("half_peak", []):
                notes = []
                if h["achieved_per_s"] < 0.95 * h["rate"]:
                    notes.append(f"open loop fell behind: {h['achieved_per_s']:.0f}/s")
                if set(h["outcomes"]) != {"ok"}:
                    notes.append(f"outcomes {h['outcomes']}")
                if h.get("disturbed"):
                    notes.insert(0, "DISTURBED")
                if "send_lag_p99_ms" in h:
                    notes.append(f"send lag p99 {h['send_lag_p99_ms']:.1f} ms, client waited "
                                 f"for a CPU {h['client_runqueue_share']:.0%}")
                notes.append(f"server waited for a CPU {h['server_runqueue_share']:.0%}")
                if h.get("trace"):
                    t = h["trace"]
                    notes.append(f"loop stalls >10 ms: {t['loop_stalls_over_10ms']} "
                                 f"({t['stalled_ms']} ms, loop thread on a CPU "
                                 f"{t['loop_thread_on_cpu_share'] or 0:.0%}), full GCs "
                                 f"{t['full_gc']} (longest {t['longest_full_gc_ms']} ms)")
                lines.append(
                    f"{'':>20} {h['client']:>9}: {h['rate']:>6.0f} "
                    + " ".join(f"{h[f'{q}_ms']:>6.2f}" for q in ("p50", "p95", "p99", "p999"))
                    + f" {h['max_ms']:>6.1f}  {h['client_cpu_share']:.0%} / "
                    f"{h['server_cpu_share']:.0%} / {h['redis_cpu_share']:.0%} / "
                    f"{h['other_cpu_share']:.0%}" + (f"  {'; '.join(notes)}" if notes else ""))
    lines += ["", "p99 ms at half of peak, per client: undisturbed runs (all runs)"]
    for name, groups in results["results"].items():
        for group, r in groups.items():
            cells = []
            for client in dict.fromkeys(h["client"] for h in r.get("half_peak", [])):
                runs = [h for h in r["half_peak"] if h["client"] == client]
                quiet = sorted(h["p99_ms"] for h in runs if not h["disturbed"])
                every = ", ".join(f"{h['p99_ms']:.1f}" for h in runs)
                cells.append(f"{client}: {', '.join(f'{v:.1f}' for v in quiet) or '-'} "
                             f"({every})")
            if cells:
                lines.append(f"  {name:26} {group:9} " + "   ".join(cells))
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=20, help="distinct VPs per size")
    parser.add_argument("--counts", default="1,5,20", help="credentials per VP")
    parser.add_argument("--alg", default="ES256", choices=("ES256", "EdDSA"))
    parser.add_argument("--configs", default=",".join(CONFIGS),
                        help=f"comma-separated, from {', '.join(CONFIGS)}")
    parser.add_argument("--loops", default="asyncio,uvloop", help="asyncio and/or uvloop")
    parser.add_argument("--modes", default="uncached,cached",
                        help="uncached and/or cached (p99 at half of peak: cached only)")
    parser.add_argument("--seconds", type=float, default=3.0, help="per peak measurement")
    parser.add_argument("--half-seconds", type=float, default=3.0,
                        help="per half-peak measurement (0: skip)")
    parser.add_argument("--connections", type=int, default=32, help="closed-loop connections")
    parser.add_argument("--python-load", action="store_true",
                        help="the Python client even when wrk is installed (peak phase)")
    parser.add_argument("--client", default="c", choices=("c", "python", "both"),
                        help="half-peak open-loop client: bench/openloop.c (built with gcc; "
                        "the Python client without gcc), the Python one, or both in turn")
    parser.add_argument("--latency-dir", default=None,
                        help="keep openloop's per-request latencies here (due_us latency_us "
                        "status per line), one file per case and size")
    parser.add_argument("--repeat", type=int, default=1,
                        help="half-peak runs per client and size (clients alternate)")
    parser.add_argument("--trace", default=None,
                        help="run the server with bench/tailprobe (GC collections and event-loop "
                        "lag with the loop thread's CPU time, per process) writing into this "
                        "directory")
    parser.add_argument("--json", action="store_true", help="print the results as JSON too")
    args = parser.parse_args()
    if args.latency_dir:
        Path(args.latency_dir).mkdir(parents=True, exist_ok=True)
    if args.trace:
        Path(args.trace).mkdir(parents=True, exist_ok=True)
        args.trace = str(Path(args.trace).resolve())
    unknown = set(args.configs.split(",")) - set(CONFIGS)
    if unknown:
        parser.error(f"unknown configs: {sorted(unknown)}")
    if "uvloop" in args.loops.split(","):
        try:
            import uvloop  # only: is it installed
        except ImportError:
            parser.error("uvloop is not installed (pip install uvloop) or drop it from --loops")
    started = time.perf_counter()
    try:  # the client's own loop: uvloop when installed (less client CPU), whatever the server's
        import uvloop
    except ImportError:
        results = asyncio.run(run(args))
    else:
        results = uvloop.run(run(args))
    print(table(results))
    print(f"\n(total {time.perf_counter() - started:.0f} s; {results['machine_cpus']} CPUs "
          f"shared with other work; tree {results['commit']}"
          f"{' + uncommitted src changes' if results['uncommitted_src'] else ''}; "
          f"/core s = requests per CPU second of the server processes)")
    if args.json:
        print(json.dumps(results))
    bad = [f"{name} {g}" for name, groups in results["results"].items()
           for g, r in groups.items() if set(r["verdicts"]) != {"valid"} or r["errors"]]
    if bad:
        print(f"unexpected verdicts or errors in: {bad}", file=sys.stderr)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
