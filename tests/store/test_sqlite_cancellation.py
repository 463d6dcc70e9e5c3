"""A transaction cancelled at any await leaves the SQLite connection usable and consistent.

Regression: a job worker cancelled while its ``BEGIN IMMEDIATE`` was queued left the
connection inside a transaction (the thread ran the BEGIN anyway); every later transaction
failed with "cannot start a transaction within a transaction" and a test hung.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from trustbridge.store.sqlite import SQLiteDatabase


async def test_cancelled_at_every_step_never_leaks_a_transaction(tmp_path: Path) -> None:
    db = await SQLiteDatabase.open(f"sqlite:///{tmp_path / 'c.db'}")
    try:
        await db.execute("CREATE TABLE t (k INTEGER PRIMARY KEY, a INTEGER, b INTEGER)")

        async def two_writes(k: int) -> None:
            async with db.transaction() as tx:
                await tx.execute("INSERT INTO t (k, a) VALUES (?, 1)", k)
                await tx.execute("UPDATE t SET b = 1 WHERE k = ?", k)

        for k in range(40):  # cancel after 0..39 loop turns: before, during and after each step
            task = asyncio.ensure_future(two_writes(k))
            for _ in range(k % 20):
                await asyncio.sleep(0)
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
            # the next transaction works, and the cancelled one is all or nothing
            await db.execute("INSERT INTO t (k, a, b) VALUES (?, 2, 2)", 1000 + k)
            rows = await db.fetch("SELECT a, b FROM t WHERE k = ?", k)
            assert rows == [] or (rows[0]["a"], rows[0]["b"]) == (1, 1), (k, rows)
        assert len(await db.fetch("SELECT k FROM t WHERE k >= 1000")) == 40
    finally:
        await db.close()
