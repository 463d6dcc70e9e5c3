"""Mirroring another node's change log: verify, not trust, the transport.

One ``pull`` from a peer:

1. fetch the signed head; verify its signature with the key of the ``node_did`` it names
   (pinned per peer once seen, or by configuration) -- ``log.head_signature_invalid``;
   heads are signed when served, so one older than ``head_max_age`` (or from the future)
   is a replayed head freezing us in the past -- ``log.head_stale``;
2. refuse a head behind our cursor, or at our cursor with another hash -- ``log.fork``;
3. page the entries after our cursor up to the head; recompute the hash chain from our
   cursor (``log.gap``, ``log.fork``, ``log.entry_tampered``) and require the last hash to
   equal the signed head's (``log.head_mismatch``);
4. regroup entries into their batches and require each batch's changes to be exactly the
   entries (``log.batch_mismatch``);
5. verify every batch independently (signature, authorisation, every accreditation) and
   re-verify every upstream import, then apply batch by batch, each in one transaction
   together with the advanced cursor.

Steps 1-4 are done for the whole range before anything is applied, so a tampered
or forked log changes nothing; a batch refused in step 5 leaves the mirror at the
end of the last good batch. Every refusal is recorded on the peer's state.
"""

from __future__ import annotations

import gc
import logging
from dataclasses import dataclass, field, replace
from typing import Any

from trustbridge.clock import Clock, system_clock
from trustbridge.errors import FetchError, TrustBridgeError
from trustbridge.gc_tuning import gc_paused, long_lived
from trustbridge.registry._sync_http import RetryingGetter
from trustbridge.registry.batch import Change
from trustbridge.registry.changelog import (
    ChainError,
    LogEntry,
    LogHead,
    check_head_against_cursor,
    sha256_hex,
    verified_entries,
)
from trustbridge.registry.facts import SignaturesAhead
from trustbridge.registry.signed import JoseError, parse_jws, verify_parsed_by
from trustbridge.registry.sync import (
    ParsedBatch,
    SyncEngine,
    Unit,
    UpstreamImport,
    parse_batch,
)
from trustbridge.registry.sync_store import PeerState, SyncStore
from trustbridge.store.interface import Transaction

log = logging.getLogger(__name__)


MAX_PAGE_BYTES = 64 * 1024 * 1024


@dataclass
class MirrorResult:
    peer: str
    status: str  # "up_to_date" | "applied" | "refused"
    from_seq: int
    to_seq: int
    batches: int = 0
    duplicates: int = 0
    code: str | None = None
    error: str | None = None
    details: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"peer": self.peer, "status": self.status, "from": self.from_seq,
                "to": self.to_seq, "batches": self.batches, "duplicates": self.duplicates,
                "code": self.code, "error": self.error, **self.details}


