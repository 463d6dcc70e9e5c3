"""Jobs in the store, so they survive restarts and any node can process them.

A node claims one job at a time with a lease: ``UPDATE … WHERE lease_expires < now``
(portable to SQLite and PostgreSQL; under PostgreSQL's READ COMMITTED the loser of a
race re-checks the condition on the new row and updates nothing). Results are written
only where ``result IS NULL``, so a node that lost its lease can never duplicate an
item; the item's input is erased in the same statement (only digests and verdicts
remain). Finished jobs carry ``expires_at`` and are purged by ``purge_expired``.
Times are Unix milliseconds from the injected clock.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from trustbridge.hr.items import ItemOutcome
from trustbridge.store import Database
from trustbridge.store.migrations import register

register("hr_0001_jobs", [
    "CREATE TABLE IF NOT EXISTS hr_jobs ("
    " id TEXT PRIMARY KEY, tenant TEXT NOT NULL, state TEXT NOT NULL,"
    " total BIGINT NOT NULL, done BIGINT NOT NULL DEFAULT 0,"
    " receipts BIGINT NOT NULL DEFAULT 0, keep_personal BIGINT NOT NULL DEFAULT 0,"
    " webhook_url TEXT, webhook_secret TEXT, webhook_state TEXT,"
    " summary TEXT, created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL,"
    " finished_at BIGINT, expires_at BIGINT,"
    " lease_owner TEXT, lease_expires BIGINT NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS hr_jobs_claim ON hr_jobs (state, lease_expires)",
    "CREATE INDEX IF NOT EXISTS hr_jobs_tenant ON hr_jobs (tenant, created_at)",
    "CREATE TABLE IF NOT EXISTS hr_job_items ("
    " job_id TEXT NOT NULL, idx BIGINT NOT NULL, input TEXT, result TEXT,"
    " PRIMARY KEY (job_id, idx))",
    "CREATE TABLE IF NOT EXISTS hr_webhook_deliveries ("
    " id TEXT PRIMARY KEY, tenant TEXT NOT NULL, job_id TEXT NOT NULL, event TEXT NOT NULL,"
    " url TEXT NOT NULL, delivered BIGINT NOT NULL, attempts BIGINT NOT NULL,"
    " last_error TEXT, created_at BIGINT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS hr_webhook_deliveries_tenant"
    " ON hr_webhook_deliveries (tenant, created_at)",
])

QUEUED = "queued"
RUNNING = "running"
SUCCEEDED = "succeeded"
WEBHOOK_PENDING = "pending"


@dataclass(frozen=True)
class Job:
    id: str
    tenant: str
    state: str
    total: int
    done: int
    receipts: bool
    keep_personal: bool
    webhook_url: str | None
    webhook_secret: str | None
    webhook_state: str | None
    summary: dict[str, int] | None
    created_at: int
    updated_at: int
    finished_at: int | None
    expires_at: int | None

    @classmethod
    def from_row(cls, row: dict[str, Any]) -> Job:
        return cls(str(row["id"]), str(row["tenant"]), str(row["state"]), int(row["total"]),
                   int(row["done"]), bool(row["receipts"]), bool(row["keep_personal"]),
                   row["webhook_url"], row["webhook_secret"], row["webhook_state"],
                   json.loads(row["summary"]) if row["summary"] else None,
                   int(row["created_at"]), int(row["updated_at"]),
                   None if row["finished_at"] is None else int(row["finished_at"]),
                   None if row["expires_at"] is None else int(row["expires_at"]))


@dataclass(frozen=True)
class Delivery:
    id: str
    tenant: str
    job_id: str
    event: str
    url: str
    delivered: bool
    attempts: int
    last_error: str | None
    created_at: int


class JobStore:
    """SQL for jobs, their items and webhook deliveries."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def create(self, job: Job, items: Sequence[Any]) -> None:
        async with self.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO hr_jobs (id, tenant, state, total, done, receipts, keep_personal,"
                " webhook_url, webhook_secret, webhook_state, summary, created_at, updated_at,"
                " finished_at, expires_at, lease_owner, lease_expires)"
                " VALUES (?, ?, ?, ?, 0, ?, ?, ?, ?, ?, NULL, ?, ?, NULL, NULL, NULL, 0)",
                job.id, job.tenant, QUEUED, job.total, int(job.receipts),
                int(job.keep_personal), job.webhook_url, job.webhook_secret,
                WEBHOOK_PENDING if job.webhook_url else None, job.created_at, job.created_at)
            await tx.executemany(
                "INSERT INTO hr_job_items (job_id, idx, input, result) VALUES (?, ?, ?, NULL)",
                [(job.id, i, json.dumps(item, separators=(",", ":")))
                 for i, item in enumerate(items)])

    async def get(self, job_id: str, tenant: str) -> Job | None:
        row = await self.db.fetchrow("SELECT * FROM hr_jobs WHERE id = ? AND tenant = ?",
                                     job_id, tenant)
        return None if row is None else Job.from_row(row)

    async def results(self, job_id: str, *, offset: int, limit: int) -> list[ItemOutcome]:
        rows = await self.db.fetch(
            "SELECT result FROM hr_job_items WHERE job_id = ? AND result IS NOT NULL"
            " AND idx >= ? ORDER BY idx LIMIT ?", job_id, offset, limit)
        return [ItemOutcome.from_json(json.loads(r["result"])) for r in rows]

    async def delete(self, job_id: str, tenant: str) -> bool:
        async with self.db.transaction() as tx:
            row = await tx.fetchrow("SELECT id FROM hr_jobs WHERE id = ? AND tenant = ?",
                                    job_id, tenant)
            if row is None:
                return False
            await tx.execute("DELETE FROM hr_job_items WHERE job_id = ?", job_id)
            await tx.execute("DELETE FROM hr_jobs WHERE id = ?", job_id)
        return True

    # -- the worker's side ----------------------------------------------------------------

    async def claim(self, owner: str, *, now: int, lease_ms: int) -> Job | None:
        """Take the oldest job whose lease has lapsed (unfinished, or awaiting its webhook)."""
        await self.db.execute(
            "UPDATE hr_jobs SET lease_owner = ?, lease_expires = ?, updated_at = ?"
            " WHERE id = (SELECT id FROM hr_jobs WHERE lease_expires < ? AND"
            " (state IN ('queued', 'running') OR (state = 'succeeded' AND webhook_state = ?))"
            " ORDER BY created_at, id LIMIT 1) AND lease_expires < ?",
            owner, now + lease_ms, now, now, WEBHOOK_PENDING, now)
        row = await self.db.fetchrow("SELECT * FROM hr_jobs WHERE lease_owner = ?", owner)
        return None if row is None else Job.from_row(row)

    async def pending_items(self, job_id: str, limit: int) -> list[tuple[int, Any]]:
        rows = await self.db.fetch(
            "SELECT idx, input FROM hr_job_items WHERE job_id = ? AND result IS NULL"
            " ORDER BY idx LIMIT ?", job_id, limit)
        return [(int(r["idx"]), json.loads(r["input"]) if r["input"] else None) for r in rows]

    async def save_results(self, job_id: str, owner: str, outcomes: Sequence[ItemOutcome], *,
                           now: int, lease_ms: int) -> bool:
        """Write results (erasing inputs) and renew the lease; False when the lease was lost."""
        async with self.db.transaction() as tx:
            row = await tx.fetchrow("SELECT lease_owner FROM hr_jobs WHERE id = ?", job_id)
            if row is None or row["lease_owner"] != owner:
                return False
            for o in outcomes:
                await tx.execute(
                    "UPDATE hr_job_items SET result = ?, input = NULL"
                    " WHERE job_id = ? AND idx = ? AND result IS NULL",
                    json.dumps(o.to_json(), separators=(",", ":")), job_id, o.index)
            await tx.execute(
                "UPDATE hr_jobs SET state = ?, lease_expires = ?, updated_at = ?,"
                " done = (SELECT COUNT(*) FROM hr_job_items WHERE job_id = ?"
                " AND result IS NOT NULL) WHERE id = ? AND lease_owner = ?",
                RUNNING, now + lease_ms, now, job_id, job_id, owner)
        return True

    async def verdict_counts(self, job_id: str) -> dict[str, int]:
        rows = await self.db.fetch("SELECT result FROM hr_job_items WHERE job_id = ?", job_id)
        counts = {"valid": 0, "invalid": 0, "indeterminate": 0, "rejected": 0}
        for r in rows:
            verdict = ItemOutcome.from_json(json.loads(r["result"])).verdict
            counts[verdict if verdict in counts else "rejected"] += 1
        return counts

    async def finish(self, job_id: str, owner: str, summary: dict[str, int], *, now: int,
                     expires_at: int) -> bool:
        async with self.db.transaction() as tx:
            row = await tx.fetchrow("SELECT lease_owner FROM hr_jobs WHERE id = ?", job_id)
            if row is None or row["lease_owner"] != owner:
                return False
            await tx.execute(
                "UPDATE hr_jobs SET state = ?, summary = ?, finished_at = ?, expires_at = ?,"
                " updated_at = ? WHERE id = ?",
                SUCCEEDED, json.dumps(summary), now, expires_at, now, job_id)
        return True

    async def set_webhook_state(self, job_id: str, state: str) -> None:
        await self.db.execute("UPDATE hr_jobs SET webhook_state = ? WHERE id = ?", state, job_id)

    async def release(self, owner: str) -> None:
        """Give up a lease at once (graceful shutdown) so another node need not wait it out."""
        await self.db.execute("UPDATE hr_jobs SET lease_owner = NULL, lease_expires = 0"
                              " WHERE lease_owner = ?", owner)

    async def purge_expired(self, now: int) -> None:
        """Retention: drop finished jobs, their results and deliveries past ``expires_at``."""
        async with self.db.transaction() as tx:
            await tx.execute("DELETE FROM hr_job_items WHERE job_id IN"
                             " (SELECT id FROM hr_jobs WHERE expires_at IS NOT NULL"
                             " AND expires_at < ?)", now)
            await tx.execute("DELETE FROM hr_webhook_deliveries WHERE job_id IN"
                             " (SELECT id FROM hr_jobs WHERE expires_at IS NOT NULL"
                             " AND expires_at < ?)", now)
            await tx.execute("DELETE FROM hr_jobs WHERE expires_at IS NOT NULL"
                             " AND expires_at < ?", now)

    # -- deliveries -----------------------------------------------------------------------

    async def log_delivery(self, d: Delivery) -> None:
        await self.db.execute(
            "INSERT INTO hr_webhook_deliveries (id, tenant, job_id, event, url, delivered,"
            " attempts, last_error, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            d.id, d.tenant, d.job_id, d.event, d.url, int(d.delivered), d.attempts,
            d.last_error, d.created_at)

    async def deliveries(self, tenant: str, *, limit: int) -> list[Delivery]:
        rows = await self.db.fetch(
            "SELECT * FROM hr_webhook_deliveries WHERE tenant = ?"
            " ORDER BY created_at DESC, id LIMIT ?", tenant, limit)
        return [Delivery(str(r["id"]), str(r["tenant"]), str(r["job_id"]), str(r["event"]),
                         str(r["url"]), bool(r["delivered"]), int(r["attempts"]),
                         r["last_error"], int(r["created_at"])) for r in rows]


__all__ = ["QUEUED", "RUNNING", "SUCCEEDED", "Delivery", "Job", "JobStore"]
