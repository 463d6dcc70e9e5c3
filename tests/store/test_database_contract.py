"""One contract, two backends: SQLite and a throwaway PostgreSQL database."""

from __future__ import annotations

import pytest

from trustbridge.store import Database, open_database
from trustbridge.store.migrations import MIGRATIONS


async def test_migrations_applied_once(db: Database) -> None:
    assert await db.migrate() == []  # already applied by open_database
    rows = await db.fetch("SELECT name FROM schema_migrations")
    assert {r["name"] for r in rows} >= {name for name, _ in MIGRATIONS}


async def test_roundtrip_with_placeholders(db: Database) -> None:
    await db.execute("INSERT INTO node_state (key, value) VALUES (?, ?)", "k1", "v1")
    row = await db.fetchrow("SELECT value FROM node_state WHERE key = ?", "k1")
    assert row == {"value": "v1"}
    assert await db.fetchrow("SELECT value FROM node_state WHERE key = ?", "nope") is None


async def test_transaction_is_all_or_nothing(db: Database) -> None:
    class Boom(Exception):
        pass

    with pytest.raises(Boom):
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO node_state (key, value) VALUES (?, ?)", "a", "1")
            await tx.execute("INSERT INTO node_state (key, value) VALUES (?, ?)", "b", "2")
            raise Boom
    assert await db.fetch("SELECT key FROM node_state WHERE key IN (?, ?)", "a", "b") == []


async def test_failed_statement_rolls_back_batch(db: Database) -> None:
    await db.execute("INSERT INTO node_state (key, value) VALUES (?, ?)", "dup", "0")
    with pytest.raises(Exception):  # noqa: B017 - each driver raises its own integrity error
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO node_state (key, value) VALUES (?, ?)", "new", "1")
            await tx.execute("INSERT INTO node_state (key, value) VALUES (?, ?)", "dup", "2")
    assert await db.fetchrow("SELECT value FROM node_state WHERE key = ?", "new") is None
    assert await db.fetchrow("SELECT value FROM node_state WHERE key = ?", "dup") == {"value": "0"}


async def test_executemany(db: Database) -> None:
    await db.executemany("INSERT INTO node_state (key, value) VALUES (?, ?)",
                         [(f"k{i}", str(i)) for i in range(100)])
    row = await db.fetchrow("SELECT COUNT(*) AS n FROM node_state WHERE key LIKE ?", "k%")
    assert row is not None and int(row["n"]) == 100


async def test_reopen_keeps_data(database_url: str) -> None:
    first = await open_database(database_url)
    await first.execute("INSERT INTO node_state (key, value) VALUES (?, ?)", "durable", "yes")
    await first.close()
    second = await open_database(database_url)
    assert await second.fetchrow("SELECT value FROM node_state WHERE key = ?",
                                 "durable") == {"value": "yes"}
    await second.close()


async def test_unknown_scheme_is_input_error() -> None:
    from trustbridge.errors import InputError

    with pytest.raises(InputError):
        await open_database("mysql://nope")


async def test_insert_rows_bulk_loads_in_column_order(db: Database) -> None:
    async with db.transaction() as tx:
        await tx.insert_rows("node_state", ("value", "key"),
                             [(str(i), f"bulk{i:03d}") for i in range(300)])
        await tx.insert_rows("node_state", ("key", "value"), [])
    await db.insert_rows("node_state", ("key", "value"), [("bulk300", "own transaction")])
    rows = await db.fetch("SELECT key, value FROM node_state WHERE key LIKE ? ORDER BY key",
                          "bulk%")
    assert rows == [{"key": f"bulk{i:03d}", "value": str(i)} for i in range(300)] + [
        {"key": "bulk300", "value": "own transaction"}]


async def test_insert_rows_with_a_bad_row_in_the_middle_leaves_nothing(db: Database) -> None:
    """COPY (PostgreSQL) and executemany (SQLite) fail the whole transaction on one bad row:
    the rows before it, and earlier statements, are rolled back too."""
    await db.execute("INSERT INTO node_state (key, value) VALUES (?, ?)", "bulk150", "old")
    with pytest.raises(Exception):  # noqa: B017 - each driver raises its own integrity error
        async with db.transaction() as tx:
            await tx.execute("INSERT INTO node_state (key, value) VALUES (?, ?)", "before", "1")
            await tx.insert_rows("node_state", ("key", "value"),
                                 [(f"bulk{i:03d}", "new") for i in range(300)])
    assert await db.fetch("SELECT key, value FROM node_state WHERE key LIKE ? OR key = ?",
                          "bulk%", "before") == [{"key": "bulk150", "value": "old"}]


@pytest.mark.parametrize(("table", "columns"), [("node_state; DROP TABLE x", ("key",)),
                                                ("node_state", ("key", "value) --"))])
async def test_insert_rows_refuses_names_that_are_not_identifiers(
        db: Database, table: str, columns: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="identifier"):
        async with db.transaction() as tx:
            await tx.insert_rows(table, columns, [("a",) * len(columns)])


def test_a_per_dialect_statement_runs_only_where_it_is_given() -> None:
    from trustbridge.store.migrations import for_dialect

    only_pg = {"postgresql": "ALTER TABLE t ALTER COLUMN c SET STORAGE EXTERNAL"}
    assert for_dialect(only_pg, "sqlite") == ""
    assert for_dialect(only_pg, "postgresql") == only_pg["postgresql"]
    assert for_dialect({"sqlite": "SELECT RANDOM_ID"}, "sqlite") == (
        "SELECT lower(hex(randomblob(16)))")


@pytest.mark.postgres
async def test_batch_jws_are_stored_with_lz4_or_uncompressed_on_postgresql(
        postgres_url: str) -> None:
    import trustbridge.registry.sync_store  # noqa: F401 -- registers the sync tables

    db = await open_database(postgres_url)
    try:
        row = await db.fetchrow(
            "SELECT attcompression::text AS compression, attstorage::text AS storage "
            "FROM pg_attribute WHERE attrelid = 'registry_batches'::regclass "
            "AND attname = 'jws'")
        assert row is not None and (row["compression"] == "l" or row["storage"] == "e"), row
        big = "x." * 2_000_000
        await db.execute(
            "INSERT INTO registry_batches (digest, registry, sequence, content_digest, jws, "
            "first_seq, changes, applied_at) VALUES ('d', 'did:r', 1, 'c', ?, 1, 1, 'now')", big)
        assert await db.fetchrow("SELECT jws FROM registry_batches WHERE digest = 'd'") == {
            "jws": big}
    finally:
        await db.close()
