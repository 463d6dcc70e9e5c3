"""Sync's ``RegistryPort`` over the registry package: ``RegistryStore`` for reads and the
transactional writer, ``registry.facts`` + ``registry.chain`` for every accreditation.

How an accreditation inside a batch is judged (over the registry as it would be with
the whole batch applied: batch records overlay the stored ones):

* a TI's ``VerifiableAccreditationToAttest``: ``evaluate_accreditation`` of the subject,
  pinned to this attribute (``terms_of_use_ref``), for every schema/types/jurisdiction
  the attribute grants -- so the chain above must hold all of it;
* a TAO's or RootTAO's accreditation: ``chain.evaluate_accreditation`` only starts from a
  TI, so the question is put as "could a TI accredited by this subject for exactly
  these grants be accredited?" -- an unsigned probe TI (its verdict supplied as verified,
  it is never stored) whose only granter record is the subject holding only this
  attribute. Every check on this attribute and above it then runs unchanged;
* a ``Revoked`` attribute only lowers trust: its signature by its ``tao`` is checked.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trustbridge.errors import InputError
from trustbridge.registry.batch import ATTRIBUTE_OPS, Change, Rejection
from trustbridge.registry.chain import (
    DEFAULT_MAX_DEPTH,
    Answer,
    ChainMemo,
    NotAccredited,
    SignatureVerdict,
    evaluate_accreditation,
)
from trustbridge.registry.facts import (
    ChainFacts,
    ResolverSignatureVerifier,
    SignaturesAhead,
    SignatureVerifier,
    collect_from,
    gather_chain_facts,
    granters_of,
    verify_records,
)
from trustbridge.registry.model import (
    FOR_TRUST_CHAIN,
    TO_ACCREDIT,
    Accreditation,
    Attribute,
    IssuerRecord,
    parse_accreditation,
)
from trustbridge.registry.store import RegistryStore, RegistryWriter
from trustbridge.runtime.outcome import discard_outcome
from trustbridge.store.interface import Transaction

PROBE_PREFIX = "did:trustbridge-sync-probe:"
ACCREDITING_KINDS = frozenset({TO_ACCREDIT, FOR_TRUST_CHAIN})
PREVERIFY_SLICE = 1000
UPWARD_CAP = 64  # overlay records handed to one evaluation (``_upward``)


def _b64(data: dict[str, Any]) -> str:
    raw = json.dumps(data, separators=(",", ":")).encode("utf-8")
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def _attribute(change: Change) -> Attribute:
    a = change.attribute
    assert a is not None
    return Attribute(id=a.hash, did=change.did, body=a.jwt, issuer_type=a.issuer_type,
                     tao=a.tao, root_tao=a.root_tao)


class _CachedRecords:
    """One verification run's state: the store's records, each read once per run (a batch
    reads the same TAO and RootTAO records for every TI below them), the signature
    verdicts found for the run's accreditations in bulk (``preverify``), and the chains
    above the TIs' own links, walked once per granter (``memo``)."""

    def __init__(self, store: RegistryStore, verifier: SignatureVerifier,
                 ahead: SignaturesAhead | None = None) -> None:
        self._store = store
        self._records: dict[str, IssuerRecord | None] = {}
        self._inner = verifier
        self._ahead = ahead
        self._verdicts: dict[tuple[str, str], SignatureVerdict] = {}
        self.memo = ChainMemo()
        self.above: dict[tuple[frozenset[str], frozenset[str]], _Above] = {}

    async def preverify(self, attrs: Iterable[Attribute]) -> dict[tuple[str, str],
                                                                   SignatureVerdict]:
        """The verdicts of ``attrs`` (those not revoked), all at once: the verifier's
        ``verify_many`` runs step 4 in worker processes for a large batch; those begun
        before the run (``ahead``) are waited for."""
        jobs = [(a.body, acc.issuer) for a in attrs
                if not a.revoked and (acc := _parsed(a)) is not None]
        found: dict[tuple[str, str], SignatureVerdict] = {}
        if self._ahead is not None:
            found = await self._ahead.take([job for job in jobs if job in self._ahead])
            jobs = [job for job in jobs if job not in found]
        verify_many = getattr(self._inner, "verify_many", None)
        if verify_many is None or not jobs:
            return found
        found.update(await verify_many(jobs))
        return found

    def remember(self, verdicts: dict[tuple[str, str], SignatureVerdict]) -> None:
        """Use these verdicts for the rest of the run (transient ones are asked again)."""
        self._verdicts.update({k: v for k, v in verdicts.items() if not v.transient})

    async def verify(self, jwt: str, issuer_did: str) -> SignatureVerdict:
        """``SignatureVerifier``: this run's verdict, else the port's verifier."""
        hit = self._verdicts.get((jwt, issuer_did))
        return hit if hit is not None else await self._inner.verify(jwt, issuer_did)

    def remembered(self, jwt: str, issuer_did: str) -> SignatureVerdict | None:
        hit = self._verdicts.get((jwt, issuer_did))
        if hit is None:
            inner = getattr(self._inner, "remembered", None)
            hit = inner(jwt, issuer_did) if inner is not None else None
        return hit

    async def get_issuers(self, dids: Iterable[str]) -> dict[str, IssuerRecord]:
        wanted = list(dict.fromkeys(dids))
        missing = [d for d in wanted if d not in self._records]
        if missing:
            found = await self._store.get_issuers(missing)
            self._records.update({d: found.get(d) for d in missing})
        return {d: r for d in wanted if (r := self._records[d]) is not None}


