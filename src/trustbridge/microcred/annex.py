"""Annex I of the Council Recommendation on micro-credentials: which elements, which rules.

``assess`` holds a ``Draft`` (raw values from any shape) to the same rules and returns
the normalised summary with ``missing``, ``invalid`` and ``warnings``, as the JSON form of
``MicroCredentialSummary`` (plain dicts and lists, built directly: the pydantic model is
only made when a caller asks for it, see ``evaluate``).
Codes are stable: ``microcredential.missing.<element>``, ``microcredential.invalid.<what>``,
``microcredential.warning.<what>`` (all listed in docs/microcredentials.md).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from trustbridge.microcred.draft import Draft, RawOrganisation
from trustbridge.microcred.summary import PROFILE
from trustbridge.microcred.values import (
    QF_EHEA_TO_EQF,
    Invalid,
    alpha3,
    claims_esco,
    country_code,
    duration_hours,
    eqf_level,
    esco_uri,
    number,
    qf_ehea_cycle,
    rfc3339,
    was_clipped,
)

MANDATORY_ELEMENTS: tuple[str, ...] = (
    "learner", "title", "country", "awarding_body", "issued", "learning_outcomes",
    "workload", "level", "assessment_type", "participation_form", "quality_assurance",
)
"""Annex I mandatory elements, in the Recommendation's order."""
OPTIONAL_ELEMENTS: tuple[str, ...] = (
    "prerequisites", "supervision", "grade", "stackability", "further_information",
)
MAX_MICRO_ECTS = 60.0
"""Above this a "micro"-credential is implausible (a full academic year): warn."""
HOURS_PER_ECTS = (20.0, 35.0)
"""ECTS Users' Guide: 1 credit is 25-30 hours; outside a generous band, warn."""
PREFIX = "microcredential"


class _Findings:
    """Problems (``Problem``) and warnings (``Warning_``) in their JSON form."""

    def __init__(self) -> None:
        self.missing: list[str] = []
        self.invalid: list[dict[str, str]] = []
        self.warnings: list[dict[str, str]] = []
        self._warned: set[tuple[str, str]] = set()

    def bad(self, element: str, exc: Invalid) -> None:
        self.invalid.append({"code": f"{PREFIX}.invalid.{exc.reason}", "element": element,
                             "message": str(exc)})

    def warn(self, reason: str, message: str) -> None:
        code = f"{PREFIX}.warning.{reason}"
        if (code, message) not in self._warned:
            self._warned.add((code, message))
            self.warnings.append({"code": code, "message": message})


def _organisation(raw: RawOrganisation, found: _Findings) -> dict[str, Any]:
    """An ``Organisation``."""
    code = None
    if raw.country is not None:
        try:
            code = country_code(raw.country)
        except Invalid as exc:
            found.bad("country", exc)
    return {"id": raw.id, "name": raw.name, "country": code,
            "country_alpha3": alpha3(code) if code else None, "homepage": raw.homepage}


def _skills(draft: Draft, found: _Findings) -> list[dict[str, Any]]:
    """``LearningOutcome``s with their ``Skill``s."""
    outcomes: list[dict[str, Any]] = []
    for raw in draft.outcomes:
        skills: list[dict[str, Any]] = []
        for s in raw.skills:
            uri, kind, source = None, "other", s.uri
            if s.uri and claims_esco(s.uri):
                try:
                    uri, kind = esco_uri(s.uri)
                    source = None
                    if not s.uri.startswith("http://"):
                        found.warn("esco_uri_https", f"ESCO URI {s.uri[:80]!r} written with "
                                   "https; the canonical form is http")
                except Invalid as exc:
                    found.bad("learning_outcomes", exc)
            elif s.claimed_esco:
                found.warn("skill_not_esco_uri", f"skill {s.label or s.uri!r} is given as an "
                           "ESCO skill but its identifier is not an ESCO URI")
            skills.append({"uri": uri, "label": s.label, "kind": kind, "source_id": source})
        outcomes.append({"text": raw.text, "skills": skills})
    return outcomes


