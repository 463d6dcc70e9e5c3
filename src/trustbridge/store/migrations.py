"""Ordered, append-only schema migrations in portable SQL.

Never edit a released migration; append a new one. Each entry is
``(name, [statements])``. The few words that differ by dialect (``DIALECT_WORDS``) are
substituted by ``for_dialect``: ``BLOB_TYPE``, and ``RANDOM_ID`` (32 random hex digits,
drawn once when the statement runs). A statement that only one dialect has (storage
tuning) is given as ``{dialect: sql}`` and skipped by the others.
"""

from __future__ import annotations

from collections.abc import Mapping

Statement = str | Mapping[str, str]

MIGRATIONS: list[tuple[str, list[Statement]]] = [
    (
        "0001_kv",
        [
            # A small generic key/value table for node state (node keys, sync cursors).
            "CREATE TABLE IF NOT EXISTS node_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ],
    ),
]


DIALECT_WORDS: dict[str, dict[str, str]] = {
    "sqlite": {"BLOB_TYPE": "BLOB", "RANDOM_ID": "lower(hex(randomblob(16)))"},
    "postgresql": {"BLOB_TYPE": "BYTEA",
                   "RANDOM_ID": "replace(gen_random_uuid()::text, '-', '')"},
}


def for_dialect(statement: Statement, dialect: str) -> str:
    """``statement`` with the dialect-specific words of ``dialect`` substituted; ``""`` (run
    nothing) for a per-dialect statement that ``dialect`` does not have."""
    if not isinstance(statement, str):
        statement = statement.get(dialect, "")
    for word, replacement in DIALECT_WORDS[dialect].items():
        statement = statement.replace(word, replacement)
    return statement


def register(name: str, statements: list[Statement]) -> None:
    """Append a migration (domain modules call this at import time, in a fixed order)."""
    if any(existing == name for existing, _ in MIGRATIONS):
        return
    MIGRATIONS.append((name, statements))


__all__ = ["DIALECT_WORDS", "MIGRATIONS", "Statement", "for_dialect", "register"]
