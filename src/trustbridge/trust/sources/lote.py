"""ETSI TS 119 602 lists of trusted entities (LoTE), JSON binding.

Shape (TS 119 602 JSON schema): ``{"LoTE": {"ListAndSchemeInformation": {LoTESequenceNumber,
ListIssueDateTime, NextUpdate, SchemeTerritory, …}, "TrustedEntitiesList": [{
"TrustedEntityInformation": {TEName: [{lang, value}], …}, "TrustedEntityServices": [{
"ServiceInformation": {ServiceTypeIdentifier, ServiceName, ServiceDigitalIdentity: {
X509Certificates: [{val}], OtherIds: [...]}, ServiceStatus, StatusStartingTime},
"ServiceHistory": [{ServiceStatus, StatusStartingTime, …}]}]}]}}``.

An issuer matches a service when its DID is one of the service's ``OtherIds`` or a
certificate of its ``x5c`` chain is one of the service's ``X509Certificates``.
Limit: the list's JAdES signature is not verified; a list is accepted only from a local
file or an operator-named URL, optionally pinned by its SHA-256 (``sha256``).
"""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trustbridge.cache import Cache
from trustbridge.clock import Clock
from trustbridge.errors import InputError
from trustbridge.fetch import SafeFetcher
from trustbridge.trust.interface import SourceAnswer, SourceStatus, TrustSubject, answer
from trustbridge.trust.sources._feed import ListFeed, Snapshot
from trustbridge.trust.sources._status import (
    NEGATIVE,
    POSITIVE,
    StatusPeriod,
    parse_time,
    short,
    status_at,
)


@dataclass(frozen=True)
class LoteService:
    entity_name: str
    service_name: str
    service_type: str
    other_ids: frozenset[str]
    cert_digests: frozenset[str]  # sha256 hex of DER
    periods: tuple[StatusPeriod, ...]


@dataclass(frozen=True)
class Lote:
    sequence: int | None
    issued: datetime | None
    next_update: datetime | None
    territory: str | None
    lote_type: str | None
    services: tuple[LoteService, ...]


