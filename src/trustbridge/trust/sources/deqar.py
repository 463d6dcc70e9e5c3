"""DEQAR (EQAR's Database of External Quality Assurance Results), from an offline export.

The export is the DEQAR Connect API's JSON shapes: ``{"agencies": [{id, deqar_id,
acronym_primary, name_primary, registered, registration_valid_to}], "institutions":
[{deqar_id, name_primary, identifiers: [{identifier, resource}], countries, reports: [{id,
agency_id | agency: {…}, agency_esg_activity: {activity, activity_type}, status, decision,
valid_from, valid_to, programmes: [{name_primary, qf_ehea_level, nqf_level}]}]}]}``.

An issuer maps to an institution through the configured ``mapping`` (DID → ``DEQARINST…``,
``ETER:AT0001``, ``Erasmus:A WIEN01``, ``SCHAC:univie.ac.at``) or an institution identifier
with resource ``DID``. Trusted when a report in force at ``at`` (valid_from ≤ at ≤ valid_to)
has a positive decision by an agency registered in EQAR; a negative decision in force is an
authoritative refusal.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, time
from pathlib import Path
from typing import Any

from trustbridge.errors import InputError
from trustbridge.trust.interface import SourceAnswer, SourceStatus, TrustSubject, answer

POSITIVE_DECISIONS = frozenset({"positive", "positive with conditions or restrictions"})


@dataclass(frozen=True)
class Institution:
    deqar_id: str
    name: str
    country: str | None
    identifiers: frozenset[str]  # "RESOURCE:identifier" plus the bare DEQAR id
    reports: tuple[Mapping[str, Any], ...]


@dataclass(frozen=True)
class DeqarExport:
    institutions: tuple[Institution, ...]
    agencies: Mapping[str, Mapping[str, Any]]  # by id and deqar_id


def _date(value: Any, *, end: bool = False) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    if len(value) == 10:  # a date: valid for the whole day
        parsed = datetime.combine(parsed.date(), time.max if end else time.min)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def parse_deqar_export(raw: bytes) -> DeqarExport:
    try:
        doc = json.loads(raw)
        agencies: dict[str, Mapping[str, Any]] = {}
        for agency in doc.get("agencies", []):
            for key in ("id", "deqar_id"):
                if agency.get(key) is not None:
                    agencies[str(agency[key])] = agency
        institutions = []
        for inst in doc["institutions"]:
            ids = {str(inst["deqar_id"])}
            for ident in inst.get("identifiers", []):
                ids.add(f"{ident['resource']}:{ident['identifier']}")
            countries = inst.get("countries") or []
            country = countries[0].get("iso_3166_alpha2") if countries else None
            institutions.append(Institution(
                deqar_id=str(inst["deqar_id"]), name=str(inst.get("name_primary", "")),
                country=country, identifiers=frozenset(ids),
                reports=tuple(inst.get("reports", []))))
        return DeqarExport(tuple(institutions), agencies)
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise InputError(f"not a DEQAR export: {type(exc).__name__}: {exc}",
                         code="trust.deqar_invalid") from exc


def _agency(report: Mapping[str, Any], export: DeqarExport) -> Mapping[str, Any]:
    embedded = report.get("agency")
    if isinstance(embedded, Mapping):
        ref = embedded.get("id", embedded.get("deqar_id"))
        return {**export.agencies.get(str(ref), {}), **embedded}
    return export.agencies.get(str(report.get("agency_id")), {})


def report_evidence(report: Mapping[str, Any], export: DeqarExport) -> dict[str, Any]:
    agency = _agency(report, export)
    activity = report.get("agency_esg_activity") or {}
    return {
        "report_id": report.get("id"),
        "agency": agency.get("acronym_primary") or agency.get("name_primary"),
        "agency_registered": bool(agency.get("registered")),
        "activity": activity.get("activity"), "activity_type": activity.get("activity_type"),
        "status": report.get("status"), "decision": report.get("decision"),
        "valid_from": report.get("valid_from"), "valid_to": report.get("valid_to"),
        "scope": [{"programme": p.get("name_primary"), "qf_ehea_level": p.get("qf_ehea_level"),
                   "nqf_level": p.get("nqf_level")} for p in report.get("programmes", [])],
        "url": f"https://data.deqar.eu/report/{report['id']}" if report.get("id") else None,
    }


def evaluate_institution(source: str, inst: Institution, export: DeqarExport, at: datetime,
                         evidence: dict[str, Any]) -> SourceAnswer:
    """Pure: the accreditation answer for one institution at ``at``."""
    in_force, other = [], []
    for report in inst.reports:
        start = _date(report.get("valid_from"))
        end = _date(report.get("valid_to"), end=True)
        ev = report_evidence(report, export)
        if (start is None or start <= at) and (end is None or at <= end):
            in_force.append(ev)
        else:
            other.append(ev)
    ev_all = {**evidence, "institution": inst.deqar_id, "issuer_name": inst.name,
              "country": inst.country, "reports_in_force": in_force, "other_reports": other}
    good = [r for r in in_force if r["agency_registered"]
            and str(r["decision"]).lower() in POSITIVE_DECISIONS]
    if good:
        return answer(source, SourceStatus.TRUSTED, "trust.deqar.accredited",
                      f"{inst.name}: positive external QA by {good[0]['agency']} in force at "
                      f"{at.date().isoformat()}", evidence=ev_all)
    if any(str(r["decision"]).lower() == "negative" for r in in_force):
        return answer(source, SourceStatus.NOT_TRUSTED, "trust.deqar.negative",
                      f"{inst.name}: a negative QA decision was in force at "
                      f"{at.date().isoformat()}", authoritative=True, evidence=ev_all)
    return answer(source, SourceStatus.NOT_TRUSTED, "trust.deqar.not_in_force",
                  f"{inst.name}: no positive QA result by a registered agency in force at "
                  f"{at.date().isoformat()}", evidence=ev_all)


class DeqarSource:
    """An offline DEQAR export file plus the DID → institution-identifier mapping."""

    def __init__(self, name: str, export: DeqarExport, *, mapping: Mapping[str, str],
                 origin: str, loaded_at: datetime | None = None) -> None:
        self.name = name
        self.export = export
        self.mapping = dict(mapping)
        self.origin = origin
        self.loaded_at = loaded_at

    @classmethod
    def from_file(cls, name: str, path: Path, mapping: Mapping[str, str], *,
                  loaded_at: datetime | None = None) -> DeqarSource:
        try:
            raw = path.read_bytes()
        except OSError as exc:
            raise InputError(f"DEQAR export {path} unreadable: {exc}",
                             code="trust.deqar_invalid") from exc
        return cls(name, parse_deqar_export(raw), mapping=mapping, origin=str(path),
                   loaded_at=loaded_at)

    def find(self, issuer: str) -> Institution | None:
        wanted = {f"DID:{issuer}"}
        if issuer in self.mapping:
            wanted.add(self.mapping[issuer])
        return next((i for i in self.export.institutions if i.identifiers & wanted), None)

    async def evaluate(self, subject: TrustSubject) -> SourceAnswer:
        evidence: dict[str, Any] = {"export": self.origin}
        inst = self.find(subject.issuer)
        if inst is None:
            return answer(self.name, SourceStatus.UNKNOWN, "trust.deqar.not_mapped",
                          "no DEQAR institution is mapped to the issuer", evidence=evidence)
        return evaluate_institution(self.name, inst, self.export, subject.at, evidence)


def institutions_matching(export: DeqarExport, ids: Sequence[str]) -> list[Institution]:
    return [i for i in export.institutions if i.identifiers & set(ids)]


__all__ = ["DeqarExport", "DeqarSource", "Institution", "evaluate_institution",
           "parse_deqar_export"]
