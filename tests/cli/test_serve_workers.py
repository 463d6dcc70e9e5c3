"""``trustbridge serve --workers 2`` as a real process tree on 127.0.0.1 with a real Redis.

Both workers answer; an OpenID4VP session made on one is read and answered on the other;
a killed worker is replaced; a worker that keeps dying makes the supervisor give up with a
non-zero status; SIGTERM stops everything cleanly; without Redis it refuses to start.
"""

from __future__ import annotations

import asyncio
import http.client
import itertools
import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest

from tests.conftest import ROOT, free_port
from tests.oid4vp.wallet import DEGREE, TestWallet, request_uri_of, verify_request_object

pytestmark = pytest.mark.redis
RELAXED = {"require_accredited_issuer": False, "check_status": False, "check_schema": False}
STARTED = re.compile(r"worker (\d+) started, pid (\d+)")
_redis_db = itertools.count(1)


class Served:
    """The supervisor subprocess, its log (a file: never blocks) and HTTP helpers."""

    def __init__(self, proc: subprocess.Popen[bytes], port: int, log_path: Path) -> None:
        self.proc, self.port, self.log_path = proc, port, log_path

    def log_lines(self) -> list[dict[str, Any]]:
        """Log records (JSON lines with a logger and a message; access lines are left out)."""
        text = self.log_path.read_text(errors="replace")
        records = [json.loads(ln) for ln in text.splitlines() if ln.startswith("{")]
        return [r for r in records if "logger" in r and "message" in r]

    def workers(self) -> dict[int, list[int]]:
        """Worker slot -> the pids it has had, in order."""
        out: dict[int, list[int]] = {}
        for line in self.log_lines():
            match = STARTED.fullmatch(line["message"])
            if line["logger"] == "trustbridge.serve" and match:
                out.setdefault(int(match[1]), []).append(int(match[2]))
        return out

    def request(self, method: str, path: str, body: bytes | None = None,
                content_type: str = "application/json",
                conn: http.client.HTTPConnection | None = None) -> tuple[str, int, Any]:
        """One request, on ``conn`` or on a new connection (the kernel picks the worker)."""
        own = conn is None
        conn = conn or http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
        try:
            headers = {"Content-Type": content_type} if body is not None else {}
            conn.request(method, path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
            worker = resp.getheader("X-TrustBridge-Worker") or ""
            ctype = resp.getheader("Content-Type") or ""
            return worker, resp.status, json.loads(data) if "json" in ctype else data.decode()
        finally:
            if own:
                conn.close()

    def connection_to(self, worker: str) -> http.client.HTTPConnection:
        """A keep-alive connection that ``worker`` accepted (new ones until it does)."""
        for _ in range(200):
            conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=15)
            if self.request("GET", "/health", conn=conn)[0] == worker:
                return conn
            conn.close()
        raise AssertionError(f"worker {worker} never accepted a connection")

    def request_on(self, worker: str, method: str, path: str, body: bytes | None = None,
                   content_type: str = "application/json") -> tuple[int, Any]:
        conn = self.connection_to(worker)
        try:
            got, status, data = self.request(method, path, body, content_type, conn)
        finally:
            conn.close()
        assert got == worker, "a keep-alive connection moved to another worker"
        return status, data

    def wait_health(self, seconds: float = 30) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, self.log_path.read_text()
            try:
                if self.request("GET", "/health")[1] == 200:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("no answer on /health")

    def stop(self, timeout: float) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=timeout)


def start(tmp_path: Path, *args: str, **env: str) -> Served:
    port = free_port()
    log_path = tmp_path / "serve.log"
    full_env = dict(os.environ, TRUSTBRIDGE_DATA_DIR=str(tmp_path / "data"),
                    TRUSTBRIDGE_REGISTRY_SEED_DIR=str(ROOT / "registry"),
                    TRUSTBRIDGE_ENVIRONMENT="test", **env)
    for name in ("REDIS_URL", "DATABASE_URL", "TRUSTBRIDGE_WORKERS"):
        if name not in env:
            full_env.pop(name, None)
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "trustbridge.cli", "serve", "--host", "127.0.0.1", "--port",
             str(port), *args], env=full_env, stdout=subprocess.DEVNULL, stderr=log)
    return Served(proc, port, log_path)


@pytest.fixture
def private_redis(redis_url: str) -> str:
    """The session's Redis, a database of its own (no keys shared with other app tests)."""
    return f"{redis_url.rsplit('/', 1)[0]}/{next(_redis_db) % 16}"


