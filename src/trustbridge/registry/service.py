"""Plug point and facade: ``services.components["registry"]`` is the ``TrustRegistry``.

``TrustRegistry.check_issuer`` is the question the verification pipeline asks: gather
the facts (records up the chain, one signature verdict per accreditation), evaluate
them with the pure ``registry.chain``, and cache the answer keyed on everything it
depends on, including the registry epoch (any write moves it, so a stale answer is
never served) and the store's identity (another registry sharing the cache is never
answered from this one's entries). An answer that could not be decided (an issuer key could not be
fetched) raises ``FetchError``: the pipeline turns that into ``indeterminate``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from pydantic import TypeAdapter, ValidationError

from trustbridge.cache import Cache
from trustbridge.errors import FetchError, InputError
from trustbridge.registry.chain import (
    DEFAULT_MAX_DEPTH,
    Accredited,
    Answer,
    NotAccredited,
    evaluate_accreditation,
)
from trustbridge.registry.facts import (
    ResolverSignatureVerifier,
    SignatureVerifier,
    gather_chain_facts,
)
from trustbridge.registry.model import TERMS_OF_USE_TYPES, IssuerRecord
from trustbridge.registry.record_memo import EpochRecordMemo
from trustbridge.registry.seed import load_trust_list, trust_list_files
from trustbridge.registry.store import RegistryStore, RegistryWriter
from trustbridge.runtime.epoch_memo import EpochMemo
from trustbridge.services import Services

log = logging.getLogger(__name__)

NAME = "registry"
ANSWER_PREFIX = "registry:answer:"
ANCHORS_KEY = "registry.anchors"
_ATTRIBUTE_REF = re.compile(r"/issuers/([^/]+)/attributes/([0-9a-fA-F]{64})/?$")
_ANSWER: TypeAdapter[Accredited | NotAccredited] = TypeAdapter(Accredited | NotAccredited)


def terms_of_use_ref(terms_of_use: Any, issuer_did: str) -> str | NotAccredited | None:
    """The attribute id a credential's ``termsOfUse`` relies on, if it names one.

    Only ``IssuanceCertificate``/``AccreditationPolicy`` entries whose ``id`` is a TIR
    attribute URL count. One naming another DID's attribute is refused outright.
    """
    entries = terms_of_use if isinstance(terms_of_use, list) else [terms_of_use]
    for entry in entries:
        if not isinstance(entry, Mapping) or entry.get("type") not in TERMS_OF_USE_TYPES:
            continue
        url = entry.get("id")
        match = _ATTRIBUTE_REF.search(url) if isinstance(url, str) else None
        if match is None:
            continue
        if unquote(match.group(1)) != issuer_did:
            return NotAccredited(
                code="accreditation.terms_of_use_mismatch", issuer=issuer_did,
                reason=f"termsOfUse names an accreditation of {unquote(match.group(1))}, not "
                       "of the credential's issuer")
        return match.group(2).lower()
    return None


class TrustRegistry:
    """The registry as the rest of TrustBridge sees it."""

    def __init__(self, store: RegistryStore, verifier: SignatureVerifier, *,
                 anchors: Iterable[str] = (), cache: Cache | None = None,
                 max_depth: int = DEFAULT_MAX_DEPTH, answer_ttl: float = 300.0,
                 epoch_max_age: float = 1.0) -> None:
        self.store = store
        self.verifier = verifier
        self.configured_anchors = frozenset(anchors)
        self.declared_anchors: frozenset[str] = frozenset()
        self.cache = cache
        self.max_depth = max_depth
        self.answer_ttl = answer_ttl
        self.epoch_max_age = epoch_max_age
        """How long ``evaluate`` reuses the epoch it read (``registry_epoch_max_age_seconds``):
        this process's own changes apply at once (``invalidate``), other workers' within this
        many seconds."""
        self.records = EpochRecordMemo(store)
        self._epoch: EpochMemo[str] = EpochMemo(self._read_epoch, lambda: self.epoch_max_age)
        self._anchors_epoch: str | None = None  # the epoch the declared anchors were read at
        self.announce: Callable[[Sequence[str], int], Awaitable[object]] | None = None
        """Publishes ``registry.changed`` (set by ``registry.sync_service`` when attached)."""

    @property
    def anchors(self) -> frozenset[str]:
        """``settings.trust_anchors`` when set, else the anchors the seed/imports declared."""
        return self.configured_anchors or self.declared_anchors

    async def epoch(self) -> str:
        """What everything cached on this registry is keyed on: ``"<store identity>:<n>.<salt>"``,
        read from the store now (the verifier keeps its own memo of it).

        The number alone counts from 0 in every database, so two registries sharing one
        Redis would otherwise key different answers alike (``RegistryStore.identity``), and
        it counts again from a backup's number after a restore (``RegistryStore.epoch_token``).
        Any read through here refreshes ``current_epoch``'s memo, so a verification key read
        fresh is never newer than the evaluations under it, and what is cached under an epoch
        is never older than that epoch."""
        return await self._epoch.refresh()

    async def _read_epoch(self) -> str:
        value = f"{await self.store.identity()}:{await self.store.epoch_token()}"
        if value != self._anchors_epoch:
            # Declared anchors move the epoch (``declare_anchors``): read after it, they are
            # at least as new as it, whichever worker or node imported the list.
            await self.load_declared_anchors()
            self._anchors_epoch = value
        return value

    async def current_epoch(self) -> str:
        """``epoch``, reused for ``epoch_max_age`` seconds (what evaluations are keyed on);
        requests that find it stale share one read (``runtime.epoch_memo``)."""
        return await self._epoch.get()

    def forget_epoch(self) -> None:
        """A change applied (here, or announced by ``registry.changed``): read it again."""
        self._epoch.forget()

    async def epoch_number(self) -> int:
        """The store's epoch counter (what the API and ``registry.changed`` events show)."""
        return await self.store.epoch()

    async def load_declared_anchors(self) -> None:
        row = await self.store.db.fetchrow("SELECT value FROM node_state WHERE key = ?",
                                           ANCHORS_KEY)
        self.declared_anchors = frozenset(json.loads(row["value"])) if row else frozenset()

    @staticmethod
    async def declare_anchors(writer: RegistryWriter, anchors: Iterable[str]) -> None:
        """Remember anchors declared by an imported trust list (union with earlier ones),
        inside the import's transaction: they decide answers as records do, so they move the
        epoch with them, and every worker reloads them when it sees the new epoch."""
        row = await writer.tx.fetchrow("SELECT value FROM node_state WHERE key = ?",
                                       ANCHORS_KEY)
        merged = sorted(set(json.loads(row["value"]) if row else ()) | set(anchors))
        await writer.touch()
        await writer.tx.execute("DELETE FROM node_state WHERE key = ?", ANCHORS_KEY)
        await writer.tx.execute("INSERT INTO node_state (key, value) VALUES (?, ?)",
                                ANCHORS_KEY, json.dumps(merged))

    async def invalidate(self, dids: Sequence[str] | None = None) -> None:
        """After a change (here, or announced by ``registry.changed``): read the epoch and the
        declared anchors again, and drop cached answers (they are epoch-keyed anyway; this
        frees the cache at once)."""
        self.forget_epoch()
        if self.cache is not None:
            await self.cache.delete_prefix(ANSWER_PREFIX)
        await self.load_declared_anchors()

    async def changed(self, dids: Sequence[str]) -> None:
        """After this process committed a change: apply it here at once, and announce it to
        every worker and node sharing the cache (their epoch memos, cached results, anchors)."""
        await self.invalidate(dids)
        if self.announce is not None:
            try:
                await self.announce(dids, await self.epoch_number())
            except Exception:  # committed; without the event others see it within max age
                log.warning("registry.changed could not be published", exc_info=True)

    async def evaluate(self, issuer_did: str, *, types: Sequence[str], schema_id: str | None,
                       jurisdiction: str | None, at: datetime, terms_of_use: Any = None,
                       overlay: Mapping[str, IssuerRecord] | None = None) -> Answer:
        """The answer, possibly ``NotAccredited(indeterminate=True)``; never raises for data."""
        ref = terms_of_use_ref(terms_of_use, issuer_did) if terms_of_use else None
        if isinstance(ref, NotAccredited):
            return ref
        key = None
        # The epoch is read before any record, once; records are remembered per epoch.
        epoch = await self.current_epoch() if overlay is None else None
        if self.cache is not None and epoch is not None:
            key = self._key(epoch, issuer_did, types, schema_id, jurisdiction, at, ref)
            hit = await self.cache.get(key)
            if hit is not None:
                try:
                    return _ANSWER.validate_json(hit)
                except ValidationError:
                    log.warning("unreadable cached registry answer dropped")
        source = self.records.at(epoch) if epoch is not None else self.store
        facts = await gather_chain_facts(source, self.verifier, issuer_did,
                                         max_depth=self.max_depth, overlay=overlay)
        answer = evaluate_accreditation(
            issuer_did, credential_types=list(types), schema_id=schema_id,
            jurisdiction=jurisdiction, at=at, records=facts.records, verified=facts.verified,
            anchors=self.anchors, max_depth=self.max_depth, terms_of_use_ref=ref)
        if key is not None and self.cache is not None and not (
                isinstance(answer, NotAccredited) and answer.indeterminate):
            await self.cache.set(key, answer.model_dump_json().encode(), ttl=self.answer_ttl)
        return answer

    async def check_issuer(self, issuer_did: str, *, types: Sequence[str],
                           schema_id: str | None, jurisdiction: str | None, at: datetime,
                           terms_of_use: Any = None) -> Answer:
        """``Accredited`` or ``NotAccredited``; ``FetchError`` when it cannot be decided."""
        answer = await self.evaluate(issuer_did, types=types, schema_id=schema_id,
                                     jurisdiction=jurisdiction, at=at,
                                     terms_of_use=terms_of_use)
        if isinstance(answer, NotAccredited) and answer.indeterminate:
            raise FetchError(answer.reason, code=answer.code,
                             details={"partial_chain": [link.model_dump(mode="json")
                                                        for link in answer.partial_chain]})
        return answer

    def _key(self, epoch: str, issuer_did: str, types: Sequence[str], schema_id: str | None,
             jurisdiction: str | None, at: datetime, ref: str | None) -> str:
        material = json.dumps([issuer_did, sorted(types), schema_id, jurisdiction,
                               at.isoformat(), ref, sorted(self.anchors)])
        digest = hashlib.sha256(material.encode()).hexdigest()
        return f"{ANSWER_PREFIX}{epoch}:{digest}"


