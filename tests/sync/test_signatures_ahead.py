"""A batch's accreditation signatures are handed to the worker pool before the checks that do
not need their verdicts (push), and the next mirrored batch's while this one is applied; a
refused batch or a failed run withdraws what it began. No timing: a pool stand-in records
when each worker job was handed over, relative to the engine's steps, and verifies a job
only when its answer is awaited (as a pool whose workers are still busy would)."""

from __future__ import annotations

import asyncio
from collections.abc import Generator, Sequence
from typing import Any

import pytest

from tests.conftest import ClientFactory
from tests.sync.support import Actor, Hierarchy, base_url, mirror, push, status
from trustbridge.crypto.jwk import PublicKey
from trustbridge.crypto.jws import CompactJWS
from trustbridge.errors import ConflictError
from trustbridge.registry import _sync_registry, signature_pool, sync

CHUNK = 4


class _Job(asyncio.Future[list[str | None]]):
    """One worker job of the stand-in pool: verified (by the real ``verify_chunk``) only
    when its answer is awaited."""

    def __init__(self, items: Sequence[tuple[CompactJWS, PublicKey]],
                 allowed_algs: frozenset[str]) -> None:
        super().__init__(loop=asyncio.get_running_loop())
        self.work = signature_pool._work(items)
        self.allowed_algs = allowed_algs
        self.awaited = False

    def __await__(self) -> Generator[Any, None, list[str | None]]:
        self.awaited = True
        if not self.done():
            self.set_result(signature_pool.verify_chunk(self.work, self.allowed_algs))
        return (yield from super().__await__())


@pytest.fixture
def steps(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[_Job]]:
    """The stand-in pool (any 4+ signatures go to it, ``CHUNK`` 4) and the log of steps:
    ``submit N`` (a worker job of N signatures handed over), ``check_targets`` (a check
    of the batch that needs no verdict) and ``apply``."""
    log: list[str] = []
    jobs: list[_Job] = []

    def start(items: Sequence[tuple[CompactJWS, PublicKey]], allowed_algs: frozenset[str]
              ) -> _Job:
        log.append(f"submit {len(items)}")
        jobs.append(_Job(items, allowed_algs))
        return jobs[-1]

    targets = _sync_registry.RegistryStorePort.check_targets
    apply = sync.SyncEngine.apply

    async def check_targets(self: Any, changes: Any) -> Any:
        log.append("check_targets")
        return await targets(self, changes)

    async def applied(self: Any, units: Any, extra: Any = None) -> Any:
        log.append("apply")
        return await apply(self, units, extra)

    monkeypatch.setattr(signature_pool, "CHUNK", CHUNK)
    monkeypatch.setattr(signature_pool, "parallel", lambda count: count >= CHUNK)
    monkeypatch.setattr(signature_pool, "start", start)
    monkeypatch.setattr(_sync_registry.RegistryStorePort, "check_targets", check_targets)
    monkeypatch.setattr(sync.SyncEngine, "apply", applied)
    return log, jobs


def _tis(h: Hierarchy, n: int, **kwargs: Any) -> list[dict[str, Any]]:
    return [h.ti(Actor(), **kwargs) for _ in range(n)]


async def test_signatures_go_to_the_pool_before_the_other_checks_and_ahead_of_apply(
        make_client: ClientFactory, steps: tuple[list[str], list[_Job]]) -> None:
    log, jobs = steps
    h = Hierarchy()
    a = await make_client(**h.settings())
    b = await make_client(**h.settings(sync_mirror_peers=[base_url(a)]))
    # the bootstrap's 3 signatures stay below the pool's threshold: checked as before
    for jws in (h.bootstrap(), h.es.batch(_tis(h, 6)), h.es.batch(_tis(h, 5))):
        code, body = await push(a, jws)
        assert code == 200, body
    assert log == ["check_targets", "apply",
                   "submit 4", "submit 2", "check_targets", "apply",
                   "submit 4", "submit 1", "check_targets", "apply"]
    log.clear()
    [result] = await mirror(b)
    assert result["status"] == "applied" and result["batches"] == 3, result
    # each batch's signatures are handed over once the batch before has verified, before
    # that one is applied
    assert log == ["check_targets", "submit 4", "submit 2", "apply",
                   "check_targets", "submit 4", "submit 1", "apply",
                   "check_targets", "apply"]
    assert all(job.awaited for job in jobs)  # every verdict was read
    assert (await status(b))["log"]["hash"] == (await status(a))["log"]["hash"]


async def test_a_refused_batch_withdraws_what_it_began_and_refuses_as_before(
        make_client: ClientFactory, steps: tuple[list[str], list[_Job]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    log, jobs = steps
    h = Hierarchy()
    a = await make_client(**h.settings())
    assert (await push(a, h.bootstrap()))[0] == 200
    good = _tis(h, 8)
    head, payload, signature = good[2]["attribute"]["jwt"].split(".")
    good[2]["attribute"]["jwt"] = ".".join(  # its signature bytes changed
        (head, payload, ("A" if signature[0] != "A" else "B") + signature[1:]))
    # the last worker job holds only changes the jurisdiction check refuses
    batch = h.es.batch([*good, *_tis(h, CHUNK, jurisdiction="FIN")])
    code, body = await push(a, batch)
    assert code == 400 and body["code"] == "batch.rejected", body
    assert log[-4:] == ["submit 4", "submit 4", "submit 4", "check_targets"]
    assert [job.awaited for job in jobs] == [True, True, False]
    assert jobs[2].cancelled()  # withdrawn: no worker will verify it

    # the same refusals, in the same order, as checked without the pool (one by one here)
    monkeypatch.setattr(signature_pool, "parallel", lambda count: False)
    plain = await make_client(**h.settings())
    assert (await push(plain, h.bootstrap()))[0] == 200
    assert await push(plain, batch) == (code, body)
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [
        (2, "accreditation.signature_invalid"),
        *((i, "change.jurisdiction") for i in range(8, 8 + CHUNK))]


async def test_a_failed_mirror_run_withdraws_the_next_batch(
        make_client: ClientFactory, steps: tuple[list[str], list[_Job]],
        monkeypatch: pytest.MonkeyPatch) -> None:
    _, jobs = steps
    h = Hierarchy()
    a = await make_client(**h.settings())
    b = await make_client(**h.settings(sync_mirror_peers=[base_url(a)]))
    for jws in (h.bootstrap(), h.es.batch(_tis(h, 4)), h.es.batch(_tis(h, 6))):
        assert (await push(a, jws))[0] == 200
    jobs.clear()
    apply = sync.SyncEngine.apply
    calls = 0

    async def failing(self: Any, units: Any, extra: Any = None) -> Any:
        nonlocal calls
        calls += 1
        if calls == 2:  # the first TI batch: its transaction fails
            raise ConflictError("simulated", code="test.apply_failed")
        return await apply(self, units, extra)

    monkeypatch.setattr(sync.SyncEngine, "apply", failing)
    [result] = await mirror(b)
    assert result["status"] == "refused" and result["code"] == "test.apply_failed", result
    assert result["to"] == 3  # the bootstrap batch stays applied
    # the first TI batch's job was read; the next batch's two were begun, then withdrawn
    assert [job.awaited for job in jobs] == [True, False, False]
    assert all(job.cancelled() for job in jobs[1:])
