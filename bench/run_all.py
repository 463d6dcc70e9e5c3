"""Every benchmark of issue 11 in one pass (about 10 minutes on 2 cores), ending in ONE table.

    python bench/run_all.py                    # what `make bench` runs
    python bench/run_all.py --embedded-only    # no Redis, no PostgreSQL
    python bench/run_all.py --only compare_ebsi scaling
    python bench/run_all.py --full             # + 1,000,000 issuers on both backends (slow)

Each script runs in its own process with ``--json`` and time-boxed settings (see ``steps``);
its whole output (human report, progress, JSON) goes to ``bench/out/run_all/<step>.log`` and
its JSON is collected. Every step runs twice where the issue asks for both: with the
**embedded** default (SQLite + in-process cache; ``REDIS_URL``/``DATABASE_URL`` removed from
its environment) and with **Redis + PostgreSQL**: a throwaway ``redis-server`` this script
starts on a free port (``--save ''``, flushed before every step) and a throwaway PostgreSQL
database per step on ``--postgres`` (default ``$TRUSTBRIDGE_TEST_PG`` or
postgresql://postgres@127.0.0.1:5432/postgres, trust auth), dropped afterwards
(``registry_query.py`` and ``sync.py`` make their own databases on the same server).

The pass has a time budget (``--budget-minutes``, default 10): the step running when it
is reached is stopped (SIGINT to its process group, so it still drops its databases) and the
rest are skipped, their rows saying so. The embedded steps run first and the two 100k-issuer
syncs last. On an idle 2-core machine everything fits; with other work on the machine the
syncs are what is cut (``--budget-minutes 0`` runs everything, however long it takes).

At the end it prints one table -- every figure, each row saying embedded or Redis +
PostgreSQL -- and writes it to ``bench/out/bench-table.md`` and ``bench/out/bench-table.json``
(with each step's command, status and raw JSON in ``bench/out/run_all-raw.json``). A figure
this pass could not measure is a row saying so and giving the command that measures it.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))

from common import throwaway_database  # noqa: E402
from scaling import git_output, redis_command, throwaway_redis  # noqa: E402

EMBEDDED = "embedded"
REDIS_PG = "Redis + PostgreSQL"
NONE = "-"
PG_ADMIN = os.environ.get("TRUSTBRIDGE_TEST_PG", "postgresql://postgres@127.0.0.1:5432/postgres")
# registry_query.py keeps its generated data and filled SQLite stores here (same names)
REGISTRY_CACHE = Path(tempfile.gettempdir()) / "trustbridge-bench-registry"
STOP_GRACE_S = 20
ORDER = ["crypto_limit", "resolve", "verify", "compare_ebsi", "floor", "scaling",
         "registry_query", "sync"]


@dataclass
class Step:
    """One script run: ``backend`` says which environment it gets; ``database`` whether it
    needs a throwaway ``DATABASE_URL`` (Redis + PostgreSQL only)."""

    name: str
    script: str
    args: list[str]
    backend: str
    timeout_s: float
    database: bool = False
    redis: bool = True
    min_s: float = 20.0  # not started with less of the budget left (a quiet machine's time)
    status: str = "not run"
    seconds: float = 0.0
    result: Any = None
    note: str = ""
    env: dict[str, str] = field(default_factory=dict)

    @property
    def key(self) -> str:
        return f"{self.name}/{'redis-pg' if self.backend == REDIS_PG else 'embedded'}"

    def command(self) -> str:
        prefix = ""
        if self.backend == REDIS_PG:
            prefix = "REDIS_URL=redis://… " if self.redis else ""
            prefix += "DATABASE_URL=postgresql://… " if self.database else ""
        return f"{prefix}python bench/{self.script}.py {' '.join(self.args)}"


def registry_sizes(full: bool) -> tuple[list[int], list[int], list[int]]:
    """(SQLite sizes, PostgreSQL sizes, sizes left out): 1M only when --full, or for SQLite
    when its filled store is already cached (registry_query copies it: seconds, not ~10 min)."""
    sqlite, pg, left = [1000, 100_000], [1000, 100_000], []
    cached_1m = any(REGISTRY_CACHE.glob("store-sqlite-1000000-v*.sqlite3"))
    if full or cached_1m:
        sqlite.append(1_000_000)
    if full:
        pg.append(1_000_000)
    else:
        left.append(1_000_000)
    return sqlite, pg, left


def steps(args: argparse.Namespace) -> list[Step]:
    """The time-boxed settings: ~7-9 minutes in all on this 2-core machine (first run: plus
    ~1 min to sign and store the 100k-issuer registry, cached afterwards)."""
    sqlite_sizes, pg_sizes, _ = registry_sizes(args.full)
    sync_size = str(args.sync_issuers)
    out: list[Step] = []

    def both(name: str, common_args: list[str], timeout: float, *, embedded_args: list[str]
             | None = None, pg_args: list[str] | None = None, database: bool = False,
             redis: bool = True, min_s: float = 20.0) -> None:
        out.append(Step(name, name, common_args + (embedded_args or []), EMBEDDED, timeout,
                        min_s=min_s))
        if not args.embedded_only:
            out.append(Step(name, name, common_args + (pg_args or []), REDIS_PG, timeout,
                            database=database, redis=redis, min_s=min_s))

    out.append(Step("crypto_limit", "crypto_limit", ["--seconds", "1", "--json"], NONE, 60))
    both("resolve", ["--n", "1000", "--web-n", "200", "--json"], 180)
    both("verify", ["--requests", "2000", "--max-seconds", "3"], 120, database=True)
    out.append(Step("compare_ebsi", "compare_ebsi",
                    ["--n", "20", "--seconds", "1", "--json"], EMBEDDED, 300))
    if not args.embedded_only:
        out.append(Step("compare_ebsi", "compare_ebsi",
                        ["--n", "20", "--seconds", "1", "--skip-ebsi", "--skip-didkit",
                         "--json"], REDIS_PG, 300, database=True))
    out.append(Step("floor", "floor", ["--seconds", "2", "--n", "20", "--json"], EMBEDDED, 180))
    scaling = ["--loops", "asyncio", "--counts", "1,5,20", "--n", "20", "--seconds", "2",
               "--half-seconds", "2", "--json"]
    out.append(Step("scaling", "scaling", ["--configs", "1-embedded", *scaling], EMBEDDED, 300))
    if not args.embedded_only:  # scaling starts its own Redis for the *-redis configs
        out.append(Step("scaling", "scaling", ["--configs", "1-redis,2-redis", *scaling],
                        REDIS_PG, 420, database=True, redis=False))
    both("registry_query", ["--distinct", "1000", "--json"], 900 if args.full else 420,
         embedded_args=["--backend", "sqlite", "--sizes", ",".join(map(str, sqlite_sizes))],
         pg_args=["--backend", "postgresql", "--sizes", ",".join(map(str, pg_sizes))])
    both("sync", ["--sizes", sync_size, "--json"], 420, pg_args=["--postgres", args.postgres],
         min_s=75 * args.sync_issuers / 100_000)
    wanted = set(args.only or ORDER)
    # the embedded default first, and the two 100k syncs (the longest steps, and the most
    # sensitive to other work on the machine) last: if the budget runs out, they go first
    return sorted((s for s in out if s.name in wanted),
                  key=lambda s: (s.name == "sync", s.backend == REDIS_PG))


# -- running ---------------------------------------------------------------------------------

def parse_json_tail(text: str) -> Any:
    """The JSON document that ends ``text`` (one line or indented over many lines)."""
    lines = text.rstrip().splitlines()
    decoder = json.JSONDecoder()
    for i in range(len(lines) - 1, -1, -1):
        if not lines[i].startswith(("{", "[")):
            continue
        tail = "\n".join(lines[i:])
        try:
            value, end = decoder.raw_decode(tail)
        except json.JSONDecodeError:
            continue
        if not tail[end:].strip():
            return value
    raise ValueError("no JSON document at the end of the output")


def run_step(step: Step, env: dict[str, str], log_dir: Path, timeout: float) -> None:
    log_path = log_dir / f"{step.key.replace('/', '-')}.log"
    argv = [sys.executable, str(HERE / f"{step.script}.py"), *step.args]
    started = time.perf_counter()
    with log_path.open("w") as log, tempfile.TemporaryFile("w+") as stdout:
        log.write(f"$ {step.command()}\n\n")
        log.flush()
        # its own session: on a timeout the whole group (servers it started too) is stopped
        proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=stdout, stderr=log,
                                start_new_session=True)
        try:
            rc = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            # SIGINT first: asyncio cancels the script's main task, so its `finally` blocks
            # still drop the databases and stop the servers it made
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGINT)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            rc = None
        stdout.seek(0)
        text = stdout.read()
        log.write("\n---- stdout ----\n" + text)
    step.seconds = time.perf_counter() - started
    if rc is None:
        step.status = (f"timed out after {timeout:.0f} s" if timeout >= step.timeout_s else
                       f"stopped after {timeout:.0f} s, at the end of the run's time budget")
        return
    try:
        step.result = parse_json_tail(text)
    except ValueError:
        step.status = f"failed (exit {rc}, no JSON)"
        return
    step.status = "ok" if rc == 0 else f"exit {rc} (see log)"


def postgres_reachable(admin: str) -> str | None:
    """None when ``admin`` answers, else why not."""
    async def probe() -> None:
        import asyncpg

        conn = await asyncpg.connect(admin, timeout=5)
        await conn.close()

    try:
        asyncio.run(probe())
    except Exception as exc:  # any failure means: not available
        return f"{type(exc).__name__}: {exc}"
    return None


def run_all(todo: list[Step], args: argparse.Namespace, log_dir: Path) -> None:
    base_env = {k: v for k, v in os.environ.items() if k not in ("REDIS_URL", "DATABASE_URL")}
    base_env["TRUSTBRIDGE_TEST_PG"] = args.postgres
    redis_port: int | None = None
    with contextlib.ExitStack() as stack:
        if any(s.backend == REDIS_PG for s in todo):
            why = postgres_reachable(args.postgres)
            try:
                redis_url = stack.enter_context(throwaway_redis())
            except SystemExit as exc:  # no redis-server, or it did not start
                why = why or str(exc)
            else:
                redis_port = int(redis_url.rsplit(":", 1)[1].split("/")[0])
            if why:
                for s in todo:
                    if s.backend == REDIS_PG:
                        s.status = f"not run: {why}"
        total = len(todo)
        started = time.perf_counter()
        for i, step in enumerate(todo, 1):
            timeout = step.timeout_s
            if args.budget_minutes > 0:  # STOP_GRACE_S kept for stopping and the table
                left = args.budget_minutes * 60 - STOP_GRACE_S - (time.perf_counter() - started)
                if left < step.min_s:
                    step.status = (f"not run: {max(left, 0):.0f} s of the run's "
                                   f"{args.budget_minutes:g}-min budget left, it needs "
                                   f"~{step.min_s:.0f} s (--budget-minutes 0: no budget)")
                timeout = min(timeout, left)
            if step.status != "not run":
                print(f"== [{i}/{total}] {step.key}: {step.status}", flush=True)
                continue
            env = dict(base_env)
            database = None
            if step.backend == REDIS_PG:
                assert redis_port is not None
                redis_command(redis_port, b"FLUSHALL")
                if step.redis:
                    env["REDIS_URL"] = f"redis://127.0.0.1:{redis_port}/0"
                if step.database:
                    database = f"tb_runall_{uuid.uuid4().hex[:8]}"
                    env["DATABASE_URL"] = asyncio.run(
                        throwaway_database(args.postgres, database, create=True))
            print(f"== [{i}/{total}] {step.key}: {step.command()}", flush=True)
            try:
                run_step(step, env, log_dir, timeout)
            finally:
                if database:
                    asyncio.run(throwaway_database(args.postgres, database, create=False))
            print(f"   {step.status} in {step.seconds:.0f} s "
                  f"(log: {log_dir.relative_to(ROOT) if log_dir.is_relative_to(ROOT) else log_dir}"
                  f"/{step.key.replace('/', '-')}.log)", flush=True)


# -- the table ---------------------------------------------------------------------------------

COLUMNS = ("section", "measurement", "backend", "workload", "value", "unit", "p50 ms",
           "p95 ms", "p99 ms", "notes")


def _num(value: float | None, digits: int = 0) -> str:
    if value is None:
        return ""
    if digits == 0 and abs(value) >= 10:
        return f"{value:,.0f}"
    return f"{value:,.{max(digits, 1) if abs(value) < 10 else digits}f}"


def _ms(value: float | None) -> str:
    if value is None:
        return ""
    return f"{value:.1f}" if value < 100 else f"{value:.0f}"


RIGHT = {"value", "p50 ms", "p95 ms", "p99 ms"}


class Table:
    def __init__(self, steps_: list[Step]) -> None:
        self.rows: list[dict[str, str]] = []
        self.steps = {s.key: s for s in steps_}

    def add(self, section: str, measurement: str, backend: str, workload: str = "",
            value: float | str | None = None, unit: str = "", p50: float | None = None,
            p95: float | None = None, p99: float | None = None, notes: str = "",
            digits: int = 0) -> None:
        shown = value if isinstance(value, str) else _num(value, digits)
        self.rows.append(dict(zip(COLUMNS, (section, measurement, backend, workload, shown, unit,
                                            _ms(p50), _ms(p95), _ms(p99), notes), strict=True)))

    def missing(self, section: str, measurement: str, backend: str, workload: str,
                step: Step | None, command: str | None = None) -> None:
        why = "not run in this pass" if step is None else f"{step.status}"
        cmd = command or (step.command() if step is not None else "")
        self.add(section, measurement, backend, workload, "-", notes=f"{why}: {cmd}".rstrip(": "))

    def result(self, name: str, backend: str) -> tuple[Step | None, Any]:
        step = self.steps.get(f"{name}/{'redis-pg' if backend == REDIS_PG else 'embedded'}")
        if step is None or step.result is None:
            return step, None
        return step, step.result

    def text(self) -> str:
        """Aligned columns; each section a heading line instead of a column."""
        columns = COLUMNS[1:]
        widths = [max(len(c), *(len(r[c]) for r in self.rows)) if self.rows else len(c)
                  for c in columns]
        widths[-1] = len(columns[-1])  # notes: last, never padded

        def line(cells: list[str]) -> str:
            return "  ".join(c.rjust(w) if name in RIGHT else c.ljust(w)
                             for c, w, name in zip(cells, widths, columns, strict=True)).rstrip()

        out = [line(list(columns)), line(["-" * w for w in widths])]
        previous = None
        for r in self.rows:
            if r["section"] != previous:
                out.append(f"-- {r['section']}")
            previous = r["section"]
            out.append(line([r[c] for c in columns]))
        return "\n".join(out)

    def markdown(self) -> str:
        """One markdown table; the section named on its first row only."""
        out = ["| " + " | ".join(COLUMNS) + " |",
               "|" + "|".join("---:" if c in RIGHT else "---" for c in COLUMNS) + "|"]
        previous = None
        for r in self.rows:
            cells = [r[c].replace("|", "/") for c in COLUMNS]
            if r["section"] == previous:
                cells[0] = ""
            else:
                cells[0] = f"**{cells[0]}**"
            previous = r["section"]
            out.append("| " + " | ".join(cells) + " |")
        return "\n".join(out)


GROUPS = ("ES256/1", "ES256/5", "EdDSA/1", "EdDSA/5")


def build_table(todo: list[Step], args: argparse.Namespace) -> Table:
    t = Table(todo)
    backends = [EMBEDDED] if args.embedded_only else [EMBEDDED, REDIS_PG]
    ran = {s.name for s in todo}  # with --only, the other scripts' sections are left out
    for script, rows in SECTIONS:
        if script in ran:
            rows(t, backends, args)
    return t


def crypto_rows(t: Table, backends: list[str], args: argparse.Namespace) -> None:
    step, r = t.result("crypto_limit", NONE)
    sec = "crypto limit"
    if r is None:
        t.missing(sec, "signature verifications/s (cryptography, one core)", NONE, "", step,
                  "python bench/crypto_limit.py")
        return
    for key, name in (("ed25519_verify_per_s", "Ed25519 verify"),
                      ("es256_verify_per_s", "ES256 verify"),
                      ("es256k_verify_per_s", "ES256K verify")):
        t.add(sec, name, NONE, "one signature", r[key], "/s")
    t.add(sec, "VP ceiling (2 signature checks)", NONE, "ES256/1",
          r["es256_verify_per_s"] / 2, "/s", notes="a VP with k VCs needs k+1 checks")


def verify_rows(t: Table, backends: list[str], args: argparse.Namespace) -> None:
    sec = "verify.py (EBSI vector)"
    for backend in backends:
        step, r = t.result("verify", backend)
        for mode in ("uncached", "cached"):
            m = f"POST /v1/verify {mode}"
            if r is None or mode not in r:
                t.missing(sec, m, backend, "1 VP, 2 VCs", step)
                continue
            x = r[mode]
            notes = "client in the server's process (wall clock)"
            if set(x.get("verdicts", {})) != {"valid"}:
                notes += f"; verdicts {x.get('verdicts')}"
            t.add(sec, m, backend, "1 VP, 2 VCs (ES256)", x["req_per_s"], "req/s",
                  x["p50_ms"], x["p95_ms"], x["p99_ms"], notes)


def compare_rows(t: Table, backends: list[str], args: argparse.Namespace) -> None:
    sec = "VP verification over HTTP (compare_ebsi)"
    embedded_step, embedded = t.result("compare_ebsi", EMBEDDED)
    for backend in backends:
        step, r = t.result("compare_ebsi", backend)
        for key, name in (("uncached pipeline", "uncached, pipeline policy"),
                          ("cached pipeline", "cached (repeat), pipeline policy"),
                          ("uncached full", "uncached, full policy")):
            for g in GROUPS:
                x = (r or {}).get("tb_http", {}).get(f"{key} {g}")
                if x is None:
                    t.missing(sec, name, backend, g, step)
                    continue
                notes = f"{x['per_s']:,.0f} req/s wall clock"
                if key.endswith("pipeline") and set(x["outcomes"]) != {"valid"}:
                    notes += f"; outcomes {x['outcomes']}"
                t.add(sec, name, backend, g, x.get("per_core_s"), "/core s", x["p50_ms"],
                      x["p95_ms"], x["p99_ms"], notes)
        for g in GROUPS:
            x = (r or {}).get("tb_in_process", {}).get(f"pipeline {g}")
            if x is not None:
                t.add(sec, "in-process Verifier.verify, pipeline", backend, g,
                      x.get("per_core_s"), "/core s", notes="no HTTP")
    sec = "EBSI / didkit side by side"
    for lib, name in (("ebsi", "EBSI @cef-ebsi/verifiable-presentation (JWT)"),
                      ("didkit", "didkit verify_presentation (JSON-LD)")):
        for g in GROUPS:
            x = (embedded or {}).get(lib, {}).get(g)
            if x is None:
                t.missing(sec, name, NONE, g, embedded_step)
                continue
            notes = "per CPU second of Node" if lib == "ebsi" else "per CPU second"
            if x["outcomes"].get("invalid"):
                notes += f"; outcomes {x['outcomes']}"
            t.add(sec, name, NONE, g, x.get("per_core_s"), "/core s", notes=notes)
    sec = "ratios (per core)"
    for name, by_group in ((embedded or {}).get("ratios") or {}).items():
        for g in GROUPS:
            value = by_group.get(g)
            if value is not None:
                t.add(sec, name, EMBEDDED, g, f"{value:.2f}", "x")
    if REDIS_PG in backends:  # the Redis + PostgreSQL run skips EBSI/didkit: the same pass's
        _, pg = t.result("compare_ebsi", REDIS_PG)  # embedded-run figures are the reference
        for other, lib in (("EBSI", "ebsi"), ("didkit", "didkit")):
            for g in GROUPS:
                mine = (pg or {}).get("tb_http", {}).get(f"uncached pipeline {g}", {})
                theirs = (embedded or {}).get(lib, {}).get(g, {})
                if mine.get("per_core_s") and theirs.get("per_core_s"):
                    t.add(sec, f"TB HTTP uncached / {other}", REDIS_PG, g,
                          f"{mine['per_core_s'] / theirs['per_core_s']:.2f}", "x",
                          notes=f"{other} figure from the embedded step of this pass")


def floor_rows(t: Table, backends: list[str], args: argparse.Namespace) -> None:
    sec = "crypto-limit share (floor.py)"
    step, r = t.result("floor", EMBEDDED)
    if r is None:
        t.missing(sec, "uncached VP: server CPU split", EMBEDDED, "ES256/1", step)
        return
    g = f"{r.get('alg', 'ES256')}/1"
    for key, name in (("floor_plain", "bare aiohttp, same request/reply (floor)"),
                      ("floor_json", "bare aiohttp + json.loads"),
                      ("floor_lean", "lean Python verifier (bound: signatures + claims)"),
                      ("trustbridge", "TrustBridge uncached /v1/verify")):
        t.add(sec, name, EMBEDDED, g, r[key]["us_per_request"], "µs CPU/req", digits=1,
              notes=f"{r[key]['per_core_s']:,.0f} /core s")
    s = r["split_us"]
    t.add(sec, "TrustBridge split: floor + signatures + rest", EMBEDDED, g,
          f"{s['floor']:.0f} + {s['signatures']:.0f} + {s['rest']:.0f}", "µs")
    t.add(sec, "share of the crypto limit reached", EMBEDDED, g,
          f"{r['share_of_limit']:.0%}", "", notes="issue target 40 %")
    t.add(sec, "best share on this HTTP stack (rest = 0)", EMBEDDED, g,
          f"{r['best_share_on_this_stack']:.0%}", "")
    t.add(sec, "share reached by the lean Python verifier", EMBEDDED, g,
          f"{r['lean_share_of_limit']:.0%}", "")


SCALING_CONFIGS = (("1-embedded", EMBEDDED, "1 process"), ("1-redis", REDIS_PG, "1 process"),
                   ("2-redis", REDIS_PG, "2 workers"))


def scaling_rows(t: Table, backends: list[str], args: argparse.Namespace) -> None:
    sec = "scaling: VCs per VP, 1 vs 2 workers (wrk peak)"
    counts = ("1", "5", "20")
    peaks: dict[tuple[str, str, str], float] = {}
    for config, backend, procs in SCALING_CONFIGS:
        if backend == REDIS_PG and args.embedded_only:
            continue
        step, r = t.result("scaling", backend)
        for mode in ("uncached", "cached"):
            groups = ((r or {}).get("results") or {}).get(f"{config} asyncio {mode}") or {}
            for c in counts:
                x = next((v for g, v in groups.items() if g.endswith(f"/{c}")), None)
                name = f"{mode}, {procs}"
                workload = f"ES256, {c} VC{'s' if c != '1' else ''}"
                if x is None:
                    t.missing(sec, name, backend, workload, step)
                    continue
                notes = [f"{x['per_s']:,.0f} req/s wall clock"]
                peaks[(config, mode, c)] = x["per_s"]
                for h in x.get("half_peak") or []:
                    notes.append(f"p99 at half peak {h['p99_ms']:.1f} ms at {h['rate']:,.0f}/s "
                                 f"({h.get('client', '?')} client"
                                 + (", DISTURBED: the server or client waited for a CPU)"
                                    if h.get("disturbed") else ")"))
                if x.get("errors"):
                    notes.append(f"errors {x['errors']}")
                if set(x.get("verdicts", {"valid": 1})) != {"valid"}:
                    notes.append(f"verdicts {x['verdicts']}")
                t.add(sec, name, backend, workload, x.get("per_core_s"), "/core s",
                      x.get("p50_ms"), x.get("p95_ms"), x.get("p99_ms"), "; ".join(notes))
    for mode in ("uncached", "cached"):
        for c in counts:
            one, two = peaks.get(("1-redis", mode, c)), peaks.get(("2-redis", mode, c))
            if one and two:
                t.add(sec, f"{mode}: 2 workers / 1 process (req/s)", REDIS_PG,
                      f"ES256, {c} VC{'s' if c != '1' else ''}", f"{two / one:.2f}", "x",
                      notes="2 shared cores: wrk, Redis and PostgreSQL use them too")


def resolve_rows(t: Table, backends: list[str], args: argparse.Namespace) -> None:
    sec = "DID resolution (resolve.py, in-process)"
    for backend in backends:
        step, r = t.result("resolve", backend)
        label = backend if backend == EMBEDDED else "Redis (cache)"
        if r is None:
            t.missing(sec, "did:key / did:jwk / did:web, cold and cached", label, "", step)
            continue
        for x in r:
            notes = "resolutions read no database" if backend != EMBEDDED else ""
            if x.get("failures"):
                notes = f"{x['failures']} failures; {notes}"
            t.add(sec, x["scenario"], label, f"{x['resolutions']} DIDs", x["per_second"],
                  "/s", x["p50_ms"], x["p95_ms"], x["p99_ms"], notes.strip("; "))


def registry_rows(t: Table, backends: list[str], args: argparse.Namespace) -> None:
    sec = "accreditation query vs registry size"
    sqlite_sizes, pg_sizes, _ = registry_sizes(args.full)
    for backend in backends:
        step, r = t.result("registry_query", backend)
        label = "SQLite + in-process cache" if backend == EMBEDDED else "PostgreSQL + Redis"
        by_key = {(x["issuers"], x["cache"]): x for x in r or []}
        for n in (1000, 100_000, 1_000_000):
            for cache in ("cold", "warm"):
                name = f"GET /v1/registry/accreditation, {cache}"
                workload = f"{n:,} issuers"
                x = by_key.get((n, cache))
                if x is None:
                    sizes = sqlite_sizes if backend == EMBEDDED else pg_sizes
                    flag = "sqlite" if backend == EMBEDDED else "postgresql"
                    cmd = (f"python bench/registry_query.py --backend {flag} --sizes {n}"
                           + ("" if backend == EMBEDDED else " (with REDIS_URL set)"))
                    if n in sizes:
                        t.missing(sec, name, backend, workload, step, cmd)
                    else:
                        slow = ("first run ~10 min: 1M accreditations signed and stored, "
                                "cached afterwards" if backend == EMBEDDED
                                else "~2 min to fill PostgreSQL on every run")
                        t.add(sec, name, backend, workload, "-",
                              notes=f"not run in this pass ({slow}): {cmd}, or run_all --full")
                    continue
                done = ("store cached" if x.get("insert_s") is None
                        else f"filled in {x['insert_s']:.0f} s")
                if x.get("cpu_ms") is not None:
                    done += f"; {x['cpu_ms']:.2f} ms CPU/query (client + server process)"
                t.add(sec, name, backend, workload, x["req_s"], "req/s", x["p50_ms"],
                      x["p95_ms"], x["p99_ms"],
                      f"{label}; {x['distinct']} distinct issuers, {x['accredited']} accredited;"
                      f" {done}")


def sync_rows(t: Table, backends: list[str], args: argparse.Namespace) -> None:
    sec = "registry sync over HTTP"
    for backend in backends:
        step, r = t.result("sync", backend)
        x = next((row for row in r or [] if row["issuers"] == args.sync_issuers), None)
        workload = f"{args.sync_issuers:,} issuers"
        if x is None:
            t.missing(sec, "push then mirror", backend, workload, step)
            continue
        label = "SQLite" if backend == EMBEDDED else "PostgreSQL (+ Redis)"
        t.add(sec, "push (signed batches to node A)", backend, workload, x["push_s"], "s",
              notes=f"{x['push_per_s']:,} issuers/s; {x['batches']} batches; {label}; target "
              "< 60 s", digits=1)
        t.add(sec, "mirror (node B pulls A's log)", backend, workload, x["mirror_s"], "s",
              notes=f"{x['mirror_per_s']:,} issuers/s; {label}", digits=1)


Rows = Callable[[Table, list[str], argparse.Namespace], None]
SECTIONS: list[tuple[str, Rows]] = [
    ("crypto_limit", crypto_rows), ("verify", verify_rows), ("compare_ebsi", compare_rows),
    ("floor", floor_rows), ("scaling", scaling_rows), ("resolve", resolve_rows),
    ("registry_query", registry_rows), ("sync", sync_rows)]


# -- main ------------------------------------------------------------------------------------

def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--only", nargs="*", default=None, choices=ORDER, metavar="NAME",
                        help=f"run only these scripts ({', '.join(ORDER)})")
    parser.add_argument("--embedded-only", action="store_true",
                        help="skip the Redis + PostgreSQL runs")
    parser.add_argument("--full", action="store_true",
                        help="also 1,000,000 issuers on both backends (the first run signs "
                        "1M accreditations: ~10 min more)")
    parser.add_argument("--budget-minutes", type=float, default=10.0,
                        help="stop the step running when the whole pass reaches this, and "
                        "skip the rest: their rows say so (default 10; 0: no budget)")
    parser.add_argument("--sync-issuers", type=int, default=100_000,
                        help="issuers pushed and mirrored by sync.py (default 100000)")
    parser.add_argument("--postgres", default=PG_ADMIN,
                        help="admin URL of the PostgreSQL server for throwaway databases")
    parser.add_argument("--out", default=str(HERE / "out"),
                        help="where the logs, bench-table.{md,json} and raw JSON go")
    parser.add_argument("--from-json", default=None, metavar="RAW",
                        help="run nothing: print the table of an earlier pass's "
                        "run_all-raw.json (and write bench-table.{md,json} from it)")
    args = parser.parse_args()
    out_dir = Path(args.out)
    log_dir = out_dir / "run_all"
    log_dir.mkdir(parents=True, exist_ok=True)
    todo = steps(args)
    if args.from_json:
        meta = json.loads(Path(args.from_json).read_text())
        by_key = {s["step"]: s for s in meta["steps"]}
        for step in todo:
            done = by_key.get(step.key, {})
            step.status, step.seconds = done.get("status", "not run"), done.get("seconds", 0.0)
            step.result = meta["results"].get(step.key)
        meta.pop("results")
    else:
        started = time.perf_counter()
        load_before = os.getloadavg()
        run_all(todo, args, log_dir)
        wall = time.perf_counter() - started
        meta = {"date": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
                "commit": git_output("rev-parse", "--short", "HEAD"),
                "uncommitted_src": bool(git_output("status", "--short", "--", "src")),
                "cpus": os.cpu_count(), "python": platform.python_version(),
                "load_average_before": [round(x, 2) for x in load_before],
                "load_average_after": [round(x, 2) for x in os.getloadavg()],
                "wall_seconds": round(wall), "embedded_only": args.embedded_only,
                "steps": [{"step": s.key, "command": s.command(), "status": s.status,
                           "seconds": round(s.seconds, 1)} for s in todo]}
    table = build_table(todo, args)
    heading = (f"TrustBridge benchmarks, {meta['date']}, tree {meta['commit']}"
               f"{' + uncommitted src' if meta['uncommitted_src'] else ''}, {meta['cpus']} CPUs, "
               f"load average {meta['load_average_before'][0]:.1f} before the run; whole pass "
               f"{meta['wall_seconds'] / 60:.1f} min\n/core s = per CPU second of the verifying "
               "process (server processes for HTTP; Node for EBSI); latencies are closed-loop "
               "at full load unless noted.")
    print("\n" + heading + "\n")
    print(table.text())
    failed = [s for s in todo if s.status != "ok"]
    for s in failed:
        print(f"!! {s.key}: {s.status}")
    (out_dir / "bench-table.md").write_text(heading.replace("\n", "  \n") + "\n\n"
                                            + table.markdown() + "\n")
    (out_dir / "bench-table.json").write_text(json.dumps({**meta, "rows": table.rows},
                                                         indent=1) + "\n")
    if not args.from_json:
        (out_dir / "run_all-raw.json").write_text(json.dumps(
            {**meta, "results": {s.key: s.result for s in todo}}, indent=1) + "\n")
    print(f"\n(written: {out_dir}/bench-table.md, bench-table.json, run_all-raw.json; "
          f"logs in {log_dir}/)")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