class MirrorRefused(Exception):
    def __init__(self, message: str, *, code: str, seq: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.seq = seq


@dataclass(frozen=True)
class _Group:
    """Consecutive peer entries that came from one batch (or one upstream import)."""

    entries: list[LogEntry]
    batch_digest: str | None
    upstream: str | None


@dataclass
class Mirror:
    engine: SyncEngine
    store: SyncStore
    getter: RetryingGetter
    resolver: Any
    page_size: int = 1000
    pinned: dict[str, str] = field(default_factory=dict)  # peer URL -> expected node DID
    clock: Clock = system_clock
    head_max_age: float = 600.0  # seconds; also the tolerated clock skew into the future

    async def pull(self, peer: str) -> MirrorResult:
        """Mirror ``peer`` (base URL) up to its signed head; refusals are recorded."""
        peer = peer.rstrip("/")
        state = await self.store.peer(peer)
        try:
            return await self._pull(peer, state)
        except (MirrorRefused, ChainError) as exc:
            code, msg = exc.code, str(exc)
        except TrustBridgeError as exc:  # fetch failure, batch refused by the engine, 409
            code, msg = exc.code, exc.message
        current = await self.store.peer(peer)
        await self.store.record_peer_error(current, code=code, message=msg,
                                           at=self.clock().isoformat())
        log.warning("mirror of %s refused at entry %s: %s (%s)", peer, current.seq, msg, code)
        return MirrorResult(peer, "refused", state.seq, current.seq, code=code, error=msg)

    async def _pull(self, peer: str, state: PeerState) -> MirrorResult:
        # 1. signed head
        head = await self._head(peer, state)
        # 2. no rollback, no other history at our cursor
        check_head_against_cursor(head, seq=state.seq, digest=state.hash)
        if head.seq == state.seq:
            await self._save(state, head.node_did, state.seq, state.hash, None)
            return MirrorResult(peer, "up_to_date", state.seq, state.seq)
        # A pulled range is held whole until it is applied (steps 1-4 before 5): some ten
        # container objects per change, which every full collection walked again while the
        # range was applied -- at 30,000 changes half the mirror's time. ``long_lived``
        # parks it (gc.freeze) outside full collections; still freed by reference counting.
        with long_lived():
            return await self._pull_range(peer, state, head)

    async def _pull_range(self, peer: str, state: PeerState, head: LogHead) -> MirrorResult:
        # 3. entries up to the head, chained from our cursor
        pulled, batches = await self._entries(peer, state.seq, head.seq)
        entries = verified_entries(pulled, after_seq=state.seq, after_hash=state.hash)
        del pulled
        if not entries or entries[-1].seq != head.seq or entries[-1].entry_hash != head.hash:
            raise MirrorRefused("the entries do not end at the signed head", code="log.fork",
                                seq=head.seq)
        # 4. entries regrouped into their batches
        groups = _group(entries)
        parsed: dict[int, ParsedBatch] = {}
        for n, group in enumerate(groups):
            if group.batch_digest is not None and group.batch_digest not in batches:
                batches[group.batch_digest] = await self._batch(peer, group.batch_digest)
            if (batch := _check_group(group, batches)) is not None:
                parsed[n] = batch
        gc.freeze()  # the parsed batches are held until step 5 too (see ``long_lived``)
        # 5. verify and apply, one group at a time. Once a group has verified, the next
        #    batch's accreditation signatures begin in the worker processes (pure work:
        #    ``start_signatures``) while this one is applied and the next one's other checks
        #    run here; its chains are still checked after this one is applied.
        result = MirrorResult(peer, "applied", state.seq, state.seq)
        ahead: SignaturesAhead | None = None
        try:
            for n, group in enumerate(groups):
                last = group.entries[-1]

                async def advance(tx: Transaction, last: LogEntry = last) -> None:
                    await SyncStore.save_peer(tx, PeerState(
                        peer, head.node_did, last.seq, last.entry_hash,
                        self.clock().isoformat(), None, None, self.clock().isoformat()))

                with gc_paused():  # as a push does (``SyncEngine.submit``)
                    mine, ahead = ahead, None
                    unit = await self._verify_group(group, batches, parsed.pop(n, None), mine)
                    if (following := parsed.get(n + 1)) is not None:
                        ahead = await self.engine.registry.start_signatures(
                            following.payload.changes)
                    applied = await self.engine.apply([unit], advance)
                result.to_seq = last.seq
                if applied[0].status == "duplicate":
                    result.duplicates += 1
                else:
                    result.batches += 1
        finally:
            if ahead is not None:  # this run failed: the next batch's checks are of no use
                ahead.cancel()
        return result

    async def _head(self, peer: str, state: PeerState) -> LogHead:
        raw = await self.getter.get(f"{peer}/v1/registry/log/head",
                                    accept="application/jose, application/json",
                                    max_bytes=64 * 1024)
        token = raw.decode("utf-8", "replace").strip()
        if token.startswith("{"):
            token = str(_json(token).get("jws", ""))
        try:
            parsed = parse_jws(token)
        except JoseError as exc:
            raise MirrorRefused(str(exc), code="log.head_malformed") from exc
        head = LogHead.from_payload(parsed[1])
        expected = self.pinned.get(peer) or state.node_did
        if expected is not None and head.node_did != expected:
            raise MirrorRefused(f"peer head is signed by {head.node_did}, expected {expected}",
                                code="log.peer_key_changed")
        try:
            await verify_parsed_by(parsed, head.node_did, self.resolver)
        except JoseError as exc:
            raise MirrorRefused(f"peer head signature: {exc}",
                                code="log.head_signature_invalid") from exc
        age = (self.clock() - head.signed_at).total_seconds()
        if abs(age) > self.head_max_age:
            raise MirrorRefused(f"peer head was signed {age:.0f} s ago (limit "
                                f"{self.head_max_age:.0f} s): a replayed or badly dated head",
                                code="log.head_stale")
        return head

    async def _entries(self, peer: str, after: int, upto: int
                       ) -> tuple[list[LogEntry], dict[str, str]]:
        entries: list[LogEntry] = []
        batches: dict[str, str] = {}
        cursor = after
        while cursor < upto:
            page = _json(await self.getter.get(
                f"{peer}/v1/registry/log?after={cursor}&limit={self.page_size}",
                accept="application/json", max_bytes=MAX_PAGE_BYTES))
            got = [e for e in entries_of(page) if e.seq <= upto]
            raw_batches = page.get("batches")
            if isinstance(raw_batches, dict):
                batches.update({str(k): str(v) for k, v in raw_batches.items()})
            if not got:
                raise MirrorRefused(f"peer log ends at {cursor} below its head {upto}",
                                    code="log.gap", seq=cursor + 1)
            if got[0].seq != cursor + 1:
                raise MirrorRefused(f"expected entry {cursor + 1}, got {got[0].seq}",
                                    code="log.gap", seq=cursor + 1)
            entries.extend(got)
            cursor = got[-1].seq
            gc.freeze()  # held until applied (see ``long_lived``)
        return entries, batches

    async def _batch(self, peer: str, digest: str) -> str:
        raw = await self.getter.get(f"{peer}/v1/registry/batches/{digest}",
                                    accept="application/jose", max_bytes=MAX_PAGE_BYTES)
        return raw.decode("utf-8", "replace").strip()

    async def _verify_group(self, group: _Group, batches: dict[str, str],
                            parsed: ParsedBatch | None, ahead: SignaturesAhead | None) -> Unit:
        # the group's entries go along: the engine writes them as they are where they are
        # what our own log would chain (a mirror of one peer), instead of hashing again
        if group.batch_digest is not None:
            verified = await self.engine.verify_batch(batches[group.batch_digest], parsed,
                                                      keep_texts=False, ahead=ahead)
            return replace(verified, logged=group.entries)
        changes = [Change.model_validate(e.change) for e in group.entries]
        unit, refused = await self.engine.verify_upstream(str(group.upstream), changes)
        if refused:
            first = refused[0]
            raise MirrorRefused(
                f"upstream entry {group.entries[first.index].seq} refused: {first.reason}",
                code=first.code, seq=group.entries[first.index].seq)
        return UpstreamImport(unit.source, changes, logged=group.entries)

    async def _save(self, state: PeerState, node_did: str, seq: int, digest: str,
                    error: str | None) -> None:
        now = self.clock().isoformat()
        async with self.store.db.transaction() as tx:
            await SyncStore.save_peer(tx, PeerState(state.url, node_did, seq, digest, now,
                                                    error, None, now))


def _json(raw: bytes | str) -> dict[str, Any]:
    import json

    try:
        data = json.loads(raw)
    except ValueError as exc:
        raise FetchError(f"peer answered non-JSON: {exc}", code="fetch.malformed") from exc
    if not isinstance(data, dict):
        raise FetchError("peer answered a non-object", code="fetch.malformed")
    return data


def entries_of(page: dict[str, Any]) -> list[LogEntry]:
    raw = page.get("entries")
    if not isinstance(raw, list):
        raise ChainError("log page has no entries list", code="log.malformed")
    return [LogEntry.from_json(e) for e in raw]


def _group(entries: list[LogEntry]) -> list[_Group]:
    groups: list[_Group] = []
    for entry in entries:
        digest = entry.batch_digest
        upstream = entry.origin.get("upstream") if digest is None else None
        if digest is None and not isinstance(upstream, str):
            raise MirrorRefused(f"entry {entry.seq} has no origin", code="log.malformed",
                                seq=entry.seq)
        starts_batch = digest is not None and entry.origin.get("index") == 0
        last = groups[-1] if groups else None
        if (last is not None and not starts_batch and last.batch_digest == digest
                and last.upstream == upstream):
            last.entries.append(entry)
        else:
            groups.append(_Group([entry], digest, upstream if digest is None else None))
    return groups


def _check_group(group: _Group, batches: dict[str, str]) -> ParsedBatch | None:
    """A batch group must be the batch's changes, all of them, in order, verbatim.
    Returns the parsed batch (step 5 verifies it without parsing it again)."""
    if group.batch_digest is None:
        return None
    token = batches[group.batch_digest]
    first = group.entries[0].seq
    if sha256_hex(token) != group.batch_digest:
        raise MirrorRefused(f"batch of entry {first} does not match its digest",
                            code="log.batch_mismatch", seq=first)
    try:
        parsed = parse_batch(token)
    except Exception as exc:  # any parse failure of a peer's batch is a refusal
        raise MirrorRefused(f"batch of entry {first} is malformed: {exc}",
                            code="log.batch_mismatch", seq=first) from exc
    changes = parsed.payload.changes
    if len(changes) != len(group.entries):
        raise MirrorRefused(f"batch of entry {first} has {len(changes)} changes, the log "
                            f"{len(group.entries)}", code="log.batch_mismatch", seq=first)
    for i, (entry, change) in enumerate(zip(group.entries, changes, strict=True)):
        # ``to_json`` of a change holds only strings and objects of strings, so equal
        # dicts are the same JSON (no 1 == 1.0 == True ambiguity): no need to canonicalise.
        if entry.origin.get("index") != i or entry.change != change.to_json():
            raise MirrorRefused(f"entry {entry.seq} is not change {i} of its batch",
                                code="log.batch_mismatch", seq=entry.seq)
    return parsed


__all__ = ["Mirror", "MirrorRefused", "MirrorResult"]