@pytest.fixture
def served(tmp_path: Path, private_redis: str) -> Iterator[Served]:
    s = start(tmp_path, "--workers", "2", "--shutdown-timeout", "5", REDIS_URL=private_redis)
    try:
        s.wait_health()
        yield s
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
        for pids in s.workers().values():  # nothing left behind, even on failure
            for pid in pids:
                with_retries_gone(pid)


def with_retries_gone(pid: int, seconds: float = 5) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    os.kill(pid, signal.SIGKILL)
    raise AssertionError(f"worker {pid} outlived its supervisor")


def openid4vp_across_workers(s: Served) -> None:
    """Session created on worker 1; the wallet reads the request and answers on worker 2;
    worker 1 sees the verdict."""
    body = json.dumps({"types": [DEGREE], "policy": RELAXED}).encode()
    status, created = s.request_on("1", "POST", "/v1/presentation-requests", body)
    assert status == 201, created
    request_path = urlsplit(request_uri_of(created["authorization_request"]["deep_link"])).path
    status, token = s.request_on("2", "GET", request_path)
    assert status == 200, token
    request = verify_request_object(token, created["client_id"])
    form = urlencode(asyncio.run(TestWallet().vp_token_for(request))).encode()
    status, answer = s.request_on("2", "POST", urlsplit(request["response_uri"]).path, form,
                                  "application/x-www-form-urlencoded")
    assert status == 200, answer
    status, view = s.request_on("1", "GET", f"/v1/presentation-requests/{created['id']}")
    assert status == 200
    assert (view["status"], view["verdict"]) == ("verified", "valid"), view
    # The nonce was spent on worker 2: the same answer is refused on worker 1.
    status, again = s.request_on("1", "POST", urlsplit(request["response_uri"]).path, form,
                                 "application/x-www-form-urlencoded")
    assert status == 400, again


def test_two_workers_share_sessions_replace_a_killed_one_and_stop_on_sigterm(
        served: Served) -> None:
    seen = {served.request("GET", "/health")[0] for _ in range(40)}
    assert seen == {"1", "2"}
    pids = served.workers()
    assert sorted(pids) == [1, 2] and all(len(p) == 1 for p in pids.values())
    assert served.proc.pid not in (pids[1][0], pids[2][0])

    openid4vp_across_workers(served)

    os.kill(pids[1][0], signal.SIGKILL)
    deadline = time.monotonic() + 10
    while len(served.workers().get(1, [])) < 2:
        assert time.monotonic() < deadline, served.log_path.read_text()
        time.sleep(0.05)
    replacement = served.workers()[1][1]
    assert replacement != pids[1][0]
    assert served.request_on("1", "GET", "/health")[0] == 200
    assert served.workers()[2] == pids[2]  # the other worker was left alone

    started = time.monotonic()
    assert served.stop(timeout=15) == 0
    assert time.monotonic() - started < 10
    for pid in (replacement, pids[2][0]):
        with_retries_gone(pid)
    messages = [ln["message"] for ln in served.log_lines() if ln["logger"] == "trustbridge.serve"]
    assert "worker 1 exited unexpectedly (signal SIGKILL)" in " ".join(messages)
    assert messages[-1] == "all workers stopped"


def test_a_worker_that_keeps_dying_stops_the_service(served: Served) -> None:
    killed: set[int] = set()
    deadline = time.monotonic() + 15
    while served.proc.poll() is None:
        assert time.monotonic() < deadline, served.log_path.read_text()
        for pid in served.workers().get(1, []):
            if pid not in killed:
                killed.add(pid)
                os.kill(pid, signal.SIGKILL)
        time.sleep(0.02)
    assert served.proc.returncode == 1
    assert len(killed) == 5
    assert any("giving up" in ln["message"] for ln in served.log_lines())


def test_several_workers_refuse_the_in_process_cache(tmp_path: Path) -> None:
    s = start(tmp_path, "--workers", "2")
    assert s.proc.wait(timeout=30) == 2
    assert "set REDIS_URL" in s.log_path.read_text()


@pytest.mark.postgres
def test_two_workers_on_postgresql(tmp_path: Path, private_redis: str,
                                   postgres_url: str) -> None:
    # --loop auto: the workers run on uvloop where it is installed (the optional extra)
    s = start(tmp_path, "--workers", "2", "--shutdown-timeout", "5", "--loop", "auto",
              REDIS_URL=private_redis, DATABASE_URL=postgres_url)
    try:
        s.wait_health()
        openid4vp_across_workers(s)
        registry = s.request_on("2", "GET", "/v1/registry/issuers")
        assert registry[0] == 200  # seeded once, by the supervisor, visible to every worker
        assert s.stop(timeout=15) == 0
    finally:
        if s.proc.poll() is None:
            s.proc.kill()
            s.proc.wait()