@dataclass(frozen=True)
class _Above:
    """What ``gather_chain_facts`` finds above a TI's granters: their records and those above
    (``reach``: the batch records among them that ``_upward`` would hand over) and verdicts."""

    records: dict[str, IssuerRecord]
    verified: dict[str, SignatureVerdict]
    reach: frozenset[str]


class RegistryStorePort:
    """Implements ``trustbridge.registry.sync.RegistryPort``.

    ``shortcuts``: a batch TI's facts are built from the facts above its granters, gathered
    once per run, and the chain above its own link is walked once per granter
    (``chain.ChainMemo``); off, every TI gathers and walks everything itself -- the same
    answers (tests/sync/test_batch_shortcuts.py), at 100,000 TIs a third of a push.
    """

    shortcuts = True

    def __init__(self, store: RegistryStore, resolver: Any,
                 anchors: Callable[[], frozenset[str]]) -> None:
        self.store = store
        self.db = store.db
        self.verifier: SignatureVerifier = ResolverSignatureVerifier(resolver)
        self._anchors = anchors
        # The last checked batch's attributes (``_attribute`` of each change, by the change's
        # id with the change itself): ``apply`` of that batch writes them instead of building
        # (and hashing) each one again.
        self._checked: dict[int, tuple[Change, Attribute]] = {}

    def _attribute_of(self, change: Change) -> Attribute:
        """``_attribute(change)``, as checked when this very change object was."""
        hit = self._checked.get(id(change))
        return hit[1] if hit is not None and hit[0] is change else _attribute(change)

    @property
    def anchors(self) -> frozenset[str]:
        """``settings.trust_anchors``, else those the registry's trust lists declared."""
        return self._anchors()

    async def epoch(self) -> int:
        return await self.store.epoch()

    async def attribute_ids(self, did: str) -> set[str]:
        record = await self.store.get_issuer(did)
        return {a.id for a in record.attributes} if record else set()

    # -- authorisation and jurisdiction ---------------------------------------------------

    async def jurisdictions_of(self, registry_did: str, at: datetime) -> set[str] | None:
        record = await self.store.get_issuer(registry_did)
        if record is None or record.revoked:
            return None
        found: set[str] = set()
        held = False
        for attr in record.attributes:
            acc = _parsed(attr)
            if attr.revoked or acc is None or not ACCREDITING_KINDS & set(acc.types):
                continue
            run = _CachedRecords(self.store, self.verifier)
            if await self._granter_problem(attr, acc, {}, at, run) is None:
                held = True
                limits = [g.limit_jurisdiction for g in acc.accredited_for]
                if not limits or any(lim is None for lim in limits):
                    found.add("*")
                else:
                    found.update(j for lim in limits for j in lim or ())
        return found if held else None

    async def issuer_jurisdictions(self, did: str) -> set[str] | None:
        record = await self.store.get_issuer(did)
        if record is None:
            return None
        found: set[str] = set()
        for attr in record.attributes:
            acc = _parsed(attr)
            if acc is None:
                continue
            for grant in acc.accredited_for:
                if grant.limit_jurisdiction is None:
                    return None
                found.update(grant.limit_jurisdiction)
        return found or None

    # -- targets and accreditations --------------------------------------------------------

    async def check_targets(self, changes: Sequence[tuple[int, Change]]) -> list[Rejection]:
        records = await self.store.get_issuers({c.did for _, c in changes})
        added: set[str] = set()
        out: list[Rejection] = []
        for i, change in changes:
            record = records.get(change.did)
            if change.op == "add_issuer":
                if record is not None or change.did in added:
                    out.append(Rejection(i, "change.issuer_exists",
                                         f"{change.did} is already registered"))
                added.add(change.did)
                continue
            if record is None and change.did not in added:
                out.append(Rejection(i, "change.issuer_unknown",
                                     f"{change.did} is not registered"))
            elif record is not None and record.revoked and change.op != "revoke_issuer":
                out.append(Rejection(i, "change.issuer_revoked", f"{change.did} is revoked"))
            elif change.op == "revoke_attribute" and (
                    record is None or record.attribute(change.attribute_id or "") is None):
                out.append(Rejection(i, "change.attribute_unknown",
                                     f"{change.did} has no attribute {change.attribute_id}"))
        return out

    async def start_signatures(self, changes: Sequence[Change]) -> SignaturesAhead | None:
        """The signature checks ``check_attributes`` of ``changes`` will ask for, begun now
        in the worker processes (``ResolverSignatureVerifier.start_many``): the engine
        checks the rest of the batch meanwhile. Only pure work is begun -- each
        accreditation's JWS under its issuer's self-certifying key; every verdict is still
        read, and every chain walked, by ``check_attributes``. ``None``: nothing begun."""
        start_many = getattr(self.verifier, "start_many", None)
        if start_many is None:
            return None
        jobs = [(a.jwt, acc.issuer) for change in changes
                if change.op in ATTRIBUTE_OPS and (a := change.attribute) is not None
                and a.issuer_type != "Revoked" and (acc := _parsed_jwt(a.jwt)) is not None]
        ahead: SignaturesAhead | None = await start_many(jobs)
        return ahead

    async def check_attributes(self, changes: Sequence[tuple[int, Change]], at: datetime,
                               ahead: SignaturesAhead | None = None) -> list[Rejection]:
        attrs = [(i, _attribute(change)) for i, change in changes]
        self._checked = {id(change): (change, attr)
                         for (_, change), (_, attr) in zip(changes, attrs, strict=True)}
        overlay = await self._overlay(attrs)
        source = _CachedRecords(self.store, self.verifier, ahead)
        out: list[Rejection] = []
        # The next slice's verdicts are asked for (a task) before this one's chains are
        # evaluated. The task runs only when an evaluation awaits, which a batch's TIs
        # rarely do (records and verdicts at hand): the worker processes overlap the
        # checks here when ``start_signatures`` began the batch's signatures (``ahead``).
        slices = [attrs[n:n + PREVERIFY_SLICE] for n in range(0, len(attrs), PREVERIFY_SLICE)]
        coming = asyncio.ensure_future(source.preverify(a for _, a in slices[0])) if slices \
            else None
        try:
            for k, part in enumerate(slices):
                assert coming is not None
                source.remember(await coming)
                coming = (asyncio.ensure_future(source.preverify(a for _, a in slices[k + 1]))
                          if k + 1 < len(slices) else None)
                for i, attr in part:
                    problem = await self._attribute_problem(attr, overlay, at, source)
                    if problem is not None:
                        out.append(Rejection(i, problem[0], problem[1]))
        finally:
            if coming is not None:  # an evaluation raised: drop the look-ahead quietly
                coming.cancel()
                coming.add_done_callback(discard_outcome)
        return out

    async def _overlay(self, attrs: Sequence[tuple[int, Attribute]]
                       ) -> dict[str, IssuerRecord]:
        """The records the batch touches, as they would be after it."""
        stored = await self.store.get_issuers({a.did for _, a in attrs})
        overlay: dict[str, IssuerRecord] = {}
        for _, attr in attrs:
            base = overlay.get(attr.did) or stored.get(attr.did)
            if base is None:  # a new issuer (most of a large batch): one model, not two
                overlay[attr.did] = IssuerRecord(did=attr.did, attributes=(attr,))
                continue
            kept = tuple(a for a in base.attributes if a.id != attr.id)
            overlay[attr.did] = base.model_copy(update={"attributes": (*kept, attr)})
        return overlay

    async def _attribute_problem(self, attr: Attribute, overlay: dict[str, IssuerRecord],
                                 at: datetime, source: _CachedRecords
                                 ) -> tuple[str, str] | None:
        acc = _parsed(attr)
        if acc is None:
            return ("accreditation.malformed", f"attribute of {attr.did} is not a JWT VC")
        if attr.revoked:
            verdict = await source.verify(attr.body, attr.tao or acc.issuer)
            return None if verdict.ok else (verdict.code, verdict.reason)
        if ACCREDITING_KINDS & set(acc.types):
            return await self._granter_problem(attr, acc, overlay, at, source)
        for grant in acc.accredited_for or ():
            for jurisdiction in grant.limit_jurisdiction or (None,):
                answer = await self._evaluate(
                    attr.did, overlay, at, source, types=grant.types,
                    schema_id=grant.schema_id, jurisdiction=jurisdiction, pinned=attr.id)
                if isinstance(answer, NotAccredited):
                    return (answer.code, answer.reason)
        if not acc.accredited_for:
            return ("accreditation.schema_mismatch", f"the accreditation of {attr.did} "
                    "accredits for nothing")
        return None

    async def _granter_problem(self, attr: Attribute, acc: Accreditation,
                               overlay: dict[str, IssuerRecord], at: datetime,
                               source: _CachedRecords) -> tuple[str, str] | None:
        """Could a TI accredited by ``attr.did`` for exactly ``acc``'s grants be accredited,
        with ``attr`` as the only accreditation ``attr.did`` holds? (see the module doc)"""
        subject = (overlay.get(attr.did) or (await source.get_issuers([attr.did])).get(attr.did)
                   or IssuerRecord(did=attr.did))
        pinned = {attr.did: subject.model_copy(update={"attributes": (attr,)})}
        grants = [g.to_json() for g in acc.accredited_for] or [
            {"schemaId": "urn:trustbridge:sync-probe"}]
        probe_did = PROBE_PREFIX + attr.id
        body = ".".join((_b64({"alg": "none"}), _b64({
            "iss": attr.did, "sub": probe_did,
            "vc": {"type": ["VerifiableCredential", "VerifiableAccreditationToAttest"],
                   "credentialSubject": {"id": probe_did, "accreditedFor": grants}}}), ""))
        probe_attr = Attribute(id=f"probe-{attr.id}", did=probe_did, body=body,
                               issuer_type="TI", tao=attr.did)
        pinned[probe_did] = IssuerRecord(did=probe_did, attributes=(probe_attr,))
        for grant in acc.accredited_for or (None,):
            for jurisdiction in (grant.limit_jurisdiction if grant else None) or (None,):
                answer = await self._evaluate(
                    probe_did, overlay, at, source, pinned_records=pinned,
                    types=grant.types if grant else (),
                    schema_id=grant.schema_id if grant else None, jurisdiction=jurisdiction,
                    pinned=probe_attr.id, presumed={probe_attr.id})
                if isinstance(answer, NotAccredited):
                    return (answer.code, answer.reason.replace(probe_did, "a TI"))
        return None

    async def _evaluate(self, did: str, overlay: dict[str, IssuerRecord], at: datetime,
                        source: _CachedRecords, *, types: Iterable[str],
                        schema_id: str | None, jurisdiction: str | None, pinned: str,
                        presumed: set[str] | None = None,
                        pinned_records: dict[str, IssuerRecord] | None = None) -> Answer:
        facts = None
        if self.shortcuts and presumed is None and pinned_records is None:
            facts = await self._facts_below(did, overlay, source)
        if facts is None:
            relevant = _upward([did], overlay, pinned_records)
            facts = await gather_chain_facts(source, source, did, overlay=relevant)
        verified = facts.verified
        if presumed:
            verified = dict(verified)
            for attr_id in presumed:
                verified[attr_id] = SignatureVerdict(True, reason="sync probe (never stored)")
        return evaluate_accreditation(
            did, credential_types=list(types), schema_id=schema_id, jurisdiction=jurisdiction,
            at=at, records=facts.records, verified=verified, anchors=self.anchors,
            terms_of_use_ref=pinned, memo=source.memo if self.shortcuts else None)

    async def _facts_below(self, did: str, overlay: dict[str, IssuerRecord],
                           source: _CachedRecords) -> ChainFacts | None:
        """The facts ``gather_chain_facts`` finds for ``did`` (a record in the batch) over
        ``_upward(did)``, from those above its granters, gathered once per run: its record,
        the verdicts of its own accreditations and the run's ``_Above`` for its granters.

        Breadth first from ``did``, the first level is ``did`` and the rest is a walk from
        its granters (``collect_from``), and ``_upward(did)`` is ``did`` plus the batch
        records reachable from them, unless ``did`` is among those (a cycle through it) or
        they reach ``_upward``'s cap: then ``None``, and the TI gathers its own."""
        record = overlay.get(did)
        if record is None:
            return None
        up = frozenset(granters_of(record))
        walk_up = frozenset(g for a in record.attributes if (g := _granter(a)) is not None)
        above = source.above.get((up, walk_up))
        if above is None:
            reach = frozenset(_upward(walk_up, overlay))
            records = await collect_from(source, up, levels=DEFAULT_MAX_DEPTH + 1,
                                         overlay={d: overlay[d] for d in reach})
            verified = await verify_records(source, records.values())
            above = _Above(records, verified, reach)
            if not any(v.transient for v in verified.values()):  # those are asked again
                source.above[(up, walk_up)] = above
        if did in above.records or did in above.reach or len(above.reach) >= UPWARD_CAP - 1:
            return None
        own = await verify_records(source, [record])
        return ChainFacts({did: record, **above.records}, {**above.verified, **own})

    async def accredited(self, did: str, at: datetime | None = None) -> tuple[bool, str]:
        """Whether ``did`` is accredited for anything (tests and status)."""
        from trustbridge.clock import system_clock

        when = at or system_clock()
        facts = await gather_chain_facts(self.store, self.verifier, did)
        answer = evaluate_accreditation(did, credential_types=(), schema_id=None,
                                        jurisdiction=None, at=when, records=facts.records,
                                        verified=facts.verified, anchors=self.anchors)
        return answer.accredited, answer.code

    # -- writes ------------------------------------------------------------------------------

    async def apply(self, tx: Transaction, changes: Sequence[Change]) -> set[str]:
        """Write in order; runs of ``add_issuer`` for DIDs not in the store go in bulk."""
        writer = self.store.writer(tx)
        run: list[Change] = []
        for change in changes:
            if change.op == "add_issuer":
                run.append(change)
                continue
            await self._add_issuers(tx, writer, run)
            run = []
            if change.op == "revoke_issuer":
                await writer.revoke_issuer(change.did)
            elif change.op == "revoke_attribute":
                await writer.revoke_attribute(change.did, change.attribute_id or "")
            else:
                attr = self._attribute_of(change)
                await writer.add_attribute(attr)
                if change.attribute_id and change.attribute_id != attr.id:
                    await writer.revoke_attribute(change.did, change.attribute_id)
        await self._add_issuers(tx, writer, run)
        self._checked = {}
        return set(writer.affected)

    async def _add_issuers(self, tx: Transaction, writer: RegistryWriter,
                           run: list[Change]) -> None:
        if not run:
            return
        dids = [c.did for c in run]
        existing: set[str] = set()
        for start in range(0, len(dids), 500):
            chunk = dids[start:start + 500]
            marks = ", ".join("?" for _ in chunk)
            rows = await tx.fetch(
                f"SELECT did FROM registry_issuers WHERE did IN ({marks})",  # noqa: S608 -- placeholders only
                *chunk)
            existing |= {str(r["did"]) for r in rows}
        fresh: dict[str, IssuerRecord] = {}
        for change in run:
            attr = self._attribute_of(change)
            if change.did in existing:
                await writer.put_issuer(change.did)
                await writer.add_attribute(attr)
            elif change.did in fresh:
                kept = tuple(a for a in fresh[change.did].attributes if a.id != attr.id)
                fresh[change.did] = IssuerRecord(did=change.did, attributes=(*kept, attr))
            else:
                fresh[change.did] = IssuerRecord(did=change.did, attributes=(attr,))
        await writer.bulk_insert(list(fresh.values()))


