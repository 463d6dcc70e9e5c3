"""Bulk accreditation signature checks (a sync batch) give exactly the verdicts of one-by-one
checks, whether step 4 runs in worker processes or here."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from trustbridge.crypto import jws as _jws
from trustbridge.registry import signature_pool
from trustbridge.registry.facts import ResolverSignatureVerifier
from trustbridge.registry.signed import NodeKey, sign_compact


def _jwts(n: int) -> tuple[NodeKey, list[tuple[str, str]]]:
    tao = NodeKey.generate()
    jobs = [(sign_compact({"iss": tao.did, "sub": f"did:example:{i}"}, tao.private_key,
                          kid=tao.kid, typ="JWT"), tao.did) for i in range(n)]
    return tao, jobs


def _forge(jwt: str) -> str:
    head, payload, sig = jwt.split(".")
    return ".".join((head, payload, ("A" if sig[0] != "A" else "B") + sig[1:]))


async def test_pool_verdicts_equal_one_by_one() -> None:
    other = NodeKey.generate()
    _, jobs = _jwts(signature_pool.MIN_PARALLEL + 40)
    jobs[3] = (_forge(jobs[3][0]), jobs[3][1])  # signature bytes changed
    jobs[7] = (jobs[7][0], other.did)  # kid names another DID's key
    bulk = await ResolverSignatureVerifier(None).verify_many(jobs)
    single = ResolverSignatureVerifier(None)
    for job in jobs:
        assert bulk[job] == await single.verify(*job)
    assert not bulk[jobs[3]].ok and bulk[jobs[3]].code == "accreditation.signature_invalid"
    assert not bulk[jobs[7]].ok and bulk[jobs[7]].code == "accreditation.kid_mismatch"
    assert sum(v.ok for v in bulk.values()) == len(jobs) - 2
    signature_pool.shutdown()


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="needs a worker pool (2+ cores)")
async def test_verdicts_begun_ahead_equal_one_by_one() -> None:
    """``start_many`` (step 4 handed to the workers a chunk at a time, read later) gives the
    verdicts of ``verify``; below the pool's threshold, and for keys that need resolving,
    nothing is begun."""
    other = NodeKey.generate()
    _, jobs = _jwts(signature_pool.MIN_PARALLEL + 40)
    jobs[3] = (_forge(jobs[3][0]), jobs[3][1])
    jobs[7] = (jobs[7][0], other.did)
    resolved = (jobs[9][0], "did:web:example.com")  # not self-certifying: checked when read
    verifier = ResolverSignatureVerifier(None)
    assert await verifier.start_many(jobs[:signature_pool.MIN_PARALLEL - 1]) is None
    ahead = await verifier.start_many([*jobs, resolved])
    assert ahead is not None and resolved not in ahead
    got = await ahead.take(jobs)
    single = ResolverSignatureVerifier(None)
    for job in jobs:
        assert got[job] == await single.verify(*job)
    assert not got[jobs[3]].ok and got[jobs[3]].code == "accreditation.signature_invalid"
    assert not got[jobs[7]].ok and got[jobs[7]].code == "accreditation.kid_mismatch"
    assert sum(v.ok for v in got.values()) == len(jobs) - 2
    signature_pool.shutdown()


async def test_in_process_and_pool_agree_on_refusals() -> None:
    tao, jobs = _jwts(4)
    parsed = [_jws.parse_compact_jws(jwt) for jwt, _ in jobs]
    key = tao.private_key.public_key()
    forged = _jws.parse_compact_jws(_forge(jobs[0][0]))
    items = [(p, key) for p in parsed] + [(forged, key)]
    here = await signature_pool.verify_many(items, frozenset({"EdDSA"}))
    assert here[:4] == [None] * 4 and here[4] is not None
    assert await signature_pool.verify_many(items, frozenset({"ES256"})) == [
        "alg 'EdDSA' is not allowed"] * 5


OWNER = """
import json, os, sys, time
from trustbridge.registry import signature_pool
pool = signature_pool._executor()
assert pool is not None
pids = sorted({pool.submit(os.getpid).result() for _ in range(20)})
print(json.dumps(pids), flush=True)
time.sleep(60)
"""


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


@pytest.mark.skipif(not Path("/proc").is_dir() or (os.cpu_count() or 1) < 2,
                    reason="needs /proc and a worker pool (2+ cores)")
def test_workers_leave_when_their_owner_is_killed() -> None:
    """A SIGKILLed owner never shuts its pool down; its workers must not wait forever."""
    with subprocess.Popen([sys.executable, "-c", OWNER], stdout=subprocess.PIPE,
                          text=True) as owner:
        try:
            assert owner.stdout is not None
            workers = json.loads(owner.stdout.readline())
            assert workers and owner.pid not in workers
            assert all(_running(pid) for pid in workers)
        finally:
            owner.kill()
    deadline = time.monotonic() + 15
    while any(_running(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not [pid for pid in workers if _running(pid)], "pool workers outlived their owner"


def test_watch_owner_returns_when_the_owner_exits() -> None:
    """Both ways of waiting (pidfd, polling) return once the process is gone."""
    for use_pidfd in (True, False):
        child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(0.3)"])
        waiter = threading.Thread(target=child.wait)  # reap it, as its real parent would
        waiter.start()
        started = time.monotonic()
        if use_pidfd:
            signature_pool._watch_owner(child.pid)
        else:
            saved = os.pidfd_open
            try:
                del os.pidfd_open
                signature_pool._watch_owner(child.pid, poll_seconds=0.05)
            finally:
                os.pidfd_open = saved
        waiter.join()
        assert time.monotonic() - started < 10
        assert child.returncode == 0
