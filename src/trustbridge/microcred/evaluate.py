"""The check: recognise the credential's shape, read Annex I elements, decide the status.

Status rules (the pipeline's step 10):

* no supported shape and not ``required`` -> ``skipped`` (not a micro-credential);
* no supported shape and ``required`` -> ``failed``, ``microcredential.not_recognised``;
* a shape with every mandatory element present and well-formed -> ``passed``,
  ``microcredential.ok`` (warnings in ``details``);
* elements missing or malformed and not ``required`` -> ``passed``,
  ``microcredential.incomplete`` (a genuine credential is not made invalid by its
  profile unless policy asks: ``require_microcredential_profile``);
* elements missing or malformed and ``required`` -> ``failed``; the code is the first
  problem in Annex I order (``microcredential.missing.learning_outcomes``,
  ``microcredential.invalid.eqf_level`` …) and ``details.problems`` lists them all.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cached_property
from typing import Any

from trustbridge.microcred.annex import MANDATORY_ELEMENTS, PREFIX, assess
from trustbridge.microcred.draft import Draft
from trustbridge.microcred.elm import ELM_TYPES, elm_claim, read_elm
from trustbridge.microcred.flat import flat_achievement, read_flat
from trustbridge.microcred.openbadges import ob_achievement, read_open_badge
from trustbridge.microcred.summary import MicroCredentialSummary
from trustbridge.microcred.values import items, mapping
from trustbridge.model.report import CheckResult, CheckStatus

CHECK = "microcredential"


@dataclass(frozen=True)
class MicrocredentialResult:
    """The check for the report and the readable summary (``{}`` when skipped)."""

    check: CheckResult
    summary: dict[str, Any]
    """The summary's JSON form as ``assess`` made it; empty when nothing was assessed."""

    @cached_property
    def model(self) -> MicroCredentialSummary | None:
        """The typed summary, validated from ``summary`` on first use: the report only needs
        the JSON form, and validating it was a third of an evaluation."""
        if not self.summary:
            return None
        return MicroCredentialSummary.model_validate(
            {k: v for k, v in self.summary.items() if k != "profile"})


def read_draft(credential: Mapping[str, Any]) -> Draft | None:
    """Raw Annex I values in the first shape the credential matches: ELM, OB 3.0, flat."""
    subject = mapping(credential.get("credentialSubject"))
    if subject is None:
        return None
    types = items(credential.get("type"), 20)
    claim = elm_claim(subject)
    if claim is not None:
        return read_elm(credential, subject, claim)
    achievement = ob_achievement(subject, types)
    if achievement is not None:
        return read_open_badge(credential, subject, achievement)
    flat = flat_achievement(subject)
    if flat is not None:
        return read_flat(credential, subject, flat)
    if ELM_TYPES.intersection(t for t in types if isinstance(t, str)):
        return Draft(shape="elm")  # an EDC without a claim: every element is missing
    return None


_ORDER = {e: i for i, e in enumerate(MANDATORY_ELEMENTS)}
_MISSING = {e: (f"{PREFIX}.missing.{e}", f"Annex I element {e.replace('_', ' ')} not found")
            for e in MANDATORY_ELEMENTS}
"""Each mandatory element's code and message when it is missing."""


def _problems(summary: dict[str, Any]) -> list[dict[str, str]]:
    """Missing and malformed elements in Annex I order, each with its code."""
    found = [{"code": _MISSING[e][0], "element": e, "message": _MISSING[e][1]}
             for e in summary["missing"]]
    if not summary["invalid"]:  # ``assess`` lists missing elements in Annex I order
        return found
    found += [dict(p) for p in summary["invalid"]]
    return sorted(found, key=lambda p: _ORDER.get(p["element"], len(_ORDER)))


def evaluate_microcredential(credential: Mapping[str, Any], *, required: bool,
                             at: datetime | None = None) -> MicrocredentialResult:
    """Step 10: the EU micro-credential profile (Annex I) of one credential. Pure; never
    raises for a bad credential."""
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    draft = read_draft(credential) if isinstance(credential, dict) else None
    if draft is None:
        if not required:
            return MicrocredentialResult(
                check=CheckResult.skipped(CHECK, "not a micro-credential (no ELM, Open Badges "
                                          "3.0 or flat achievement found)"),
                summary={})
        return MicrocredentialResult(
            check=CheckResult.failed(CHECK, f"{PREFIX}.not_recognised",
                                     "a micro-credential is required, but no ELM, Open Badges "
                                     "3.0 or flat achievement was found",
                                     missing=list(MANDATORY_ELEMENTS),
                                     problems=[], warnings=[]),
            summary={})
    summary = assess(draft, at=at)
    problems = _problems(summary)
    details: dict[str, Any] = {
        "shape": summary["shape"], "complete": summary["complete"],
        "missing": list(summary["missing"]), "problems": problems,
        "warnings": [dict(w) for w in summary["warnings"]],
    }
    if summary["complete"]:
        check = CheckResult.passed(CHECK, "all mandatory Annex I elements are present",
                                   **details)
    elif not required:
        check = CheckResult(check=CHECK, status=CheckStatus.PASSED,
                            code=f"{PREFIX}.incomplete",
                            message=f"not a complete EU micro-credential: {_listing(problems)}",
                            details=details)
    else:
        check = CheckResult.failed(CHECK, problems[0]["code"],
                                   f"not a complete EU micro-credential: {_listing(problems)}",
                                   **details)
    return MicrocredentialResult(check=check, summary=summary)


def _listing(problems: list[dict[str, str]]) -> str:
    missing, invalid = [], []
    for p in problems:
        if ".missing." in p["code"]:
            missing.append(p["element"].replace("_", " "))
        if ".invalid." in p["code"]:
            invalid.append(p["element"].replace("_", " "))
    parts = []
    if missing:
        parts.append("missing " + ", ".join(missing))
    if invalid:
        parts.append("malformed " + ", ".join(dict.fromkeys(invalid)))
    return "; ".join(parts)


__all__ = ["CHECK", "MicrocredentialResult", "evaluate_microcredential", "read_draft"]
