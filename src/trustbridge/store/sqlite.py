"""SQLite backend (aiosqlite): the embedded default, one file under the data dir.

WAL mode and ``synchronous=FULL`` so a killed process leaves the last committed
state; one writer connection serialised by a lock, since SQLite has one writer.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiosqlite

from trustbridge.errors import InfrastructureError
from trustbridge.runtime.outcome import discard_outcome
from trustbridge.store.interface import Row, Transaction, insert_sql
from trustbridge.store.migrations import MIGRATIONS, for_dialect

CACHE_KIB = 64 * 1024


def _path_from_url(url: str) -> str:
    """``sqlite:///rel/path``, ``sqlite:////abs/path`` or ``sqlite:///:memory:`` -> a path."""
    rest = url.removeprefix("sqlite:")
    rest = rest.removeprefix("///") if rest.startswith("///") else rest.removeprefix("//")
    return ":memory:" if rest in ("", ":memory:") else rest


class _SQLiteTx:
    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._c = conn

    async def execute(self, sql: str, *args: Any) -> None:
        await self._c.execute(sql, args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._c.executemany(sql, rows)

    async def insert_rows(self, table: str, columns: Sequence[str],
                          rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            await self._c.executemany(insert_sql(table, columns), rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        # One trip to the connection's thread (execute, fetch all, close happen there):
        # each trip is a thread hand-off, and they dominated short registry reads.
        rows = await self._c.execute_fetchall(sql, args)
        return [dict(zip(r.keys(), r, strict=True)) for r in rows]

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        async with self._c.execute(sql, args) as cur:
            row = await cur.fetchone()
            names = [d[0] for d in cur.description or ()]
        return None if row is None else dict(zip(names, row, strict=True))


class SQLiteDatabase:
    """A single serialised connection; reads and writes are short."""

    dialect = "sqlite"

    def __init__(self, conn: aiosqlite.Connection) -> None:
        self._conn = conn
        self._lock = asyncio.Lock()
        self._tx = _SQLiteTx(conn)

    @classmethod
    async def open(cls, url: str) -> SQLiteDatabase:
        path = _path_from_url(url)
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        try:
            conn = await aiosqlite.connect(path, isolation_level=None)
            conn.row_factory = sqlite3.Row  # named columns for execute_fetchall (fetch)
            await conn.execute("PRAGMA journal_mode=WAL")
            await conn.execute("PRAGMA synchronous=FULL")
            await conn.execute("PRAGMA foreign_keys=ON")
            await conn.execute("PRAGMA busy_timeout=5000")
            # 64 MiB page cache (default 2,000 pages, ~8 MiB): with 100,000+ issuers the
            # registry's indexes (random DIDs and attribute hashes) outgrow the default and
            # every bulk insert and lookup went back to the OS for its B-tree pages.
            await conn.execute(f"PRAGMA cache_size=-{CACHE_KIB}")
        except (sqlite3.Error, OSError) as exc:
            raise InfrastructureError(f"cannot open SQLite store at {path}: {exc}") from exc
        return cls(conn)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        """One SQLite transaction at a time, safe against cancellation at any await.

        A cancelled await does not stop the connection thread: a ``BEGIN`` (or ``COMMIT``)
        already queued still runs. Every way out but a completed ``COMMIT`` therefore queues
        a ``ROLLBACK`` behind it (the thread runs requests in order), so the connection is
        never left inside a transaction for the next caller."""
        async with self._lock:
            try:
                await self._conn.execute("BEGIN IMMEDIATE")
            except BaseException:
                await self._abandon()
                raise
            try:
                yield self._tx
            except BaseException:
                await self._abandon()
                raise
            try:
                await self._conn.execute("COMMIT")
            except BaseException:
                await self._abandon()
                raise

    async def _abandon(self) -> None:
        """Roll back whatever is open once the requests queued before this one have run;
        "no transaction is active" means nothing began (or the COMMIT went through)."""
        rollback = asyncio.ensure_future(self._conn.execute("ROLLBACK"))
        try:
            await asyncio.shield(rollback)
        except sqlite3.Error:
            pass
        except asyncio.CancelledError:
            # cancelled again: the ROLLBACK stays queued ahead of any later request
            rollback.add_done_callback(discard_outcome)
            raise

    async def execute(self, sql: str, *args: Any) -> None:
        async with self.transaction() as tx:
            await tx.execute(sql, *args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    async def insert_rows(self, table: str, columns: Sequence[str],
                          rows: Sequence[Sequence[Any]]) -> None:
        async with self.transaction() as tx:
            await tx.insert_rows(table, columns, rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        async with self._lock:
            return await self._tx.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        async with self._lock:
            return await self._tx.fetchrow(sql, *args)

    async def migrate(self) -> list[str]:
        applied: list[str] = []
        async with self.transaction() as tx:
            await tx.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY)"
            )
            done = {r["name"] for r in await tx.fetch("SELECT name FROM schema_migrations")}
            for name, statements in MIGRATIONS:
                if name in done:
                    continue
                for stmt in statements:
                    if sql := for_dialect(stmt, self.dialect):
                        await tx.execute(sql)
                await tx.execute("INSERT INTO schema_migrations (name) VALUES (?)", name)
                applied.append(name)
        return applied

    async def ping(self) -> None:
        try:
            await self.fetchrow("SELECT 1 AS ok")
        except sqlite3.Error as exc:
            raise InfrastructureError(f"SQLite store unavailable: {exc}") from exc

    async def close(self) -> None:
        await self._conn.close()


__all__ = ["SQLiteDatabase"]
