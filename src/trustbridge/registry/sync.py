"""The sync engine: verify signed batches, apply them atomically with the log, serve the log.

Push (``submit``) and mirror (``mirror.py``) both go through ``verify_batch``:

1. parse the compact JWS and the batch payload (``batch.malformed``);
2. verify the signature with an ``assertionMethod`` key of the ``registry`` DID that the
   ``kid`` names (``batch.signature_invalid``);
3. authorise the registry: configured in ``sync_registries`` for a list of jurisdictions,
   or holding a verified TAO/RootTAO accreditation in our registry (``batch.not_authorised``);
4. check every change: its shape, its jurisdiction, and every accreditation credential
   inside (signature and chain, over the registry as it would be with the batch applied);
   every failure is collected as a ``Rejection`` (``batch.rejected`` lists them all).

``apply`` then writes, in ONE store transaction, the registry changes, the log
entries (hash-chained) and the batch record (per-registry sequence); after the
commit it publishes ``registry.changed`` (see ``invalidation.py``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from trustbridge.clock import Clock, system_clock
from trustbridge.crypto.jws import CompactJWS
from trustbridge.errors import AuthError, ConflictError, InputError
from trustbridge.gc_tuning import gc_paused
from trustbridge.registry.batch import (
    ATTRIBUTE_OPS,
    BATCH_TYP,
    BatchFormatError,
    BatchPayload,
    Change,
    Rejection,
    accredited_jurisdictions,
    check_jurisdiction,
    check_shape,
    content_digest,
    content_digest_parts,
    parse_batch_payload,
)
from trustbridge.registry.changelog import (
    HEAD_TYP,
    LogEntry,
    LogHead,
    chain_entries,
    continuing,
    known_jcs,
    sha256_hex,
)
from trustbridge.registry.facts import SignaturesAhead
from trustbridge.registry.signed import JoseError, NodeKey, parse_jws, verify_parsed_by
from trustbridge.registry.sync_store import BatchRecord, SyncStore
from trustbridge.store.interface import Transaction

log = logging.getLogger(__name__)

_PG_APPLY_LOCK = 0x73796E63  # "sync"


class RegistryPort(Protocol):
    """What sync needs from the trust registry (adapted in ``sync_registry.py``)."""

    async def jurisdictions_of(self, registry_did: str, at: datetime) -> set[str] | None:
        """Jurisdictions a registry DID may act for through a verified TAO/RootTAO
        accreditation in the registry (``{"*"}`` = unlimited), or ``None`` when it holds none."""
        ...

    async def issuer_jurisdictions(self, did: str) -> set[str] | None:
        """Jurisdictions of an existing issuer's accreditations (``None`` = unlimited or
        unknown issuer), for deciding who may revoke it."""
        ...

    async def start_signatures(self, changes: Sequence[Change]) -> SignaturesAhead | None:
        """Begin verifying the accreditation signatures that ``check_attributes`` of
        ``changes`` will read (pure work, in worker processes); ``None``: nothing begun."""
        ...

    async def check_attributes(self, changes: Sequence[tuple[int, Change]], at: datetime,
                               ahead: SignaturesAhead | None = None) -> list[Rejection]:
        """Verify every accreditation in ``changes`` (signature + chain) against the registry
        as it would be once all ``changes`` are applied; one ``Rejection`` per bad change.
        ``ahead``: verdicts begun by ``start_signatures`` (each still read here)."""
        ...

    async def check_targets(self, changes: Sequence[tuple[int, Change]]) -> list[Rejection]:
        """Refuse updates/revocations of issuers or attributes that do not exist."""
        ...

    async def apply(self, tx: Transaction, changes: Sequence[Change]) -> set[str]:
        """Write ``changes`` inside ``tx`` and bump the registry epoch; the affected DIDs."""
        ...

    async def attribute_ids(self, did: str) -> set[str]:
        """Hashes (sha256 of the JWT) of the attributes held for ``did``."""
        ...

    async def epoch(self) -> int: ...


@dataclass(frozen=True)
class ParsedBatch:
    """Step 1 done: the JWS parsed and its payload in the batch format (not yet verified)."""

    header: dict[str, Any]
    raw_payload: dict[str, Any]
    jws: CompactJWS
    payload: BatchPayload


def parse_batch(jws: str) -> ParsedBatch:
    """Step 1 of ``verify_batch``; ``InputError`` (``batch.malformed``) when it fails."""
    try:
        header, raw_payload, compact = parse_jws(jws)
        payload = parse_batch_payload(raw_payload)
    except JoseError as exc:
        raise InputError(str(exc), code="batch.malformed") from exc
    except BatchFormatError as exc:
        raise InputError(str(exc), code="batch.malformed",
                         details={"errors": exc.errors}) from exc
    typ = header.get("typ")
    if typ is not None and typ != BATCH_TYP:
        raise InputError(f"batch typ must be {BATCH_TYP}", code="batch.malformed")
    return ParsedBatch(header, raw_payload, compact, payload)


@dataclass(frozen=True)
class VerifiedBatch:
    """A batch whose signature, authorisation and changes all verified (or that is already
    applied with identical content: ``duplicate``)."""

    jws: str
    payload: BatchPayload
    digest: str  # sha256 of the JWS text: what log entries point at
    content: str  # sha256 of the canonical payload: what idempotency compares
    duplicate: bool = False
    logged: Sequence[LogEntry] = field(default=(), compare=False, repr=False)  # see ``Unit``
    # each change as received and its text in the content digest (``content_digest_parts``)
    raw_changes: Sequence[Any] = field(default=(), compare=False, repr=False)
    texts: Sequence[str] | None = field(default=None, compare=False, repr=False)

    def change_jcs(self, jsons: Sequence[dict[str, Any]]) -> list[bytes | None] | None:
        """``canonical`` of each change's ``to_json()`` (``jsons``) where its text in the
        content digest is that (``changelog.known_jcs``); ``None`` entries are serialised."""
        if self.texts is None or len(self.texts) != len(jsons) \
                or len(self.raw_changes) != len(jsons):
            return None
        return [known_jcs(value, raw, text)
                for value, raw, text in zip(jsons, self.raw_changes, self.texts, strict=True)]

    def record(self) -> BatchRecord:
        return BatchRecord(self.digest, self.payload.registry, self.payload.sequence,
                           self.content, self.jws)

    @property
    def changes(self) -> Sequence[Change]:
        return self.payload.changes

    def origin(self, index: int) -> dict[str, Any]:
        return {"batch": self.digest, "index": index}


@dataclass(frozen=True)
class UpstreamImport:
    """Changes imported from an upstream TIR; each accreditation verified on its own."""

    source: str
    changes: Sequence[Change]
    logged: Sequence[LogEntry] = field(default=(), compare=False, repr=False)  # see ``Unit``

    def origin(self, index: int) -> dict[str, Any]:
        return {"upstream": self.source}


Unit = VerifiedBatch | UpstreamImport
"""What ``SyncEngine.apply`` writes. ``logged``: a peer's entries for these changes, hash-chain
verified (``changelog.verified_entries``, by the mirror); written as they are where they are
exactly the entries this log would chain (``changelog.continuing``), else chained anew."""


@dataclass(frozen=True)
class ApplyResult:
    status: str  # "applied" | "duplicate"
    registry: str
    sequence: int
    first_seq: int | None
    last_seq: int | None
    epoch: int
    affected: tuple[str, ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {"status": self.status, "registry": self.registry, "sequence": self.sequence,
                "log": {"first": self.first_seq, "last": self.last_seq}, "epoch": self.epoch,
                "changes": len(self.affected)}


Publisher = Callable[[set[str], int], Awaitable[None]]


@dataclass
class SyncEngine:
    store: SyncStore
    registry: RegistryPort
    resolver: Any
    node_key: NodeKey
    configured: Mapping[str, list[str]] = field(default_factory=dict)
    clock: Clock = system_clock
    publish: Publisher | None = None
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    # -- verification -----------------------------------------------------------------

    async def verify_batch(self, jws: str, parsed: ParsedBatch | None = None, *,
                           keep_texts: bool = True, ahead: SignaturesAhead | None = None
                           ) -> VerifiedBatch:
        """Steps 1-4 of the module docstring; raises ``InputError``/``AuthError``.

        ``parsed`` is ``parse_batch(jws)`` when the caller already did step 1 (the mirror
        parses every batch to compare it with the log); the JWS is parsed only once.
        ``keep_texts``: keep each change's text in the content digest for ``apply`` to log
        (``VerifiedBatch.change_jcs``); a mirror hands over the peer's entries instead.
        ``ahead``: ``start_signatures`` of this batch's changes, begun by the caller (the
        mirror, while the batch before is applied); else step 4 begins them itself. Either
        way they are withdrawn when this returns or raises (taken, or of no more use).
        """
        try:
            return await self._verify_batch(jws, parsed, keep_texts, ahead)
        finally:
            if ahead is not None:
                ahead.cancel()

    async def _verify_batch(self, jws: str, parsed: ParsedBatch | None, keep_texts: bool,
                            ahead: SignaturesAhead | None) -> VerifiedBatch:
        # 1. parse
        if parsed is None:
            parsed = parse_batch(jws)
        payload = parsed.payload
        token = jws.strip()
        digest = sha256_hex(token)
        content, texts = (content_digest_parts(parsed.raw_payload) if keep_texts
                          else (content_digest(parsed.raw_payload), None))
        # 2. signature by the registry DID (kid bound to it, assertionMethod)
        try:
            await verify_parsed_by((parsed.header, parsed.raw_payload, parsed.jws),
                                   payload.registry, self.resolver)
        except JoseError as exc:
            raise InputError(str(exc), code="batch.signature_invalid",
                             details={"cause": exc.code}) from exc
        # 2b. a replay of an applied batch is answered without re-checking its changes;
        #     other content at an applied sequence, or a gap, is a 409 before any work.
        async with self.store.db.transaction() as tx:
            state = await self._sequence_state(tx, payload, content)
        if state == "duplicate":
            return VerifiedBatch(token, payload, digest, content, duplicate=True)
        # 3. authorisation
        at = self.clock()
        allowed = await self.authorised_jurisdictions(payload.registry, at)
        if allowed is None:
            raise AuthError(f"{payload.registry} is not an authorised registry here",
                            code="batch.not_authorised", forbidden=True)
        # 4. every change; the accreditations' signatures are verified in worker processes
        #    while the rest is checked here
        if ahead is None:
            ahead = await self.registry.start_signatures(payload.changes)
        try:
            rejections = await self.check_changes(payload.changes, allowed, at, ahead)
        finally:
            if ahead is not None:
                ahead.cancel()
        if rejections:
            raise InputError(
                f"{len(rejections)} of {len(payload.changes)} changes refused; nothing applied",
                code="batch.rejected",
                details={"rejected": [r.to_json() for r in rejections[:1000]],
                         "rejected_count": len(rejections)})
        raw_changes = parsed.raw_payload.get("changes")
        return VerifiedBatch(token, payload, digest, content, raw_changes=(
            raw_changes if texts is not None and isinstance(raw_changes, list) else ()),
            texts=texts)

    async def authorised_jurisdictions(self, registry_did: str, at: datetime) -> set[str] | None:
        configured = self.configured.get(registry_did)
        if configured is not None:
            return set(configured)
        return await self.registry.jurisdictions_of(registry_did, at)

    async def check_changes(self, changes: Sequence[Change], allowed: set[str], at: datetime,
                            ahead: SignaturesAhead | None = None) -> list[Rejection]:
        rejections: dict[int, Rejection] = {}
        with_attrs: list[tuple[int, Change]] = []
        for i, change in enumerate(changes):
            shape = check_shape(i, change)
            if shape is not None:
                rejections[i] = shape
                continue
            if change.op in ATTRIBUTE_OPS:
                with_attrs.append((i, change))
        for i, change in with_attrs:
            bad = self._attribute_jurisdiction(i, change, allowed)
            if bad is not None:
                rejections.setdefault(i, bad)
        for i, change in enumerate(changes):
            if i in rejections or change.op in ATTRIBUTE_OPS:
                continue
            wanted = await self.registry.issuer_jurisdictions(change.did)
            bad = check_jurisdiction(i, wanted, allowed, f"issuer {change.did}")
            if bad is not None:
                rejections[i] = bad
        indexed = [(i, c) for i, c in enumerate(changes) if i not in rejections]
        for rej in await self.registry.check_targets(indexed):
            rejections.setdefault(rej.index, rej)
        for rej in await self.registry.check_attributes(
                [(i, c) for i, c in indexed if c.op in ATTRIBUTE_OPS], at, ahead):
            rejections.setdefault(rej.index, rej)
        return [rejections[i] for i in sorted(rejections)]

    @staticmethod
    def _attribute_jurisdiction(i: int, change: Change, allowed: set[str]) -> Rejection | None:
        assert change.attribute is not None  # check_shape ran first
        try:
            wanted = accredited_jurisdictions(change.attribute.jwt)
        except InputError as exc:
            return Rejection(i, "accreditation.malformed", exc.message)
        return check_jurisdiction(i, wanted, allowed, f"the accreditation of {change.did}")

    # -- sequence -----------------------------------------------------------------------

    @staticmethod
    async def _sequence_state(tx: Transaction, p: BatchPayload, content: str) -> str:
        """``new`` | ``duplicate``; raises 409 for a replay with other content or a gap."""
        existing = await SyncStore.batch_at(tx, p.registry, p.sequence)
        if existing is not None:
            if existing.content_digest == content:
                return "duplicate"
            raise ConflictError(
                f"sequence {p.sequence} of {p.registry} was already applied with other content",
                code="batch.replayed", details={"registry": p.registry, "sequence": p.sequence})
        last = await SyncStore.last_sequence(tx, p.registry)
        if p.sequence != last + 1:
            raise ConflictError(
                f"{p.registry} is at sequence {last}; batch {p.sequence} is out of order",
                code="batch.out_of_order",
                details={"registry": p.registry, "expected": last + 1, "got": p.sequence})
        return "new"

    # -- apply ---------------------------------------------------------------------------

    async def submit(self, jws: str) -> ApplyResult:
        """Push: verify one batch and apply it (or find it already applied).

        The parsed batch (some ten containers per change) is held until it is applied, and
        every full collection walked it again: 14 % of a 100,000-issuer push's CPU went to
        the cyclic GC (``gc_paused``)."""
        with gc_paused():
            batch = await self.verify_batch(jws)
            results = await self.apply([batch])
        return results[0]

    async def apply(self, units: Sequence[Unit],
                    extra: Callable[[Transaction], Awaitable[None]] | None = None,
                    ) -> list[ApplyResult]:
        """Apply verified units, in order, in ONE transaction with their log entries.

        ``extra`` runs inside the same transaction (the mirror saves its cursor there).
        """
        results: list[ApplyResult] = []
        affected: set[str] = set()
        async with self._lock, self.store.db.transaction() as tx:
            if self.store.db.dialect == "postgresql":
                await tx.execute("SELECT pg_advisory_xact_lock(?)", _PG_APPLY_LOCK)
            seq, prev = await SyncStore.head(tx)
            now = self.clock().isoformat()
            for unit in units:
                registry, sequence = "upstream", 0
                if isinstance(unit, VerifiedBatch):
                    registry, sequence = unit.payload.registry, unit.payload.sequence
                    if await self._sequence_state(tx, unit.payload, unit.content) == "duplicate":
                        results.append(ApplyResult("duplicate", registry, sequence, None, None,
                                                   0))
                        continue
                changed = await self.registry.apply(tx, unit.changes)
                jsons = [c.to_json() for c in unit.changes]
                items = [(j, unit.origin(i)) for i, j in enumerate(jsons)]
                entries = ((continuing(unit.logged, seq, prev, items) if unit.logged else None)
                           or chain_entries(seq, prev, items,
                                            unit.change_jcs(jsons)
                                            if isinstance(unit, VerifiedBatch) else None))
                await SyncStore.append(tx, entries)
                if isinstance(unit, VerifiedBatch):
                    await SyncStore.record_batch(tx, unit.record(), first_seq=seq + 1,
                                                 changes=len(unit.changes), applied_at=now)
                results.append(ApplyResult("applied", registry, sequence, seq + 1,
                                           entries[-1].seq, 0, tuple(sorted(changed))))
                seq, prev = entries[-1].seq, entries[-1].entry_hash
                affected |= changed
            if extra is not None:
                await extra(tx)
        epoch = await self.registry.epoch()
        results = [ApplyResult(r.status, r.registry, r.sequence, r.first_seq, r.last_seq, epoch,
                               r.affected) for r in results]
        if affected and self.publish is not None:
            try:
                await self.publish(affected, epoch)
            except Exception:  # the write is committed; a lost event only delays invalidation
                log.exception("registry.changed could not be published")
        return results

    async def verify_upstream(self, source: str, changes: Sequence[Change]
                              ) -> tuple[UpstreamImport, list[Rejection]]:
        """Upstream changes carry no registry signature: each accreditation must verify on
        its own (signature + chain to our anchors). Returns the good part and the refusals."""
        at = self.clock()
        rejected: dict[int, Rejection] = {}
        indexed = list(enumerate(changes))
        for i, change in indexed:
            shape = check_shape(i, change)
            if shape is None and change.op not in ATTRIBUTE_OPS:
                shape = Rejection(i, "change.unsigned_revocation",
                                  "upstream changes must be signed accreditations")
            if shape is not None:
                rejected[i] = shape
        good = [(i, c) for i, c in indexed if i not in rejected]
        for rej in await self.registry.check_targets(good):
            rejected.setdefault(rej.index, rej)
        for rej in await self.registry.check_attributes(
                [(i, c) for i, c in good if i not in rejected], at):
            rejected.setdefault(rej.index, rej)
        kept = [c for i, c in indexed if i not in rejected]
        return UpstreamImport(source, kept), [rejected[i] for i in sorted(rejected)]

    # -- serving the log ------------------------------------------------------------------

    async def signed_head(self) -> tuple[LogHead, str]:
        seq, digest = await self.store.current_head()
        head = LogHead(seq, digest, self.node_key.did, self.clock())
        return head, self.node_key.sign(head.payload(), typ=HEAD_TYP)

    async def log_page_json(self, after: int, limit: int) -> str:
        """The page of the log after ``after`` as JSON text: ``{after, limit, entries,
        batches, next}``; each entry's change and origin are served as the log stores them
        (the change's JCS, the text its hash covers) instead of decoded and encoded again."""
        rows = await self.store.page_rows(after, limit)
        entries: list[str] = []
        digests: set[str] = set()
        for row in rows:
            origin = json.loads(row["origin"])
            # A batch travels once: with the page holding its first change (the rest by digest).
            if isinstance(digest := origin.get("batch"), str) and origin.get("index") == 0:
                digests.add(digest)
            entries.append(f'{{"seq":{int(row["seq"])},"change":{row["change"]},'
                           f'"origin":{row["origin"]},"prev_hash":{_quote(str(row["prev_hash"]))},'
                           f'"entry_hash":{_quote(str(row["entry_hash"]))}}}')
        batches = await self.store.batches_by_digest(sorted(digests))
        following = int(rows[-1]["seq"]) if rows and len(rows) == limit else None
        return (f'{{"after":{int(after)},"limit":{int(limit)},"entries":[{",".join(entries)}],'
                f'"batches":{_quote(batches)},"next":{_quote(following)}}}')


_quote = json.JSONEncoder(ensure_ascii=True, separators=(",", ":")).encode


__all__ = ["ApplyResult", "ParsedBatch", "RegistryPort", "SyncEngine", "Unit", "UpstreamImport",
           "VerifiedBatch", "parse_batch"]