Progress = Callable[[str, int, int], None]  # file, issuers done, issuers in the file
IMPORT_CHUNK = 1000


async def import_trust_lists(registry: TrustRegistry, paths: Iterable[Any], *,
                             progress: Progress | None = None) -> dict[str, int]:
    """Load trust-list files into the store, one transaction per file (a bad file changes
    nothing); anchors the files declare are remembered with them. Each file is announced as
a ``registry.changed`` event (``TrustRegistry.changed``), so every worker and node sharing
the cache reads the new epoch, records and anchors at once. Counts of what was loaded."""
    counts = {"files": 0, "issuers": 0, "attributes": 0}
    for path in trust_list_files(paths):
        trust_list = load_trust_list(path)
        records = trust_list.records
        async with registry.store.transaction() as writer:
            for start in range(0, len(records), IMPORT_CHUNK):
                for record in records[start:start + IMPORT_CHUNK]:
                    await writer.put_record(record)
                if progress is not None:
                    progress(str(path), min(start + IMPORT_CHUNK, len(records)), len(records))
            if trust_list.anchors:
                await registry.declare_anchors(writer, trust_list.anchors)
        await registry.changed(sorted(writer.affected))
        counts["files"] += 1
        counts["issuers"] += len(records)
        counts["attributes"] += sum(len(r.attributes) for r in records)
    return counts