def _upward(start: Iterable[str], overlay: dict[str, IssuerRecord],
            pinned: Mapping[str, IssuerRecord] | None = None) -> dict[str, IssuerRecord]:
    """The overlay records on the chains from ``start`` up (``pinned`` ones win), at most
    ``UPWARD_CAP``: handing an evaluation only those above its TI keeps each check
    independent of the batch size; from a TI's granters, they are its batch shortcut's
    ``reach``."""
    pinned = pinned or {}
    out: dict[str, IssuerRecord] = {}
    todo = list(start)
    while todo and len(out) < UPWARD_CAP:
        current = todo.pop()
        record = pinned.get(current) or overlay.get(current)
        if record is None or current in out:
            continue
        out[current] = record
        todo.extend(g for attr in record.attributes
                    if (g := _granter(attr)) is not None and g not in out)
    return out


def _granter(attr: Attribute) -> str | None:
    """Who granted ``attr``: its ``tao``, else its JWT's issuer."""
    if attr.tao is not None:
        return attr.tao
    acc = _parsed(attr)
    return acc.issuer if acc else None


def _parsed(attr: Attribute) -> Accreditation | None:
    return _parsed_jwt(attr.body)


def _parsed_jwt(jwt: str) -> Accreditation | None:
    try:
        return parse_accreditation(jwt)
    except InputError:
        return None


def port_of(services: Any, resolver: Any) -> RegistryStorePort:
    """The port over the registry component's store, verifier and (live) trust anchors."""
    component = services.components.get("registry")
    store = getattr(component, "store", None)
    if not isinstance(store, RegistryStore):
        store = RegistryStore(services.db)
    configured = frozenset(services.settings.trust_anchors)

    def anchors() -> frozenset[str]:
        live = getattr(component, "anchors", None)
        return frozenset(live) if isinstance(live, frozenset | set) and live else configured

    port = RegistryStorePort(store, resolver, anchors)
    verifier = getattr(component, "verifier", None)
    if verifier is not None and hasattr(verifier, "verify"):
        port.verifier = verifier
    return port


__all__ = ["RegistryStorePort", "port_of"]
