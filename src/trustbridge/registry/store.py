"""``RegistryStore``: issuer records and attributes in the shared ``Database`` (SQLite/PostgreSQL).

Writes go through a ``RegistryWriter`` inside ONE database transaction, so a batch of
changes applies fully or not at all, and bumps the ``registry_epoch`` exactly once
(cached chain answers and verification results are keyed on it). The sync engine
writes with ``store.writer(tx)`` inside its own transaction (log entries + registry
changes together) and calls ``finish()``.

Every store has a random ``identity``, drawn once by its migration and never synced or
copied: the epoch counts from 0 in every database, so anything cached on the epoch in a
cache that other registries may share (Redis) is keyed on ``"<identity>:<epoch>.<salt>"``
(``TrustRegistry.epoch``), never on the bare number. A mirror is a store of its own.

Lookups are by primary key or index (issuer DID, attribute id, accrediting ``tao``);
listing is keyset-paginated on ``seq`` (insertion order), so every read stays cheap
at 100,000+ issuers.
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

from trustbridge.errors import NotFound
from trustbridge.registry.model import Attribute, IssuerRecord
from trustbridge.store import Database
from trustbridge.store.interface import Row, Transaction
from trustbridge.store.migrations import register

register("0201_registry", [
    "CREATE TABLE IF NOT EXISTS registry_issuers (seq BIGINT PRIMARY KEY, did TEXT NOT NULL "
    "UNIQUE, name TEXT, name_key TEXT, country TEXT, revoked BIGINT NOT NULL DEFAULT 0, "
    "epoch BIGINT NOT NULL DEFAULT 0)",
    "CREATE INDEX IF NOT EXISTS registry_issuers_country ON registry_issuers (country, seq)",
    "CREATE INDEX IF NOT EXISTS registry_issuers_name ON registry_issuers (name_key)",
    "CREATE TABLE IF NOT EXISTS registry_attributes (did TEXT NOT NULL, id TEXT NOT NULL, "
    "position BIGINT NOT NULL, body TEXT NOT NULL, issuer_type TEXT NOT NULL, tao TEXT, "
    "root_tao TEXT, PRIMARY KEY (did, id))",
    "CREATE INDEX IF NOT EXISTS registry_attributes_id ON registry_attributes (id)",
    "CREATE INDEX IF NOT EXISTS registry_attributes_tao ON registry_attributes (tao)",
    "CREATE TABLE IF NOT EXISTS registry_meta (key TEXT PRIMARY KEY, value BIGINT NOT NULL)",
    "INSERT INTO registry_meta (key, value) VALUES ('epoch', 0)",
])
IDENTITY_KEY = "registry.store_id"
register("0202_registry_identity", [
    "INSERT INTO node_state (key, value) VALUES ('registry.store_id', RANDOM_ID)",
])
# A random value drawn at every epoch bump (``RegistryWriter.touch``): a database restored
# from a backup counts its epochs again from the backup's number, and without it the next
# change would reuse an epoch that cached answers of the lost timeline are keyed on.
register("0203_registry_epoch_salt", [
    "INSERT INTO registry_meta (key, value) VALUES ('epoch_salt', 0)",
])

MAX_PAGE = 1000
_IN_CHUNK = 500


@dataclass(frozen=True)
class IssuerSummary:
    """A row of a listing: enough for TIR ``items`` and the HR search."""

    seq: int
    did: str
    name: str | None
    country: str | None
    revoked: bool


def _summary(row: Row) -> IssuerSummary:
    return IssuerSummary(int(row["seq"]), row["did"], row["name"], row["country"],
                         bool(row["revoked"]))


def _attribute(row: Row) -> Attribute:
    return Attribute(id=row["id"], did=row["did"], body=row["body"],
                     issuer_type=row["issuer_type"], tao=row["tao"], root_tao=row["root_tao"])


def _name_key(name: str | None) -> str | None:
    return name.casefold() if name else None


def _like(text: str) -> str:
    """A LIKE pattern matching ``text`` literally anywhere (``!`` escapes)."""
    escaped = text.replace("!", "!!").replace("%", "!%").replace("_", "!_")
    return f"%{escaped}%"


class RegistryWriter:
    """Registry changes inside one transaction; the epoch is bumped once, on the first write."""

    def __init__(self, tx: Transaction) -> None:
        self.tx = tx
        self.affected: set[str] = set()
        self.epoch: int | None = None

    async def _begin(self, did: str) -> int:
        self.affected.add(did)
        return await self.touch()

    async def touch(self) -> int:
        """Bump the epoch (first write only; the row lock also serialises writers on PG);
        called on its own for a change that is not an issuer's (declared trust anchors)."""
        if self.epoch is None:
            await self.tx.execute("UPDATE registry_meta SET value = value + 1 WHERE key = ?",
                                  "epoch")
            await self.tx.execute("UPDATE registry_meta SET value = ? WHERE key = ?",
                                  secrets.randbits(62), "epoch_salt")
            row = await self.tx.fetchrow("SELECT value FROM registry_meta WHERE key = ?",
                                         "epoch")
            self.epoch = int(row["value"]) if row else 0
        return self.epoch

    async def put_issuer(self, did: str, *, name: str | None = None,
                         country: str | None = None) -> None:
        """Insert the issuer, or update its display data (a revoked issuer stays revoked)."""
        epoch = await self._begin(did)
        row = await self.tx.fetchrow("SELECT seq FROM registry_issuers WHERE did = ?", did)
        if row is not None:
            await self.tx.execute(
                "UPDATE registry_issuers SET name = COALESCE(?, name), name_key = "
                "COALESCE(?, name_key), country = COALESCE(?, country), epoch = ? WHERE did = ?",
                name, _name_key(name), country, epoch, did)
            return
        top = await self.tx.fetchrow("SELECT COALESCE(MAX(seq), 0) AS top FROM registry_issuers")
        seq = int(top["top"]) + 1 if top else 1
        await self.tx.execute(
            "INSERT INTO registry_issuers (seq, did, name, name_key, country, revoked, epoch) "
            "VALUES (?, ?, ?, ?, ?, 0, ?)", seq, did, name, _name_key(name), country, epoch)

    async def add_attribute(self, attr: Attribute) -> None:
        """Add (or replace, same id) an attribute of an existing issuer."""
        await self._begin(attr.did)
        exists = await self.tx.fetchrow("SELECT seq FROM registry_issuers WHERE did = ?",
                                        attr.did)
        if exists is None:
            raise NotFound(f"{attr.did} is not registered", code="issuer.not_registered")
        await self.tx.execute("DELETE FROM registry_attributes WHERE did = ? AND id = ?",
                              attr.did, attr.id)
        top = await self.tx.fetchrow(
            "SELECT COALESCE(MAX(position), 0) AS top FROM registry_attributes WHERE did = ?",
            attr.did)
        position = int(top["top"]) + 1 if top else 1
        await self.tx.execute(
            "INSERT INTO registry_attributes (did, id, position, body, issuer_type, tao, "
            "root_tao) VALUES (?, ?, ?, ?, ?, ?, ?)", attr.did, attr.id, position, attr.body,
            attr.issuer_type, attr.tao, attr.root_tao)

    async def revoke_attribute(self, did: str, attr_id: str) -> None:
        """EBSI revokes by setting ``issuerType`` to ``Revoked``; the JWT is kept."""
        await self._begin(did)
        row = await self.tx.fetchrow(
            "SELECT id FROM registry_attributes WHERE did = ? AND id = ?", did, attr_id)
        if row is None:
            raise NotFound(f"{did} has no attribute {attr_id}", code="attribute.not_found")
        await self.tx.execute("UPDATE registry_attributes SET issuer_type = 'Revoked' "
                              "WHERE did = ? AND id = ?", did, attr_id)

    async def revoke_issuer(self, did: str) -> None:
        """Revoke the issuer and every attribute it holds."""
        epoch = await self._begin(did)
        row = await self.tx.fetchrow("SELECT seq FROM registry_issuers WHERE did = ?", did)
        if row is None:
            raise NotFound(f"{did} is not registered", code="issuer.not_registered")
        await self.tx.execute("UPDATE registry_issuers SET revoked = 1, epoch = ? WHERE did = ?",
                              epoch, did)
        await self.tx.execute("UPDATE registry_attributes SET issuer_type = 'Revoked' "
                              "WHERE did = ?", did)

    async def put_record(self, record: IssuerRecord) -> None:
        """Issuer and all its attributes (an import of a whole record)."""
        await self.put_issuer(record.did, name=record.name, country=record.country)
        for attr in record.attributes:
            await self.add_attribute(attr)
        if record.revoked:
            await self.revoke_issuer(record.did)

    async def bulk_insert(self, records: Sequence[IssuerRecord]) -> None:
        """Insert NEW issuers in a few statements (imports, benchmarks); DIDs must be new."""
        if not records:
            return
        epoch = await self._begin(records[0].did)
        self.affected.update(r.did for r in records)
        top = await self.tx.fetchrow("SELECT COALESCE(MAX(seq), 0) AS top FROM registry_issuers")
        start = int(top["top"]) + 1 if top else 1
        await self.tx.insert_rows(
            "registry_issuers", ("seq", "did", "name", "name_key", "country", "revoked", "epoch"),
            [(start + i, r.did, r.name, _name_key(r.name), r.country, int(r.revoked), epoch)
             for i, r in enumerate(records)])
        await self.tx.insert_rows(
            "registry_attributes",
            ("did", "id", "position", "body", "issuer_type", "tao", "root_tao"),
            [(a.did, a.id, n + 1, a.body, a.issuer_type, a.tao, a.root_tao)
             for r in records for n, a in enumerate(r.attributes)])


