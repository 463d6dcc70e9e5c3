"""PostgreSQL backend (asyncpg): for several nodes or large registries.

``?`` placeholders are rewritten to ``$n`` once per statement text (cached).
Migrations run under an advisory lock so several nodes starting together
do not race.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg

from trustbridge.errors import InfrastructureError
from trustbridge.store.interface import Row, Transaction, insert_sql
from trustbridge.store.migrations import MIGRATIONS, for_dialect

_MIGRATION_LOCK = 0x7472757374  # "trust"
# The server or the connection went away (terminated, refused, dropped database, broken
# protocol state): infrastructure, a 503 -- never a 500. Constraint errors are not here.
_UNAVAILABLE: tuple[type[BaseException], ...] = (
    OSError, asyncpg.InterfaceError, asyncpg.InternalClientError,
    asyncpg.PostgresConnectionError, asyncpg.OperatorInterventionError,
    asyncpg.InsufficientResourcesError, asyncpg.InvalidCatalogNameError,
    asyncpg.ObjectNotInPrerequisiteStateError)


@functools.lru_cache(maxsize=1024)
def _pg(sql: str) -> str:
    """Rewrite ``?`` placeholders to ``$1..$n`` (our SQL never has ``?`` in literals)."""
    out: list[str] = []
    n = 0
    for ch in sql:
        if ch == "?":
            n += 1
            out.append(f"${n}")
        else:
            out.append(ch)
    return "".join(out)


class _PgTx:
    def __init__(self, conn: Any) -> None:
        self._c = conn

    async def execute(self, sql: str, *args: Any) -> None:
        await self._c.execute(_pg(sql), *args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        await self._c.executemany(_pg(sql), rows)

    async def insert_rows(self, table: str, columns: Sequence[str],
                          rows: Sequence[Sequence[Any]]) -> None:
        if rows:
            insert_sql(table, columns)  # the same identifier check as SQLite's INSERT
            await self._c.copy_records_to_table(table, records=rows, columns=list(columns))

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return [dict(r) for r in await self._c.fetch(_pg(sql), *args)]

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        r = await self._c.fetchrow(_pg(sql), *args)
        return None if r is None else dict(r)


class PostgresDatabase:
    dialect = "postgresql"

    def __init__(self, pool: Any) -> None:
        self._pool = pool

    @classmethod
    async def open(cls, url: str, *, min_size: int = 1, max_size: int = 10) -> PostgresDatabase:
        url = url.replace("postgres://", "postgresql://", 1)
        try:
            pool = await asyncpg.create_pool(url, min_size=min_size, max_size=max_size, timeout=10)
        except (OSError, asyncpg.PostgresError) as exc:
            raise InfrastructureError(f"cannot connect to PostgreSQL: {exc}") from exc
        return cls(pool)

    @asynccontextmanager
    async def _acquire(self) -> AsyncIterator[Any]:
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except _UNAVAILABLE as exc:
            raise InfrastructureError(f"PostgreSQL unavailable: {exc}") from exc

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Transaction]:
        async with self._acquire() as conn, conn.transaction():
            yield _PgTx(conn)

    async def execute(self, sql: str, *args: Any) -> None:
        async with self._acquire() as conn:
            await conn.execute(_pg(sql), *args)

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        async with self.transaction() as tx:
            await tx.executemany(sql, rows)

    async def insert_rows(self, table: str, columns: Sequence[str],
                          rows: Sequence[Sequence[Any]]) -> None:
        async with self.transaction() as tx:
            await tx.insert_rows(table, columns, rows)

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        async with self._acquire() as conn:
            return await _PgTx(conn).fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Row | None:
        async with self._acquire() as conn:
            return await _PgTx(conn).fetchrow(sql, *args)

    async def migrate(self) -> list[str]:
        applied: list[str] = []
        async with self._pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY)"
            )
            done = {r["name"] for r in await conn.fetch("SELECT name FROM schema_migrations")}
            for name, statements in MIGRATIONS:
                if name in done:
                    continue
                for stmt in statements:
                    if sql := for_dialect(stmt, self.dialect):
                        await conn.execute(sql)
                await conn.execute("INSERT INTO schema_migrations (name) VALUES ($1)", name)
                applied.append(name)
        return applied

    async def ping(self) -> None:
        try:
            await self.fetchrow("SELECT 1 AS ok")
        except (OSError, asyncpg.PostgresError) as exc:
            raise InfrastructureError(f"PostgreSQL unavailable: {exc}") from exc

    async def close(self) -> None:
        await self._pool.close()


__all__ = ["PostgresDatabase"]
