"""The job worker: every node with ``hr_job_worker`` claims leased jobs from the store,
verifies their items chunk by chunk through the batch runner, and notifies on completion.

A crash leaves the lease to lapse (``hr_job_lease_seconds``) and another node resumes
at the first item without a result; a graceful stop releases the lease at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field

from trustbridge.clock import Clock
from trustbridge.hr.batch import BatchRunner
from trustbridge.hr.job_store import SUCCEEDED, Job, JobStore
from trustbridge.hr.webhooks import WebhookPolicy, completion_payload, notify

log = logging.getLogger(__name__)

PURGE_EVERY_SECONDS = 60.0


def millis(clock: Clock) -> int:
    return int(clock().timestamp() * 1000)


@dataclass
class JobWorker:
    store: JobStore
    runner: BatchRunner
    clock: Clock
    webhooks: WebhookPolicy
    chunk_size: int
    lease_seconds: float
    poll_seconds: float
    retention_seconds: int
    node: str = field(default_factory=lambda: uuid.uuid4().hex[:12])
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    _owner: str | None = None
    _task: asyncio.Task[None] | None = None
    _last_purge: float = 0.0

    @property
    def lease_ms(self) -> int:
        return int(self.lease_seconds * 1000)

    def now(self) -> int:
        return millis(self.clock)

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._loop(), name="hr-jobs")

    async def _loop(self) -> None:
        while True:
            try:
                worked = await self.step()
            except asyncio.CancelledError:
                raise
            except Exception:  # a bad round must not stop the worker; the lease will lapse
                log.exception("job worker round failed")
                worked = False
            if not worked:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self.wake.wait(), self.poll_seconds)
                self.wake.clear()

    async def step(self) -> bool:
        """Purge when due, then claim and process one job; False when there was nothing."""
        loop_now = asyncio.get_running_loop().time()
        if loop_now - self._last_purge >= PURGE_EVERY_SECONDS:
            self._last_purge = loop_now
            await self.store.purge_expired(self.now())
        owner = f"{self.node}:{uuid.uuid4().hex[:12]}"
        job = await self.store.claim(owner, now=self.now(), lease_ms=self.lease_ms)
        if job is None:
            return False
        self._owner = owner
        try:
            await self.process(job, owner)
        finally:
            self._owner = None
            await self.store.release(owner)
        return True

    async def process(self, job: Job, owner: str) -> None:
        if job.state != SUCCEEDED:
            while True:
                pending = await self.store.pending_items(job.id, self.chunk_size)
                if not pending:
                    break
                outcomes = await self.runner.run(
                    [raw for _, raw in pending], receipts=job.receipts,
                    minimise=not job.keep_personal, indexes=[i for i, _ in pending])
                if not await self.store.save_results(job.id, owner, outcomes, now=self.now(),
                                                     lease_ms=self.lease_ms):
                    log.info("job %s: lease lost or job deleted; stopping", job.id)
                    return
            summary = await self.store.verdict_counts(job.id)
            finished = self.now()
            if not await self.store.finish(job.id, owner, summary, now=finished,
                                           expires_at=finished + self.retention_seconds * 1000):
                return
            job = await self.store.get(job.id, job.tenant) or job
        if job.webhook_url and job.webhook_state == "pending":
            await notify(self.store, job,
                         completion_payload(job, job.summary or {}, job.finished_at or 0),
                         policy=self.webhooks, now_ms=self.now)

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
        if self._owner is not None:
            with contextlib.suppress(Exception):
                await self.store.release(self._owner)


__all__ = ["JobWorker", "millis"]
