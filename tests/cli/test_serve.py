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
