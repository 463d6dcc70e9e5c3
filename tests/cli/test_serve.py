"""``trustbridge serve`` as a real process: answers, logs JSON, and stops cleanly on SIGTERM."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from tests.conftest import ROOT, free_port


def test_serve_answers_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    env = dict(os.environ, TRUSTBRIDGE_DATA_DIR=str(tmp_path),
               TRUSTBRIDGE_REGISTRY_SEED_DIR=str(ROOT / "registry"))
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "trustbridge.cli", "serve", "--host", "127.0.0.1", "--port",
         str(port)],
        env=env, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
    )
    try:
        deadline = time.monotonic() + 30
        body = None
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    body = json.loads(r.read())
                    break
            except OSError:
                time.sleep(0.1)
        assert body is not None, "service did not answer /health"
        assert body["status"] == "ok"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.stderr is not None
    with proc.stderr:
        lines = [ln for ln in proc.stderr.read().splitlines() if ln.startswith("{")]
    access = [json.loads(ln) for ln in lines if '"event": "request"' in ln]
    assert access, "no structured access log line"
    assert {"request_id", "method", "route", "status", "duration_ms"} <= set(access[0])
    assert (tmp_path / "trustbridge.sqlite3").exists()


def test_sigterm_ends_open_event_streams_promptly(tmp_path: Path) -> None:
    """An HR page waiting on server-sent events must not hold shutdown for its full timeout."""
    import http.client

    port = free_port()
    env = dict(os.environ, TRUSTBRIDGE_DATA_DIR=str(tmp_path),
               TRUSTBRIDGE_REGISTRY_SEED_DIR=str(ROOT / "registry"))
    env.pop("REDIS_URL", None)
    env.pop("DATABASE_URL", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "trustbridge.cli", "serve", "--port", str(port),
         "--shutdown-timeout", "60"],
        env=env, stderr=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
                break
            except OSError:
                time.sleep(0.1)
        req = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/presentation-requests",
            data=json.dumps({"types": ["VerifiableCredential"]}).encode(),
            headers={"Content-Type": "application/json"}, method="POST")
        with urllib.request.urlopen(req, timeout=10) as r:
            created = json.loads(r.read())
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", f"/v1/presentation-requests/{created['id']}/events")
        stream = conn.getresponse()
        assert stream.status == 200
        assert stream.readline().startswith(b"event: status")
        started = time.monotonic()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0
        assert time.monotonic() - started < 15
        conn.close()
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
