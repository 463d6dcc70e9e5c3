"""Trust-chain evaluation: is this issuer accredited for this credential, at this time?

PURE: facts in (issuer records, signature verdicts per attribute id, trust anchors,
the time), an answer out. Fetching records and verifying signatures is
``registry.facts``; nothing here does I/O or reads a clock.

Steps for each link, bottom (the credential's issuer, a TI) to top (a RootTAO):

1. the issuer is registered and not revoked (``issuer.not_registered``, ``accreditation.revoked``);
2. the attribute is not ``Revoked`` and its JWT parses (``accreditation.revoked``,
   ``accreditation.malformed``); its subject is the record's DID and its issuer the
   attribute's ``tao`` (``accreditation.subject_mismatch``, ``accreditation.issuer_mismatch``);
3. it is the right kind: ``VerifiableAccreditationToAttest`` for the credential's issuer,
   ``VerifiableAccreditationToAccredit`` / ``VerifiableAuthorisationForTrustChain`` above
   (``issuer.not_accredited``, ``chain.granter_not_accredited``);
4. its validity window contains ``at`` (``accreditation.not_yet_valid``,
   ``accreditation.expired``);
5. its JWS verified with an ``assertionMethod`` key of its issuer
   (``accreditation.signature_invalid``; a key that could not be fetched gives an
   *indeterminate* answer, never a pass);
6. its ``accreditedFor`` covers what is asked: for the TI the credential's schema, types
   and jurisdiction (``accreditation.schema_mismatch``, ``accreditation.type_mismatch``,
   ``accreditation.jurisdiction``); for a TAO/RootTAO the grant relied on below, so a TAO
   never grants more than it holds (``accreditation.exceeds_grant``,
   ``accreditation.jurisdiction``);
7. the walk goes up to the accreditation's issuer and ends at a configured trust anchor
   (``chain.untrusted_anchor``), with a visited set and a depth cap (``chain.cycle``,
   ``chain.too_deep``).

A credential may name the accreditation it relies on (``termsOfUse`` of type
``IssuanceCertificate``/``AccreditationPolicy``); only that one is then tried.

Many TIs below one TAO (a sync batch of 100,000 issuers) share everything above their own
link. A ``ChainMemo`` handed to ``evaluate_accreditation`` walks that upper part once per
(granter, grant relied on) and replays it for the next TI, only where every fact the walk
read is the same (see ``ChainMemo``).
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict

from trustbridge.errors import InputError
from trustbridge.registry import jurisdiction as jur
from trustbridge.registry.model import (
    FOR_TRUST_CHAIN,
    TO_ACCREDIT,
    TO_ATTEST,
    Accreditation,
    AccreditedFor,
    Attribute,
    IssuerRecord,
    parse_accreditation,
)

DEFAULT_MAX_DEPTH = 5
GENERIC_TYPES = frozenset({"VerifiableCredential"})
_TSR_ID = re.compile(r"/trusted-schemas-registry/v\d+/schemas/([A-Za-z0-9]+)/?$")


@dataclass(frozen=True)
class SignatureVerdict:
    """Outcome of verifying one attribute's JWS (from ``registry.facts``).

    ``transient``: the key could not be fetched (network, timeout) -- "could not get data",
    which must never turn into accredited nor into a definitive refusal.
    """

    ok: bool
    code: str = "accreditation.signature_ok"
    reason: str = ""
    transient: bool = False


class ChainLink(BaseModel):
    """One accreditation in a chain, as shown in reports."""

    model_config = ConfigDict(frozen=True)

    did: str
    issuer_type: str
    attribute_id: str | None
    accreditation_type: str | None
    accredited_by: str | None
    accredited_for: AccreditedFor | None
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    name: str | None = None
    country: str | None = None


class Accredited(BaseModel):
    """The issuer is accredited: ``chain`` runs TI, TAO…, RootTAO (a configured anchor)."""

    model_config = ConfigDict(frozen=True)

    accredited: Literal[True] = True
    code: str = "issuer.accredited"
    reason: str = "accredited through a chain ending at a configured trust anchor"
    issuer: str
    issuer_name: str | None = None
    country: str | None = None
    attribute_id: str
    anchor: str
    chain: tuple[ChainLink, ...]


class NotAccredited(BaseModel):
    """Not accredited, with a stable ``code``, a reason and the chain as far as it went.

    ``indeterminate``: a fact (an issuer key) could not be fetched; callers must treat
    this as "could not decide", never as valid.
    """

    model_config = ConfigDict(frozen=True)

    accredited: Literal[False] = False
    code: str
    reason: str
    issuer: str
    partial_chain: tuple[ChainLink, ...] = ()
    indeterminate: bool = False

    @property
    def message(self) -> str:
        return self.reason


Answer = Accredited | NotAccredited


@dataclass(frozen=True)
class _Wanted:
    """What a link must cover: the credential (level 0) or the grant relied on below."""

    schema_id: str | None
    types: frozenset[str]
    jurisdictions: tuple[str, ...] | None  # None: no limit asked for / unlimited grant
    from_credential: bool


@dataclass
class _Trace:
    """What one walk read: each record and verdict it asked for (and what it got) and each
    DID it tested against the visited set -- everything its outcome depends on."""

    records: dict[str, IssuerRecord | None] = field(default_factory=dict)
    verdicts: dict[str, SignatureVerdict | None] = field(default_factory=dict)
    granters: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class _Facts:
    records: Mapping[str, IssuerRecord]
    verified: Mapping[str, SignatureVerdict]
    anchors: frozenset[str]
    at: datetime
    max_depth: int
    memo: ChainMemo | None = None
    trace: _Trace | None = None

    def record(self, did: str) -> IssuerRecord | None:
        found = self.records.get(did)
        if self.trace is not None:
            self.trace.records.setdefault(did, found)
        return found

    def verdict(self, attr_id: str) -> SignatureVerdict | None:
        found = self.verified.get(attr_id)
        if self.trace is not None:
            self.trace.verdicts.setdefault(attr_id, found)
        return found

    def visits(self, did: str, visited: frozenset[str]) -> bool:
        """``did in visited`` (a cycle), noted in the trace."""
        if self.trace is not None:
            self.trace.granters.add(did)
        return did in visited


class _Refused(Exception):
    """Internal: one candidate path failed (carried as data up to the public function)."""

    def __init__(self, code: str, reason: str, path: tuple[ChainLink, ...],
                 indeterminate: bool = False) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.path = path
        self.indeterminate = indeterminate


@dataclass(frozen=True)
class _Upper:
    """One walk above a link: its outcome (the links after ``path``, or the refusal with
    its path after ``path``) and everything it read (``_Trace``) under which facts."""

    at: datetime
    anchors: frozenset[str]
    max_depth: int
    visited: frozenset[str]
    records: tuple[tuple[str, IssuerRecord | None], ...]
    verdicts: tuple[tuple[str, SignatureVerdict | None], ...]
    granters: frozenset[str]
    links: tuple[ChainLink, ...]
    refusal: tuple[str, str, bool] | None  # code, reason, indeterminate

    def holds(self, facts: _Facts, visited: frozenset[str]) -> bool:
        """Would the walk read exactly the same here? Same time, anchors and depth cap; the
        same answer to every cycle test it made; the same record and verdict for every one
        it asked for."""
        if (facts.at != self.at or facts.max_depth != self.max_depth
                or facts.anchors != self.anchors or self.granters & (visited ^ self.visited)):
            return False
        records, verified = facts.records, facts.verified
        for did, record in self.records:
            found = records.get(did)
            if found is not record and found != record:
                return False
        for attr_id, verdict in self.verdicts:
            got = verified.get(attr_id)
            if got is not verdict and got != verdict:
                return False
        return True

    def replay(self, path: tuple[ChainLink, ...]) -> tuple[ChainLink, ...]:
        if self.refusal is not None:
            code, reason, indeterminate = self.refusal
            raise _Refused(code, reason, (*path, *self.links), indeterminate)
        return (*path, *self.links)


class ChainMemo:
    """The chain above a TI's own link, walked once and replayed for the TIs that share it.

    A sync batch of 100,000 TIs below one TAO re-walked TAO -> RootTAO for each of them.
    Keyed by (granter, grant relied on); an entry keeps every fact its walk read (records
    and verdicts, compared by identity or equality), the DIDs it tested for a cycle (a TI's
    own DID is in the visited set) and the time, anchors and depth cap, and is replayed
    only where all of them are the same -- so an answer is identical with or without the
    memo, whatever facts each evaluation is given. Meant for one run (a batch check): it
    keeps a few entries per key and is dropped with the run.
    """

    PER_KEY = 4

    def __init__(self) -> None:
        self._entries: dict[tuple[str, _Wanted], list[_Upper]] = {}
        self.hits = 0
        self.walks = 0

    def above(self, record: IssuerRecord, wanted: _Wanted, facts: _Facts,
              visited: frozenset[str], path: tuple[ChainLink, ...]) -> tuple[ChainLink, ...]:
        """``_first_path`` over ``record`` (the granter, at depth 1), replayed if it can be."""
        key = (record.did, wanted)
        entries = self._entries.setdefault(key, [])
        for entry in entries:
            if entry.holds(facts, visited):
                self.hits += 1
                return entry.replay(path)
        self.walks += 1
        trace = _Trace(records={record.did: record})
        traced = replace(facts, memo=None, trace=trace)
        refusal: _Refused | None = None
        try:
            links = _first_path(list(record.attributes), record, wanted, traced, depth=1,
                                visited=visited, path=path, level0=False)
        except _Refused as refused:
            refusal, links = refused, refused.path
        entry = _Upper(facts.at, facts.anchors, facts.max_depth, visited,
                       tuple(trace.records.items()), tuple(trace.verdicts.items()),
                       frozenset(trace.granters), links[len(path):],
                       None if refusal is None
                       else (refusal.code, refusal.reason, refusal.indeterminate))
        if len(entries) >= self.PER_KEY:
            entries.pop(0)
        entries.append(entry)
        if refusal is not None:
            raise refusal
        return links


def same_schema(a: str, b: str) -> bool:
    """Equal schema ids; two Trusted Schemas Registry URLs match on the schema id alone."""
    if a == b:
        return True
    ma, mb = _TSR_ID.search(a), _TSR_ID.search(b)
    return bool(ma and mb and ma.group(1) == mb.group(1))


def _covers_types(entry: AccreditedFor, wanted: Iterable[str]) -> bool:
    return set(wanted) - GENERIC_TYPES <= set(entry.types) | GENERIC_TYPES


def evaluate_accreditation(
    issuer_did: str,
    *,
    credential_types: Collection[str],
    schema_id: str | None,
    jurisdiction: str | None,
    at: datetime,
    records: Mapping[str, IssuerRecord],
    verified: Mapping[str, SignatureVerdict],
    anchors: Collection[str],
    max_depth: int = DEFAULT_MAX_DEPTH,
    terms_of_use_ref: str | None = None,
    memo: ChainMemo | None = None,
) -> Answer:
    """Whether ``issuer_did`` may issue a credential of these types/schema/jurisdiction at ``at``.

    ``records`` must hold every record on the candidate chains (``registry.facts`` collects
    them); a missing one reads as "not registered". Never raises for bad data. ``memo``
    (optional) replays the walk above the issuer's own link from an earlier evaluation
    that read the same facts; the answer is the same with or without it.
    """
    try:
        wanted_j = (jur.normalise(jurisdiction),) if jurisdiction else None
    except jur.JurisdictionError as exc:
        return NotAccredited(code="accreditation.jurisdiction", reason=str(exc),
                             issuer=issuer_did)
    facts = _Facts(records, verified, frozenset(anchors), at, max_depth, memo)
    wanted = _Wanted(schema_id, frozenset(credential_types), wanted_j, from_credential=True)
    record = records.get(issuer_did)
    if record is None:
        return NotAccredited(code="issuer.not_registered",
                             reason=f"{issuer_did} is not in the trusted issuers registry",
                             issuer=issuer_did)
    if record.revoked:
        return NotAccredited(code="accreditation.revoked",
                             reason=f"{issuer_did} has been revoked from the registry",
                             issuer=issuer_did)
    candidates = list(record.attributes)
    if terms_of_use_ref is not None:
        candidates = [a for a in candidates if a.id == terms_of_use_ref]
        if not candidates:
            return NotAccredited(
                code="accreditation.terms_of_use_unknown",
                reason=f"the credential relies on accreditation {terms_of_use_ref}, which "
                       f"{issuer_did} does not hold", issuer=issuer_did)
    try:
        chain = _first_path(candidates, record, wanted, facts, depth=0,
                            visited=frozenset({issuer_did}), path=(), level0=True)
    except _Refused as refused:
        return NotAccredited(code=refused.code, reason=refused.reason, issuer=issuer_did,
                             partial_chain=refused.path, indeterminate=refused.indeterminate)
    top = chain[-1]
    return Accredited(issuer=issuer_did, issuer_name=record.name, country=record.country,
                      attribute_id=chain[0].attribute_id or "", anchor=top.did,
                      chain=chain)


def evaluate_attribute(
    did: str,
    attribute_id: str,
    *,
    at: datetime,
    records: Mapping[str, IssuerRecord],
    verified: Mapping[str, SignatureVerdict],
    anchors: Collection[str],
    max_depth: int = DEFAULT_MAX_DEPTH,
) -> Answer:
    """Whether one attribute (an accreditation of ``did``) holds up to an anchor, with EVERY
    grant in it inside what its granter holds: the check before a write is accepted."""
    record = records.get(did)
    attr = record.attribute(attribute_id) if record is not None else None
    if record is None or attr is None:
        return NotAccredited(code="attribute.not_found", issuer=did,
                             reason=f"{did} has no attribute {attribute_id}")
    try:
        acc = parse_accreditation(attr.body)
    except InputError as exc:
        return NotAccredited(code="accreditation.malformed", reason=exc.message, issuer=did)
    facts = _Facts(records, verified, frozenset(anchors), at, max_depth)
    wanted = [_Wanted(g.schema_id, frozenset(g.types), g.limit_jurisdiction,
                      from_credential=False) for g in acc.accredited_for]
    chain: tuple[ChainLink, ...] = ()
    for want in wanted or [_Wanted(None, frozenset(), None, from_credential=False)]:
        try:
            chain = _walk(attr, acc, record, want, facts, depth=0,
                          visited=frozenset({did}), path=())
        except _Refused as refused:
            return NotAccredited(code=refused.code, reason=refused.reason, issuer=did,
                                 partial_chain=refused.path, indeterminate=refused.indeterminate)
    return Accredited(issuer=did, issuer_name=record.name, country=record.country,
                      attribute_id=attr.id, anchor=chain[-1].did, chain=chain,
                      reason="the accreditation holds up to a configured trust anchor")


def _first_path(candidates: list[Attribute], record: IssuerRecord, wanted: _Wanted,
                facts: _Facts, *, depth: int, visited: frozenset[str],
                path: tuple[ChainLink, ...], level0: bool) -> tuple[ChainLink, ...]:
    """The first candidate attribute that verifies up to an anchor, else the best refusal."""
    kinds = {TO_ATTEST} if level0 else {TO_ACCREDIT, FOR_TRUST_CHAIN}
    refusals: list[_Refused] = []
    relevant = 0
    for attr in candidates:
        try:
            acc = parse_accreditation(attr.body)
        except InputError as exc:
            refusals.append(_Refused("accreditation.malformed",
                                     f"attribute {attr.id} of {record.did}: {exc.message}", path))
            continue
        if not kinds & set(acc.types):
            continue
        relevant += 1
        try:
            return _walk(attr, acc, record, wanted, facts, depth=depth, visited=visited,
                         path=path)
        except _Refused as refused:
            refusals.append(refused)
    if not relevant and not refusals:
        if level0:
            raise _Refused("issuer.not_accredited",
                           f"{record.did} holds no {TO_ATTEST}", path)
        raise _Refused("chain.granter_not_accredited",
                       f"{record.did} accredits others but holds no {TO_ACCREDIT} or "
                       f"{FOR_TRUST_CHAIN}", path)
    raise _best(refusals)


def _best(refusals: list[_Refused]) -> _Refused:
    """An indeterminate refusal wins (it could have succeeded); else the one that got furthest."""
    undecided = [r for r in refusals if r.indeterminate]
    if undecided:
        return undecided[0]
    return max(refusals, key=lambda r: len(r.path))


def _walk(attr: Attribute, acc: Accreditation, record: IssuerRecord, wanted: _Wanted,
          facts: _Facts, *, depth: int, visited: frozenset[str],
          path: tuple[ChainLink, ...]) -> tuple[ChainLink, ...]:
    """Check one link (steps 2-6) and continue to its issuer (step 7)."""
    did = record.did
    what = f"the {acc.kind or 'accreditation'} of {did}"
    # 2. revocation, subject, issuer
    if attr.revoked:
        raise _Refused("accreditation.revoked", f"{what} ({attr.id}) is revoked", path)
    if acc.subject != did:
        raise _Refused("accreditation.subject_mismatch",
                       f"{what} is about {acc.subject}, not {did}", path)
    if attr.tao and acc.issuer != attr.tao:
        raise _Refused("accreditation.issuer_mismatch",
                       f"{what} is issued by {acc.issuer}, but the registry names {attr.tao}",
                       path)
    # 4. validity window
    if acc.valid_from is not None and facts.at < acc.valid_from:
        raise _Refused("accreditation.not_yet_valid",
                       f"{what} is valid from {acc.valid_from.isoformat()}", path)
    if acc.valid_until is not None and facts.at >= acc.valid_until:
        raise _Refused("accreditation.expired",
                       f"{what} expired at {acc.valid_until.isoformat()}", path)
    # 5. signature
    verdict = facts.verdict(attr.id)
    if verdict is None:
        raise _Refused("accreditation.signature_unverified",
                       f"the signature of {what} was not checked", path, indeterminate=True)
    if not verdict.ok:
        if verdict.transient:
            raise _Refused(verdict.code, f"{what}: {verdict.reason}", path, indeterminate=True)
        raise _Refused("accreditation.signature_invalid",
                       f"{what} does not verify: {verdict.reason}", path)
    # 6. coverage
    entry = _covering_entry(acc, wanted, what, path)
    link = ChainLink(did=did, issuer_type=attr.issuer_type, attribute_id=attr.id,
                     accreditation_type=acc.kind, accredited_by=acc.issuer,
                     accredited_for=entry, valid_from=acc.valid_from,
                     valid_until=acc.valid_until, name=record.name, country=record.country)
    here = (*path, link)
    # 7. up the chain
    granter = acc.issuer
    if FOR_TRUST_CHAIN in acc.types or granter == did:
        if did in facts.anchors:
            return here
        raise _Refused("chain.untrusted_anchor",
                       f"the chain ends at {did}, which is not a configured trust anchor", here)
    if depth + 1 > facts.max_depth:
        raise _Refused("chain.too_deep",
                       f"the chain is longer than {facts.max_depth} accreditations", here)
    if facts.visits(granter, visited):
        raise _Refused("chain.cycle", f"the chain loops back to {granter}", here)
    granter_record = facts.record(granter)
    if granter_record is None:
        if granter in facts.anchors:  # a configured anchor without a registry record
            anchor = ChainLink(did=granter, issuer_type="RootTAO", attribute_id=None,
                               accreditation_type=None, accredited_by=None,
                               accredited_for=None)
            return (*here, anchor)
        raise _Refused("chain.untrusted_anchor",
                       f"the chain ends at {granter}, which is neither registered nor a "
                       "configured trust anchor", here)
    if granter_record.revoked:
        raise _Refused("accreditation.revoked",
                       f"{granter}, which accredited {did}, has been revoked", here)
    grant = _Wanted(entry.schema_id, frozenset(entry.types), entry.limit_jurisdiction,
                    from_credential=False) if entry is not None else wanted
    if depth == 0 and facts.memo is not None:
        return facts.memo.above(granter_record, grant, facts, visited | {granter}, here)
    return _first_path(list(granter_record.attributes), granter_record, grant, facts,
                       depth=depth + 1, visited=visited | {granter}, path=here, level0=False)


def _covering_entry(acc: Accreditation, wanted: _Wanted, what: str,
                    path: tuple[ChainLink, ...]) -> AccreditedFor | None:
    """The ``accreditedFor`` entry covering ``wanted`` (``None``: unlimited root), else refuse."""
    grants = acc.accredited_for
    if not grants:
        if FOR_TRUST_CHAIN in acc.types:
            return None  # a RootTAO authorisation without limits holds everything
        raise _Refused("accreditation.schema_mismatch" if wanted.from_credential
                       else "accreditation.exceeds_grant", f"{what} accredits for nothing", path)
    by_schema = [g for g in grants
                 if wanted.schema_id is None or same_schema(g.schema_id, wanted.schema_id)]
    if not by_schema:
        if wanted.from_credential:
            raise _Refused("accreditation.schema_mismatch",
                           f"{what} does not cover schema {wanted.schema_id}", path)
        raise _Refused("accreditation.exceeds_grant",
                       f"{what} does not hold schema {wanted.schema_id}, so it cannot grant it",
                       path)
    by_type = [g for g in by_schema if _covers_types(g, wanted.types)]
    if not by_type:
        missing = sorted(set(wanted.types) - GENERIC_TYPES - set(by_schema[0].types))
        if wanted.from_credential:
            raise _Refused("accreditation.type_mismatch",
                           f"{what} does not cover the credential types {missing}", path)
        raise _Refused("accreditation.exceeds_grant",
                       f"{what} does not hold the types {missing}, so it cannot grant them", path)
    if wanted.from_credential and wanted.jurisdictions is None:
        return by_type[0]  # no jurisdiction asked: any limit will do
    for g in by_type:
        if not jur.within(wanted.jurisdictions, g.limit_jurisdiction):
            return g
    limits = sorted({j for g in by_type for j in (g.limit_jurisdiction or ())})
    asked = list(wanted.jurisdictions) if wanted.jurisdictions else ["unlimited"]
    raise _Refused("accreditation.jurisdiction",
                   f"{what} is limited to {limits}, not {asked}", path)


__all__ = [
    "DEFAULT_MAX_DEPTH",
    "Accredited",
    "Answer",
    "ChainLink",
    "ChainMemo",
    "NotAccredited",
    "SignatureVerdict",
    "evaluate_accreditation",
    "evaluate_attribute",
    "same_schema",
]