def _workload(draft: Draft, found: _Findings) -> dict[str, Any]:
    """The ``Workload``."""
    ects = hours = other = None
    try:
        ects = number(draft.ects, "ects", "ECTS credits")
    except Invalid as exc:
        found.bad("workload", exc)
    try:
        hours = number(draft.hours, "workload_hours", "notional workload (hours)")
    except Invalid as exc:
        found.bad("workload", exc)
    duration = draft.duration if isinstance(draft.duration, str) else None
    if draft.duration is not None and duration is None:
        found.bad("workload", Invalid("workload_hours", "volume of learning is not an "
                                      "ISO 8601 duration string"))
    if duration is not None and hours is None:
        try:
            hours = duration_hours(duration)
            if hours is None:
                found.warn("workload_calendar_units", f"volume of learning {duration!r} is "
                           "in calendar units, not hours")
        except Invalid as exc:
            found.bad("workload", exc)
    try:
        other = number(draft.other_credits, "credits", "credit points")
    except Invalid as exc:
        found.warn("credits_unreadable", str(exc))
    if ects is not None:
        if ects == 0:
            found.warn("ects_zero", "the workload is given as 0 ECTS credits")
        elif ects > MAX_MICRO_ECTS:
            found.warn("ects_above_60", f"{ects:g} ECTS is more than a micro-credential "
                       f"is expected to carry (≤ {MAX_MICRO_ECTS:g})")
        if hours and ects and not HOURS_PER_ECTS[0] <= hours / ects <= HOURS_PER_ECTS[1]:
            found.warn("workload_inconsistent", f"{hours:g} hours for {ects:g} ECTS is "
                       f"{hours / ects:.1f} h per credit (ECTS: 25-30)")
    if other is not None and ects is None:
        framework = draft.credit_framework or "a framework other than ECTS"
        found.warn("credits_not_ects", f"credits are given in {framework}, not ECTS")
    return {"ects": ects, "hours": round(hours, 2) if hours is not None else None,
            "duration": duration, "other_credits": other,
            "other_credit_framework": draft.credit_framework if other is not None else None}


def _level(draft: Draft, found: _Findings) -> dict[str, Any]:
    """The ``Level``."""
    eqf = cycle = None
    try:
        eqf = eqf_level(draft.eqf)
    except Invalid as exc:
        found.bad("level", exc)
    try:
        cycle = qf_ehea_cycle(draft.qf_ehea)
    except Invalid as exc:
        found.bad("level", exc)
    if eqf is not None and cycle is not None and QF_EHEA_TO_EQF[cycle] != eqf:
        found.warn("level_inconsistent", f"QF-EHEA {cycle} cycle corresponds to EQF "
                   f"{QF_EHEA_TO_EQF[cycle]}, not EQF {eqf}")
    return {"eqf": eqf, "qf_ehea": cycle, "nqf": draft.nqf}


def _issued(draft: Draft, at: datetime | None, found: _Findings) -> str | None:
    if draft.issued is None:
        return None
    try:
        when, has_offset = rfc3339(draft.issued)
    except Invalid as exc:
        found.bad("issued", exc)
        return None
    if not has_offset:
        found.warn("issued_without_offset", "the date of issuing has no time zone offset; "
                   "read as UTC")
    if at is not None and when > at:
        found.warn("issued_in_future", f"issued {when.isoformat()}, after the verification "
                   f"time {at.isoformat()}")
    return when.isoformat()


_SUPERVISION_CATEGORIES = (
    (("unsupervised",), "unsupervised_without_id_verification"),
    (("without", "no id", "no identity"), "supervised_without_id_verification"),
    (("online",), "supervised_online_with_id_verification"),
    (("onsite", "on-site", "on site", "in person", "in-person", "physical"),
     "supervised_onsite_with_id_verification"),
    (("with",), "supervised_with_id_verification"),
)


def supervision_category(value: str) -> str | None:
    """The Annex I category of a supervision / ID-verification label, if it fits one."""
    words = value.lower()
    if "supervis" not in words:
        return None
    for keys, category in _SUPERVISION_CATEGORIES:
        if any(k in words for k in keys):
            return category
    return None


