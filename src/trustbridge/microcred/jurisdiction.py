"""Does the awarding country agree with the jurisdiction the issuer is accredited for?

The trust check (registry) knows the jurisdiction of the issuer's accreditation; this
module does not fetch it. The pipeline, holding both facts, calls ``check_jurisdiction``
with the micro-credential result and that jurisdiction (``ES``, ``ESP``, an EU authority
URI, or ``EU``/``EUR``/``EUU`` for the whole Union).
"""

from __future__ import annotations

import dataclasses

from trustbridge.microcred.annex import PREFIX
from trustbridge.microcred.countries import EU_MEMBERS
from trustbridge.microcred.evaluate import MicrocredentialResult
from trustbridge.microcred.values import Invalid, country_code
from trustbridge.model.report import CheckResult, CheckStatus

CODE = f"{PREFIX}.invalid.country_jurisdiction"
WARNING = f"{PREFIX}.warning.country_jurisdiction"
_EU = ("EU", "EUR", "EUU")


def _covered(countries: list[str], jurisdiction: str) -> list[str] | None:
    """Countries outside ``jurisdiction``; ``None`` when the jurisdiction is unreadable."""
    raw = jurisdiction.strip().rstrip("/").rsplit("/", 1)[-1].upper()
    if raw in _EU:
        return [c for c in countries if c not in EU_MEMBERS]
    try:
        code = country_code(jurisdiction)
    except Invalid:
        return None
    return [c for c in countries if c != code]


def check_jurisdiction(result: MicrocredentialResult, jurisdiction: str | None, *,
                       required: bool = False) -> MicrocredentialResult:
    """``result`` with a problem added when an awarding country lies outside the
    accreditation's jurisdiction: a warning, or a failure when ``required``."""
    countries = result.summary.get("countries") if result.summary else None
    if not jurisdiction or not isinstance(countries, list) or not countries:
        return result
    outside = _covered([c for c in countries if isinstance(c, str)], jurisdiction)
    if not outside:
        return result
    message = (f"awarding country {', '.join(outside)} is outside the accreditation's "
               f"jurisdiction {jurisdiction[:60]}")
    summary = dict(result.summary)
    details = dict(result.check.details)
    if required:
        problem = {"code": CODE, "element": "country", "message": message}
        summary["invalid"] = [*summary.get("invalid", []), problem]
        summary["complete"] = False
        details["problems"] = [*details.get("problems", []), problem]
        details["complete"] = False
        check = (result.check.model_copy(update={"details": details})
                 if result.check.status == CheckStatus.FAILED
                 else CheckResult.failed(result.check.check, CODE, message, **details))
    else:
        warning = {"code": WARNING, "message": message}
        summary["warnings"] = [*summary.get("warnings", []), warning]
        details["warnings"] = [*details.get("warnings", []), warning]
        check = result.check.model_copy(update={"details": details})
    return dataclasses.replace(result, check=check, summary=summary)


__all__ = ["CODE", "WARNING", "check_jurisdiction"]