class RegistryStore:
    """Reads and transactional writes of the registry tables."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._identity: str | None = None

    # -- writes ----------------------------------------------------------------------------

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[RegistryWriter]:
        """All writes inside apply together or not at all; the epoch moves once."""
        async with self.db.transaction() as tx:
            yield RegistryWriter(tx)

    def writer(self, tx: Transaction) -> RegistryWriter:
        """A writer inside someone else's transaction (the sync engine's)."""
        return RegistryWriter(tx)

    # -- reads -----------------------------------------------------------------------------

    async def epoch(self) -> int:
        """The epoch counter (what the API and ``registry.changed`` events show)."""
        rows = await self.db.fetch("SELECT value FROM registry_meta WHERE key = ?", "epoch")
        return int(rows[0]["value"]) if rows else 0

    async def epoch_token(self) -> str:
        """``"<counter>.<salt>"``: what caches key on. The counter alone repeats after a
        restore from a backup; the salt drawn with every bump does not."""
        # fetch, not fetchrow: one round trip on SQLite (asked once a second per worker)
        rows = await self.db.fetch(
            "SELECT key, value FROM registry_meta WHERE key IN (?, ?)", "epoch", "epoch_salt")
        meta = {row["key"]: int(row["value"]) for row in rows}
        return f"{meta.get('epoch', 0)}.{meta.get('epoch_salt', 0):x}"

    async def identity(self) -> str:
        """This store's random identity (read once: it never changes)."""
        if self._identity is None:
            row = await self.db.fetchrow("SELECT value FROM node_state WHERE key = ?",
                                         IDENTITY_KEY)
            if row is None:
                raise RuntimeError("the registry store has no identity: not migrated")
            self._identity = str(row["value"])
        return self._identity

    async def is_empty(self) -> bool:
        return await self.db.fetchrow("SELECT seq FROM registry_issuers LIMIT 1") is None

    async def count_issuers(self) -> int:
        row = await self.db.fetchrow("SELECT COUNT(*) AS n FROM registry_issuers")
        return int(row["n"]) if row else 0

    async def get_issuer(self, did: str) -> IssuerRecord | None:
        records = await self.get_issuers([did])
        return records.get(did)

    async def get_issuers(self, dids: Iterable[str]) -> dict[str, IssuerRecord]:
        """Records by DID (unknown DIDs are absent), two queries per chunk of 500."""
        wanted = list(dict.fromkeys(dids))
        out: dict[str, IssuerRecord] = {}
        for i in range(0, len(wanted), _IN_CHUNK):
            chunk = wanted[i:i + _IN_CHUNK]
            marks = ", ".join("?" for _ in chunk)
            where = f"WHERE did IN ({marks})"  # only ``?`` placeholders, never values
            rows = await self.db.fetch(
                "SELECT did, name, country, revoked FROM registry_issuers " + where,  # noqa: S608
                *chunk)
            if not rows:
                continue
            attrs = await self.db.fetch(
                "SELECT did, id, body, issuer_type, tao, root_tao FROM registry_attributes "  # noqa: S608
                + where + " ORDER BY did, position", *chunk)
            by_did: dict[str, list[Attribute]] = {}
            for row in attrs:
                by_did.setdefault(row["did"], []).append(_attribute(row))
            for row in rows:
                out[row["did"]] = IssuerRecord(
                    did=row["did"], name=row["name"], country=row["country"],
                    revoked=bool(row["revoked"]), attributes=tuple(by_did.get(row["did"], ())))
        return out

    async def get_attribute(self, did: str, attr_id: str) -> Attribute | None:
        row = await self.db.fetchrow(
            "SELECT did, id, body, issuer_type, tao, root_tao FROM registry_attributes "
            "WHERE did = ? AND id = ?", did, attr_id)
        return _attribute(row) if row else None

    async def find_attribute(self, attr_id: str) -> Attribute | None:
        """An attribute by id alone (termsOfUse URLs name it)."""
        row = await self.db.fetchrow(
            "SELECT did, id, body, issuer_type, tao, root_tao FROM registry_attributes "
            "WHERE id = ? LIMIT 1", attr_id)
        return _attribute(row) if row else None

    async def list_issuers(self, page_after: int | None = None, page_size: int = 50
                           ) -> list[IssuerSummary]:
        """Issuers after cursor ``page_after`` (a ``seq``), in insertion order."""
        size = max(1, min(page_size, MAX_PAGE))
        rows = await self.db.fetch(
            "SELECT seq, did, name, country, revoked FROM registry_issuers WHERE seq > ? "
            "ORDER BY seq LIMIT ?", page_after or 0, size)
        return [_summary(r) for r in rows]

    async def cursor_before(self, seq: int, page_size: int) -> int:
        """The cursor of the page before the one starting after ``seq`` (0: the first)."""
        row = await self.db.fetchrow(
            "SELECT seq FROM registry_issuers WHERE seq <= ? ORDER BY seq DESC LIMIT 1 OFFSET ?",
            seq, page_size)
        return int(row["seq"]) if row else 0

    async def last_page_cursor(self, page_size: int) -> int:
        """The cursor whose page holds the last issuers."""
        total = await self.count_issuers()
        if total <= page_size:
            return 0
        skip = ((total - 1) // page_size) * page_size - 1
        row = await self.db.fetchrow(
            "SELECT seq FROM registry_issuers ORDER BY seq LIMIT 1 OFFSET ?", skip)
        return int(row["seq"]) if row else 0

    async def issuers_accredited_by(self, tao: str, *, limit: int = MAX_PAGE) -> list[str]:
        """DIDs holding an attribute whose ``tao`` is ``tao`` (the subtree one level down)."""
        rows = await self.db.fetch(
            "SELECT DISTINCT did FROM registry_attributes WHERE tao = ? AND did <> ? "
            "ORDER BY did LIMIT ?", tao, tao, limit)
        return [r["did"] for r in rows]

    async def search(self, q: str | None = None, *, country: str | None = None,
                     page_after: int | None = None, page_size: int = 50) -> list[IssuerSummary]:
        """Issuers whose name or DID contains ``q`` (case-insensitive), optionally by country."""
        clauses = ["seq > ?"]
        args: list[Any] = [page_after or 0]
        if q:
            clauses.append("(name_key LIKE ? ESCAPE '!' OR did LIKE ? ESCAPE '!')")
            args += [_like(q.casefold()), _like(q)]
        if country:
            clauses.append("country = ?")
            args.append(country.upper())
        size = max(1, min(page_size, MAX_PAGE))
        where = " AND ".join(clauses)  # fixed clauses with ``?`` placeholders
        rows = await self.db.fetch(
            "SELECT seq, did, name, country, revoked FROM registry_issuers WHERE "  # noqa: S608
            + where + " ORDER BY seq LIMIT ?", *args, size)
        return [_summary(r) for r in rows]


__all__ = ["IDENTITY_KEY", "MAX_PAGE", "IssuerSummary", "RegistryStore", "RegistryWriter"]
