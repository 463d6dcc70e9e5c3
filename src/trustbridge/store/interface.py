"""The ``Database`` protocol the domain stores (registry, change log, jobs) are written against.

SQL is written once, with ``?`` placeholders and portable types (TEXT, BIGINT,
``BOOLEAN`` as INTEGER 0/1 is avoided: use BIGINT); each backend translates
placeholders. Domain modules own their SQL; backends own connections,
transactions and migrations. A transaction applies fully or not at all.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

Row = dict[str, Any]
_IDENTIFIER = re.compile(r"[a-z_][a-z0-9_]*")


class Transaction(Protocol):
    """Statements run inside one atomic unit."""

    async def execute(self, sql: str, *args: Any) -> None: ...

    async def executemany(self, sql: str, rows: Sequence[Sequence[Any]]) -> None: ...

    async def insert_rows(self, table: str, columns: Sequence[str],
                          rows: Sequence[Sequence[Any]]) -> None:
        """INSERT ``rows`` (values in ``columns`` order) into ``table``: a bulk load, COPY on
        PostgreSQL (a fraction of the server's CPU per row of an ``executemany``). Names are
        the caller's identifiers, never data; a bad row fails the transaction like an INSERT."""
        ...

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def fetchrow(self, sql: str, *args: Any) -> Row | None: ...


def insert_sql(table: str, columns: Sequence[str]) -> str:
    """``INSERT INTO table (columns) VALUES (?, …)``; refuses names that are not plain
    identifiers (they are interpolated)."""
    for name in (table, *columns):
        if not _IDENTIFIER.fullmatch(name):
            raise ValueError(f"not a plain SQL identifier: {name!r}")
    return (f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 -- checked identifiers
            f"VALUES ({', '.join('?' for _ in columns)})")


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


__all__ = ["Database", "Row", "Transaction", "insert_sql", "open_database"]