def assess(draft: Draft, *, at: datetime | None) -> dict[str, Any]:
    """Validate every Annex I element of ``draft`` (pure; ``at`` only for "issued in the
    future" warnings): ``MicroCredentialSummary.model_dump(mode="json")`` of the result,
    built directly (every value already has its field's type)."""
    found = _Findings()
    for code, message in draft.notes:
        found.warn(code, message)
    learner = {"id": draft.learner_id, "name": draft.learner_name,
               "identifiers": draft.learner_identifiers}
    bodies_raw = list(draft.awarding_bodies)
    # OB 3.0 and flat credentials: the issuer awards. ELM names awarding bodies apart from
    # the issuer (often a signing platform), so there the issuer never stands in.
    if (draft.shape != "elm" and not any(b.name or b.id for b in bodies_raw)
            and draft.issuer is not None):
        bodies_raw = [draft.issuer]
        found.warn("awarding_body_is_issuer", "no awarding body is named; the issuer is "
                   "taken as the awarding body")
    bodies = [_organisation(b, found) for b in bodies_raw if b.name or b.id or b.country]
    issuer = _organisation(draft.issuer, found) if draft.issuer is not None else None
    found.invalid = _dedupe(found.invalid)  # the issuer may also be an awarding body
    countries = sorted({b["country"] for b in bodies if b["country"]})
    if not countries and issuer is not None and issuer["country"]:
        countries = [issuer["country"]]
    outcomes = _skills(draft, found)
    workload = _workload(draft, found)
    level = _level(draft, found)
    issued = _issued(draft, at, found)
    quality = [  # the same accreditation via issuer and awarding body only once
        {"type": kind, "reference": reference, "body": body}
        for kind, reference, body in dict.fromkeys(
            (q.type, q.reference, q.body) for q in draft.quality_assurance)]
    supervision = ({"label": draft.supervision,
                    "category": supervision_category(draft.supervision)}
                   if draft.supervision else None)

    # Presence of each mandatory element (an element that is present but malformed is
    # reported under ``invalid``, not ``missing``).
    invalid_elements = {p["element"] for p in found.invalid}
    present = {
        "learner": bool(draft.learner_id or draft.learner_name or draft.learner_identifiers),
        "title": bool(draft.title),
        "country": bool(countries),
        "awarding_body": bool(bodies),
        "issued": issued is not None,
        "learning_outcomes": any(o["text"] or o["skills"] for o in outcomes),
        "workload": workload["ects"] is not None or workload["hours"] is not None
        or workload["duration"] is not None,
        "level": level["eqf"] is not None or level["qf_ehea"] is not None,
        "assessment_type": bool(draft.assessment_type),
        "participation_form": bool(draft.participation_form),
        "quality_assurance": bool(quality),
    }
    found.missing = [element for element in MANDATORY_ELEMENTS
                     if not present[element] and element not in invalid_elements]
    texts = [draft.title, draft.description, *(o["text"] for o in outcomes)]
    if any(was_clipped(t) for t in texts if t):
        found.warn("truncated", "some text was longer than the summary keeps and was cut")
    return {
        "profile": PROFILE, "shape": draft.shape,
        "complete": not found.missing and not found.invalid,
        "title": draft.title, "description": draft.description, "learner": learner,
        "awarding_bodies": bodies, "issuer": issuer, "countries": countries, "issued": issued,
        "learning_outcomes": outcomes, "workload": workload, "level": level,
        "assessment_type": draft.assessment_type,
        "participation_form": draft.participation_form,
        "learning_setting": draft.learning_setting, "quality_assurance": quality,
        "prerequisites": draft.prerequisites, "supervision": supervision,
        "grade": draft.grade, "stackability": draft.stackability,
        "further_information": draft.further_information,
        "missing": found.missing, "invalid": found.invalid, "warnings": found.warnings,
    }


def _dedupe(problems: list[dict[str, str]]) -> list[dict[str, str]]:
    seen: set[tuple[str, str, str]] = set()
    result = []
    for p in problems:
        key = (p["code"], p["element"], p["message"])
        if key not in seen:
            seen.add(key)
            result.append(p)
    return result


__all__ = ["MANDATORY_ELEMENTS", "MAX_MICRO_ECTS", "OPTIONAL_ELEMENTS", "assess",
           "supervision_category"]