def _text(value: Any) -> str:
    """A TS 119 602 multilingual string list (or a plain string) as one string."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        first = value[0]
        if isinstance(first, Mapping):
            return str(first.get("value", ""))
        return str(first)
    return ""


def _service(entity_name: str, svc: Mapping[str, Any]) -> LoteService:
    info = svc.get("ServiceInformation")
    if not isinstance(info, Mapping):
        raise InputError("LoTE service without ServiceInformation", code="trust.lote_invalid")
    identity = info.get("ServiceDigitalIdentity") or {}
    certs: set[str] = set()
    for entry in identity.get("X509Certificates", []) if isinstance(identity, Mapping) else []:
        val = entry.get("val") if isinstance(entry, Mapping) else entry
        if isinstance(val, str):
            certs.add(hashlib.sha256(base64.b64decode(val, validate=False)).hexdigest())
    other = {str(x.get("value", x.get("uriValue", ""))) if isinstance(x, Mapping) else str(x)
             for x in (identity.get("OtherIds", []) if isinstance(identity, Mapping) else [])}
    stype = str(info.get("ServiceTypeIdentifier", ""))
    periods = []
    start = parse_time(info.get("StatusStartingTime"))
    if isinstance(info.get("ServiceStatus"), str) and start is not None:
        periods.append(StatusPeriod(str(info["ServiceStatus"]), start, stype))
    for hist in svc.get("ServiceHistory", []) or []:
        h_start = parse_time(hist.get("StatusStartingTime")) if isinstance(hist, Mapping) else None
        if h_start is not None and isinstance(hist.get("ServiceStatus"), str):
            periods.append(StatusPeriod(str(hist["ServiceStatus"]), h_start,
                                        str(hist.get("ServiceTypeIdentifier", stype))))
    return LoteService(entity_name=entity_name, service_name=_text(info.get("ServiceName")),
                       service_type=stype, other_ids=frozenset(o for o in other if o),
                       cert_digests=frozenset(certs), periods=tuple(periods))


def parse_lote(raw: bytes, *, pinned_sha256: str | None = None) -> Lote:
    """Bytes to a ``Lote``; ``InputError`` (``trust.lote_invalid``) for anything unusable."""
    if pinned_sha256 and hashlib.sha256(raw).hexdigest() != pinned_sha256.lower():
        raise InputError("LoTE does not match its pinned SHA-256", code="trust.lote_digest")
    try:
        doc = json.loads(raw)
        root = doc["LoTE"]
        info = root["ListAndSchemeInformation"]
        services: list[LoteService] = []
        for entity in root.get("TrustedEntitiesList", []):
            name = _text(entity.get("TrustedEntityInformation", {}).get("TEName"))
            services.extend(_service(name, svc)
                            for svc in entity.get("TrustedEntityServices", []))
        seq = info.get("LoTESequenceNumber")
        return Lote(sequence=seq if isinstance(seq, int) else None,
                    issued=parse_time(info.get("ListIssueDateTime")),
                    next_update=parse_time(info.get("NextUpdate")),
                    territory=info.get("SchemeTerritory"), lote_type=info.get("LoTEType"),
                    services=tuple(services))
    except InputError:
        raise
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"not a TS 119 602 LoTE: {type(exc).__name__}: {exc}",
                         code="trust.lote_invalid") from exc


def list_evidence(snap: Snapshot[Any], sequence: int | None, error: str | None
                  ) -> dict[str, Any]:
    out: dict[str, Any] = {"list": snap.location, "sha256": snap.digest, "sequence": sequence,
                           "fetched_at": snap.fetched_at.isoformat()}
    if error:
        out["refresh_error"] = error
    return out


def judge_services(source: str, matches: Sequence[tuple[Any, tuple[StatusPeriod, ...]]],
                   at: datetime, evidence: dict[str, Any], *, fetched_at: datetime,
                   next_update: datetime | None, label: str) -> SourceAnswer:
    """The answer for the services an issuer matched, by the status in force at ``at``."""
    fresh = {"fetched_at": fetched_at, "next_update": next_update}
    if not matches:
        return answer(source, SourceStatus.UNKNOWN, f"trust.{label}.not_listed",
                      "the issuer is not listed", evidence=evidence, **fresh)
    seen = []
    for service, periods in matches:
        period = status_at(periods, at)
        seen.append({"service": getattr(service, "service_name", ""),
                     "entity": getattr(service, "entity_name", ""),
                     "service_type": getattr(service, "service_type", ""),
                     "status_at": period.status if period else None,
                     "status_since": period.start.isoformat() if period else None,
                     "current_status": max(periods, key=lambda p: p.start).status
                     if periods else None})
        if period is not None and short(period.status) in POSITIVE:
            return answer(source, SourceStatus.TRUSTED, f"trust.{label}.granted",
                          f"listed with status {short(period.status)} at {at.isoformat()}",
                          evidence={**evidence, "services": seen,
                                    "issuer_name": seen[-1]["entity"] or None}, **fresh)
    ev = {**evidence, "services": seen}
    negative = [s for s in seen if s["status_at"] and short(str(s["status_at"])) in NEGATIVE]
    if negative:
        return answer(source, SourceStatus.NOT_TRUSTED, f"trust.{label}.withdrawn",
                      f"listed with status {short(str(negative[0]['status_at']))} at "
                      f"{at.isoformat()}", authoritative=True, evidence=ev, **fresh)
    return answer(source, SourceStatus.NOT_TRUSTED, f"trust.{label}.not_in_force",
                  f"listed, but no granted status was in force at {at.isoformat()}",
                  evidence=ev, **fresh)


class LoteSource:
    """One LoTE (file or URL), refreshed per its NextUpdate, previous good copy kept."""

    def __init__(self, name: str, location: str, *, clock: Clock,
                 fetcher: SafeFetcher | None = None, sha256: str | None = None,
                 service_types: Sequence[str] = (), cache: Cache | None = None) -> None:
        self.name = name
        self.service_types = frozenset(service_types)
        self.feed: ListFeed[Lote] = ListFeed(
            location, lambda raw: parse_lote(raw, pinned_sha256=sha256),
            lambda lote: lote.next_update, clock=clock, fetcher=fetcher,
            accept="application/json", cache=cache)

    def list_digests(self) -> dict[str, str | None]:
        """The digest of the list in use (see ``TrustService.epoch``); no I/O."""
        return {self.feed.location: self.feed.digest}

    async def refresh(self) -> None:
        """Reload the list if it is due (its NextUpdate, else hourly)."""
        await self.feed.current()

    async def evaluate(self, subject: TrustSubject) -> SourceAnswer:
        snap = await self.feed.current()
        if snap is None:
            return answer(self.name, SourceStatus.UNAVAILABLE, "trust.lote.unavailable",
                          f"the list could not be loaded: {self.feed.last_error}",
                          evidence={"list": self.feed.location})
        lote = snap.value
        digests = {hashlib.sha256(c).hexdigest() for c in subject.x5c}
        matches = [(s, s.periods) for s in lote.services
                   if (not self.service_types or s.service_type in self.service_types)
                   and (subject.issuer in s.other_ids or digests & s.cert_digests)]
        evidence = list_evidence(snap, lote.sequence, self.feed.last_error)
        evidence.update(territory=lote.territory, lote_type=lote.lote_type,
                        issued=lote.issued.isoformat() if lote.issued else None)
        return judge_services(self.name, matches, subject.at, evidence,
                              fetched_at=snap.fetched_at, next_update=lote.next_update,
                              label="lote")


__all__ = ["Lote", "LoteSource", "judge_services", "list_evidence", "parse_lote"]
