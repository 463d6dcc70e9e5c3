"""Quality assurance read from a trust decision's DEQAR evidence (pure).

For the micro-credential profile (Council Recommendation 2022, Annex I "type of quality
assurance used to underpin the micro-credential"): ``quality_assurance_of`` gives the
external QA in force, and ``level_mismatch`` flags a claimed EQF / QF-EHEA level that no
programme-level report in force covers. Institutional reports cover every level.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

# QF-EHEA cycles and their EQF levels (Bologna/EQF referencing).
QF_EHEA_TO_EQF = {"short cycle": 5, "first cycle": 6, "second cycle": 7, "third cycle": 8}


def _deqar_reports(evidence: Iterable[Any]) -> list[Mapping[str, Any]]:
    for ans in evidence:
        source_evidence = getattr(ans, "evidence", None)
        if source_evidence is None and isinstance(ans, Mapping):
            source_evidence = ans.get("evidence")
        if isinstance(source_evidence, Mapping) and "reports_in_force" in source_evidence:
            return [r for r in source_evidence["reports_in_force"] if isinstance(r, Mapping)]
    return []


def quality_assurance_of(evidence: Iterable[Any]) -> list[dict[str, Any]]:
    """The external QA in force, one entry per DEQAR report with a registered agency."""
    return [{"type": r.get("activity_type"), "activity": r.get("activity"),
             "agency": r.get("agency"), "decision": r.get("decision"),
             "valid_from": r.get("valid_from"), "valid_to": r.get("valid_to"),
             "report": r.get("url")}
            for r in _deqar_reports(evidence) if r.get("agency_registered")]


def _eqf(level: Any) -> int | None:
    if isinstance(level, int) and not isinstance(level, bool):
        return level
    if isinstance(level, str):
        text = level.strip().lower()
        if text in QF_EHEA_TO_EQF:
            return QF_EHEA_TO_EQF[text]
        digits = "".join(ch for ch in text if ch.isdigit())
        return int(digits) if digits and len(digits) == 1 else None
    return None


def level_mismatch(evidence: Iterable[Any], claimed_level: Any) -> dict[str, Any] | None:
    """``None`` when the claimed level is covered (or cannot be judged); otherwise what was
    claimed and which levels the reports in force cover."""
    claimed = _eqf(claimed_level)
    reports = [r for r in _deqar_reports(evidence) if r.get("agency_registered")]
    if claimed is None or not reports:
        return None
    if any(r.get("activity_type") == "institutional" for r in reports):
        return None
    covered = sorted({lvl for r in reports for p in r.get("scope", [])
                      if isinstance(p, Mapping)
                      for lvl in (_eqf(p.get("qf_ehea_level")), _eqf(p.get("nqf_level")))
                      if lvl is not None})
    if not covered or claimed in covered:
        return None
    return {"claimed_eqf": claimed, "accredited_eqf": covered}


__all__ = ["QF_EHEA_TO_EQF", "level_mismatch", "quality_assurance_of"]
