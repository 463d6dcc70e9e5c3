"""Ordered, append-only schema migrations in portable SQL.

Never edit a released migration; append a new one. Each entry is
``(name, [statements])``. ``BLOB_TYPE`` differs by dialect and is substituted.
"""

from __future__ import annotations

MIGRATIONS: list[tuple[str, list[str]]] = [
    (
        "0001_kv",
        [
            # A small generic key/value table for node state (node keys, sync cursors).
            "CREATE TABLE IF NOT EXISTS node_state (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
        ],
    ),
]


def register(name: str, statements: list[str]) -> None:
    """Append a migration (domain modules call this at import time, in a fixed order)."""
    if any(existing == name for existing, _ in MIGRATIONS):
        return
    MIGRATIONS.append((name, statements))


__all__ = ["MIGRATIONS", "register"]