def _resolver(services: Services) -> Any:
    from trustbridge.verify.service import resolver_for

    return resolver_for(services)


async def attach(services: Services) -> None:
    await services.db.migrate()  # the registry tables register when store.py is imported
    s = services.settings
    verifier = ResolverSignatureVerifier(_resolver(services),
                                         allowed_algs=None if not s.allow_rsa else
                                         {"EdDSA", "ES256", "ES256K", "ES384", "RS256",
                                          "PS256"})
    registry = TrustRegistry(RegistryStore(services.db), verifier, anchors=s.trust_anchors,
                             cache=services.cache,
                             epoch_max_age=s.registry_epoch_max_age_seconds)
    await registry.load_declared_anchors()
    seed = s.registry_seed_dir
    if s.seed_registry and seed is not None and seed.is_dir() and await registry.store.is_empty():
        try:
            counts = await import_trust_lists(registry, [seed])
        except InputError as exc:
            log.error("registry seed not loaded: %s", exc.message)
        else:
            log.info("registry seeded from %s: %s", seed, counts)
    services.components[NAME] = registry


def registry_of(services: Services) -> TrustRegistry:
    registry = services.components.get(NAME)
    if not isinstance(registry, TrustRegistry):
        raise RuntimeError("the trust registry is not attached")
    return registry


__all__ = ["ANSWER_PREFIX", "TrustRegistry", "attach", "import_trust_lists", "registry_of",
           "terms_of_use_ref"]
