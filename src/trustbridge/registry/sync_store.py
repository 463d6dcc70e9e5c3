"""SQL for sync: the change log, applied batches (per-registry sequences), mirror cursors.

Every write takes the caller's ``Transaction`` so the engine can put the registry
changes, the log append and the batch record in one all-or-nothing unit.
The log table is append-only by construction: nothing here updates or deletes it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from trustbridge.registry.changelog import GENESIS_HASH, LogEntry
from trustbridge.store import Database
from trustbridge.store.interface import Row, Transaction
from trustbridge.store.migrations import register

register("0500_registry_sync", [
    "CREATE TABLE IF NOT EXISTS registry_log (seq BIGINT PRIMARY KEY, change TEXT NOT NULL, "
    "origin TEXT NOT NULL, prev_hash TEXT NOT NULL, entry_hash TEXT NOT NULL)",
    "CREATE TABLE IF NOT EXISTS registry_batches (digest TEXT PRIMARY KEY, "
    "registry TEXT NOT NULL, sequence BIGINT NOT NULL, content_digest TEXT NOT NULL, "
    "jws TEXT NOT NULL, first_seq BIGINT NOT NULL, changes BIGINT NOT NULL, "
    "applied_at TEXT NOT NULL)",
    "CREATE UNIQUE INDEX IF NOT EXISTS registry_batches_seq ON registry_batches "
    "(registry, sequence)",
    "CREATE TABLE IF NOT EXISTS registry_sync_peers (url TEXT PRIMARY KEY, node_did TEXT, "
    "seq BIGINT NOT NULL, hash TEXT NOT NULL, last_ok TEXT, last_error TEXT, "
    "error_code TEXT, updated_at TEXT)",
])

# A batch's JWS (megabytes of base64url) went through PostgreSQL's default pglz compression
# on insert: ~0.3 s of server CPU per 5,000-change batch, most of what a sync cost the
# server. lz4 (PostgreSQL 14+ built with it) takes a sixth of that and compresses better;
# without it, the text is stored uncompressed.
register("0501_registry_batches_jws_lz4", [{"postgresql": (
    "DO $$ BEGIN "
    "EXECUTE 'ALTER TABLE registry_batches ALTER COLUMN jws SET COMPRESSION lz4'; "
    "EXCEPTION WHEN others THEN "
    "EXECUTE 'ALTER TABLE registry_batches ALTER COLUMN jws SET STORAGE EXTERNAL'; "
    "END $$")}])

NODE_KEY_STATE = "sync.node_key_pem"
# one encoder for every entry's origin (``json.dumps`` with options builds one per call)
_COMPACT = json.JSONEncoder(separators=(",", ":")).encode


@dataclass(frozen=True)
class BatchRecord:
    digest: str
    registry: str
    sequence: int
    content_digest: str
    jws: str


@dataclass(frozen=True)
class PeerState:
    url: str
    node_did: str | None
    seq: int
    hash: str
    last_ok: str | None
    last_error: str | None
    error_code: str | None
    updated_at: str | None

    def to_json(self) -> dict[str, Any]:
        return {"url": self.url, "node_did": self.node_did, "seq": self.seq, "hash": self.hash,
                "last_ok": self.last_ok, "last_error": self.last_error,
                "error_code": self.error_code, "updated_at": self.updated_at}


class SyncStore:
    """Log, batches and peers on the shared ``Database``."""

    def __init__(self, db: Database) -> None:
        self.db = db

    # -- log ------------------------------------------------------------------------------

    @staticmethod
    async def head(tx: Transaction) -> tuple[int, str]:
        row = await tx.fetchrow(
            "SELECT seq, entry_hash FROM registry_log ORDER BY seq DESC LIMIT 1")
        return (0, GENESIS_HASH) if row is None else (int(row["seq"]), str(row["entry_hash"]))

    @staticmethod
    async def append(tx: Transaction, entries: list[LogEntry]) -> None:
        await tx.insert_rows(
            "registry_log", ("seq", "change", "origin", "prev_hash", "entry_hash"),
            [(e.seq, e.change_jcs.decode("utf-8") if e.change_jcs is not None
              else json.dumps(e.change, separators=(",", ":")),
              _COMPACT(e.origin), e.prev_hash, e.entry_hash)
             for e in entries])

    async def page_rows(self, after: int, limit: int) -> list[Row]:
        """The log rows after ``after``, as stored: ``change`` and ``origin`` are JSON text."""
        return await self.db.fetch(
            "SELECT seq, change, origin, prev_hash, entry_hash FROM registry_log "
            "WHERE seq > ? ORDER BY seq LIMIT ?", after, limit)

    async def current_head(self) -> tuple[int, str]:
        async with self.db.transaction() as tx:
            return await self.head(tx)

    # -- batches --------------------------------------------------------------------------

    @staticmethod
    async def last_sequence(tx: Transaction, registry: str) -> int:
        row = await tx.fetchrow(
            "SELECT MAX(sequence) AS s FROM registry_batches WHERE registry = ?", registry)
        return int(row["s"]) if row and row["s"] is not None else 0

    @staticmethod
    async def batch_at(tx: Transaction, registry: str, sequence: int) -> BatchRecord | None:
        row = await tx.fetchrow(
            "SELECT digest, registry, sequence, content_digest, jws FROM registry_batches "
            "WHERE registry = ? AND sequence = ?", registry, sequence)
        return None if row is None else BatchRecord(
            str(row["digest"]), str(row["registry"]), int(row["sequence"]),
            str(row["content_digest"]), str(row["jws"]))

    @staticmethod
    async def record_batch(tx: Transaction, record: BatchRecord, *, first_seq: int,
                           changes: int, applied_at: str) -> None:
        await tx.execute(
            "INSERT INTO registry_batches (digest, registry, sequence, content_digest, jws, "
            "first_seq, changes, applied_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            record.digest, record.registry, record.sequence, record.content_digest,
            record.jws, first_seq, changes, applied_at)

    async def batches_by_digest(self, digests: list[str]) -> dict[str, str]:
        """``{digest: jws}`` for the given digests (a log page's batches)."""
        out: dict[str, str] = {}
        for start in range(0, len(digests), 500):
            chunk = digests[start:start + 500]
            marks = ",".join("?" * len(chunk))
            rows = await self.db.fetch(
                f"SELECT digest, jws FROM registry_batches WHERE digest IN ({marks})",  # noqa: S608 -- only placeholders are interpolated
                *chunk)
            out.update({str(r["digest"]): str(r["jws"]) for r in rows})
        return out

    async def counts(self) -> dict[str, int]:
        log_row = await self.db.fetchrow("SELECT COUNT(*) AS n FROM registry_log")
        batch_row = await self.db.fetchrow("SELECT COUNT(*) AS n FROM registry_batches")
        return {"log_entries": int(log_row["n"]) if log_row else 0,
                "batches": int(batch_row["n"]) if batch_row else 0}

    # -- mirror peers ---------------------------------------------------------------------

    async def peer(self, url: str) -> PeerState:
        row = await self.db.fetchrow("SELECT * FROM registry_sync_peers WHERE url = ?", url)
        if row is None:
            return PeerState(url, None, 0, GENESIS_HASH, None, None, None, None)
        return _peer(row)

    async def peers(self) -> list[PeerState]:
        rows = await self.db.fetch("SELECT * FROM registry_sync_peers ORDER BY url")
        return [_peer(r) for r in rows]

    @staticmethod
    async def save_peer(tx: Transaction, state: PeerState) -> None:
        await tx.execute("DELETE FROM registry_sync_peers WHERE url = ?", state.url)
        await tx.execute(
            "INSERT INTO registry_sync_peers (url, node_did, seq, hash, last_ok, last_error, "
            "error_code, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            state.url, state.node_did, state.seq, state.hash, state.last_ok, state.last_error,
            state.error_code, state.updated_at)

    async def record_peer_error(self, state: PeerState, *, code: str, message: str,
                                at: str) -> None:
        async with self.db.transaction() as tx:
            await self.save_peer(tx, PeerState(state.url, state.node_did, state.seq, state.hash,
                                               state.last_ok, message[:2000], code, at))

    # -- node key -------------------------------------------------------------------------

    async def node_key_pem(self) -> str | None:
        row = await self.db.fetchrow("SELECT value FROM node_state WHERE key = ?",
                                     NODE_KEY_STATE)
        return None if row is None else str(row["value"])

    async def save_node_key_pem(self, pem: str) -> str:
        """Store ``pem`` unless another process stored one first; return the one kept."""
        async with self.db.transaction() as tx:
            row = await tx.fetchrow("SELECT value FROM node_state WHERE key = ?",
                                    NODE_KEY_STATE)
            if row is not None:
                return str(row["value"])
            await tx.execute("INSERT INTO node_state (key, value) VALUES (?, ?)",
                             NODE_KEY_STATE, pem)
        return pem


def _peer(row: dict[str, Any]) -> PeerState:
    return PeerState(str(row["url"]), row["node_did"], int(row["seq"]), str(row["hash"]),
                     row["last_ok"], row["last_error"], row["error_code"], row["updated_at"])


__all__ = ["BatchRecord", "PeerState", "SyncStore"]
