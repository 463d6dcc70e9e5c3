"""The ``Database`` protocol the domain stores (registry, change log, jobs) are written against.

SQL is written once, with ``?`` placeholders and portable types (TEXT, BIGINT,
``BOOLEAN`` as INTEGER 0/1 is avoided: use BIGINT); each backend translates
placeholders. Domain modules own their SQL; backends own connections,
transactions and migrations. A transaction applies fully or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Row = dict[str, Any]


class Transaction(Protocol):
    """Statements run inside one atomic unit."""

    async def execute(self, sql: str, *args: Any) -> None: ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...


class Database(Transaction, Protocol):
    """A connection pool; each plain call is its own transaction."""

    dialect: str  # "sqlite" | "postgresql"

    def transaction(self) -> AbstractAsyncContextManager[Transaction]: ...

    async def migrate(self) -> list[str]:
        """Apply pending migrations; return the names applied."""
        ...

    async def ping(self) -> None: ...

    async def close(self) -> None: ...


async def open_database(url: str) -> Database:
    """Open (and migrate) the store named by ``url``: ``sqlite:///path`` or ``postgresql://…``."""
    if url.startswith("sqlite:"):
        from trustbridge.store.sqlite import SQLiteDatabase

        db: Database = await SQLiteDatabase.open(url)
    elif url.startswith(("postgresql:", "postgres:")):
        from trustbridge.store.postgres import PostgresDatabase

        db = await PostgresDatabase.open(url)
    else:
        from trustbridge.errors import InputError

        raise InputError(f"unsupported DATABASE_URL scheme: {url.split(':', 1)[0]!r}")
    await db.migrate()
    return db


__all__ = ["Database", "Row", "Transaction", "open_database"]
