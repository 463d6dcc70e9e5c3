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
"""

from __future__ import annotations

import re
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
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


@dataclass(frozen=True)
class _Facts:
    records: Mapping[str, IssuerRecord]
    verified: Mapping[str, SignatureVerdict]
    anchors: frozenset[str]
    at: datetime
    max_depth: int


class _Refused(Exception):
    """Internal: one candidate path failed (carried as data up to the public function)."""

    def __init__(self, code: str, reason: str, path: tuple[ChainLink, ...],
                 indeterminate: bool = False) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason
        self.path = path
        self.indeterminate = indeterminate


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
) -> Answer:
    """Whether ``issuer_did`` may issue a credential of these types/schema/jurisdiction at ``at``.

    ``records`` must hold every record on the candidate chains (``registry.facts`` collects
    them); a missing one reads as "not registered". Never raises for bad data.
    """
    try:
        wanted_j = (jur.normalise(jurisdiction),) if jurisdiction else None
    except jur.JurisdictionError as exc:
        return NotAccredited(code="accreditation.jurisdiction", reason=str(exc),
                             issuer=issuer_did)
    facts = _Facts(records, verified, frozenset(anchors), at, max_depth)
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
    verdict = facts.verified.get(attr.id)
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
    if granter in visited:
        raise _Refused("chain.cycle", f"the chain loops back to {granter}", here)
    granter_record = facts.records.get(granter)
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
    "NotAccredited",
    "SignatureVerdict",
    "evaluate_accreditation",
    "evaluate_attribute",
    "same_schema",
]
