"""SIGKILL in the middle of applying a large batch: the store is left at the previous state
(epoch, issuers, log unchanged) and, after a restart, the same batch applies cleanly.

Then six more SIGKILLs at spread points of a push (5 % .. 150 % of a clean push's duration:
reading, verifying, applying, after the commit): each time the file holds the old state or
the whole batch, never part of it, and the restarted node takes the batch again."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port
from tests.sync.support import Actor, Hierarchy

LARGE = int(os.environ.get("TRUSTBRIDGE_SYNC_CRASH_N", "2500"))


class Node:
    def __init__(self, data: Path, h: Hierarchy) -> None:
        self.data = data
        self.port = free_port()
        self.env = dict(os.environ, TRUSTBRIDGE_DATA_DIR=str(data),
                        TRUSTBRIDGE_ENVIRONMENT="test", TRUSTBRIDGE_SEED_REGISTRY="false",
                        TRUSTBRIDGE_TRUST_ANCHORS=json.dumps([h.root.did]),
                        TRUSTBRIDGE_SYNC_REGISTRIES=json.dumps({h.eu.did: ["EU"],
                                                                h.es.did: ["ES"]}))
        self.env.pop("REDIS_URL", None)
        self.env.pop("DATABASE_URL", None)
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "trustbridge.cli", "serve", "--port", str(self.port)],
            env=self.env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                urllib.request.urlopen(f"{self.url}/health", timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise AssertionError("node did not start")

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(timeout=10)

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)

    def push(self, jws: str, timeout: float = 300) -> tuple[int, dict[str, Any]]:
        req = urllib.request.Request(f"{self.url}/v1/registry/batches", data=jws.encode(),
                                     headers={"Content-Type": "application/jose"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    def status(self) -> dict[str, Any]:
        with urllib.request.urlopen(f"{self.url}/v1/registry/sync/status", timeout=10) as r:
            data: dict[str, Any] = json.loads(r.read())
        return data


def _counts(db: Path) -> tuple[int, int, int, int]:
    with sqlite3.connect(db) as conn:
        issuers = conn.execute("SELECT COUNT(*) FROM registry_issuers").fetchone()[0]
        attrs = conn.execute("SELECT COUNT(*) FROM registry_attributes").fetchone()[0]
        log = conn.execute("SELECT COUNT(*) FROM registry_log").fetchone()[0]
        epoch = conn.execute("SELECT value FROM registry_meta WHERE key = 'epoch'").fetchone()[0]
    return int(issuers), int(attrs), int(log), int(epoch)


@pytest.mark.slow
def test_sigkill_during_apply_leaves_previous_state_and_batch_reapplies(tmp_path: Path) -> None:
    h = Hierarchy()
    node = Node(tmp_path, h)
    db = tmp_path / "trustbridge.sqlite3"
    wal = tmp_path / "trustbridge.sqlite3-wal"
    node.start()
    try:
        assert node.push(h.bootstrap())[0] == 200
        before = node.status()["log"]
        counts = _counts(db)
        large = h.es.batch([h.ti(Actor()) for _ in range(LARGE)])
        baseline = wal.stat().st_size if wal.exists() else 0
        outcome: dict[str, Any] = {}
        pusher = threading.Thread(target=lambda: outcome.update(r=_try_push(node, large)))
        pusher.start()
        # Apply has begun when uncommitted pages spill into the WAL (verification only
        # reads); kill the node right then.
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if wal.exists() and wal.stat().st_size > baseline + 512 * 1024:
                break
            if not pusher.is_alive():
                pytest.fail(f"the batch finished before the kill: {outcome}")
            time.sleep(0.002)
        else:
            pytest.fail("apply never started")
        node.kill()
        pusher.join(timeout=30)
        assert "error" in str(outcome.get("r")), outcome
        assert _counts(db) == counts  # read straight from the file, before any restart
        node.start()
        assert node.status()["log"] == before
        code, body = node.push(large)
        assert code == 200 and body["status"] == "applied", body
        issuers, attrs, log, epoch = _counts(db)
        assert (issuers, attrs, log, epoch) == (counts[0] + LARGE, counts[1] + LARGE,
                                                counts[2] + LARGE, counts[3] + 1)
    finally:
        node.stop()


def _try_push(node: Node, jws: str) -> Any:
    try:
        return node.push(jws)
    except (OSError, urllib.error.URLError) as exc:
        return f"error: {exc}"


KILL_FRACTIONS = (0.05, 0.25, 0.5, 0.75, 0.95, 1.5)  # of a clean push's duration


@pytest.mark.slow
def test_sigkill_at_any_point_of_a_push_leaves_old_or_new_state_and_resumes(
        tmp_path: Path) -> None:
    """SIGKILL the node at several points of a push (reading the body, verifying, early and
    late in the apply transaction, after the commit): the file holds the state before or the
    state with the whole batch -- never part of it; after a restart the same batch applies
    (or is a duplicate) and the node goes on."""
    n = max(200, LARGE // 2)
    h = Hierarchy()
    node = Node(tmp_path, h)
    db = tmp_path / "trustbridge.sqlite3"
    node.start()
    outcomes: list[str] = []
    try:
        assert node.push(h.bootstrap())[0] == 200
        started = time.monotonic()  # a clean push of the same size: how long one takes
        assert node.push(h.es.batch([h.ti(Actor()) for _ in range(n)]))[0] == 200
        duration = time.monotonic() - started
        for fraction in KILL_FRACTIONS:
            old = _counts(db)
            new = (old[0] + n, old[1] + n, old[2] + n, old[3] + 1)
            batch = h.es.batch([h.ti(Actor()) for _ in range(n)])
            pusher = threading.Thread(target=_try_push, args=(node, batch))
            pusher.start()
            time.sleep(duration * fraction)
            node.kill()
            pusher.join(timeout=30)
            after_kill = _counts(db)  # straight from the file, before any restart
            assert after_kill in (old, new), (fraction, old, after_kill, new)
            outcomes.append("new" if after_kill == new else "old")
            node.start()
            code, body = node.push(batch)  # the registry pushes again after the outage
            assert code == 200, body
            assert body["status"] == ("duplicate" if after_kill == new else "applied"), body
            assert _counts(db) == new
        assert node.status()["log"]["seq"] == _counts(db)[2]
    finally:
        node.stop()
    # both outcomes happen across the kill points (the kill lands inside and after a push)
    assert "old" in outcomes, outcomes
