"""One batch or job item: the ``POST /v1/verify`` request model, validated item by item so a
bad item becomes an inline problem instead of failing the whole batch.

The item model is ``trustbridge.api.verify.VerifyRequest`` itself (the HR contract is
"each item is what you would POST to /v1/verify"); it is imported from the API layer
on purpose so the two can never drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC
from typing import Any

from trustbridge.api.body import validate
from trustbridge.api.problems import TYPE_BASE, status_for
from trustbridge.api.verify import VerifyRequest
from trustbridge.errors import InputError, TrustBridgeError
from trustbridge.verify.pipeline import VerificationInput


def parse_item(raw: Any) -> VerifyRequest:
    """A validated item, or ``InputError`` with the same codes ``POST /v1/verify`` uses."""
    if not isinstance(raw, dict):
        raise InputError("each item is a JSON object like the body of POST /v1/verify",
                         code="request.schema")
    item = validate(VerifyRequest, raw)
    if (item.presentation is None) == (item.credential is None):
        raise InputError("give exactly one of 'presentation' or 'credential'",
                         code="request.nothing_to_verify")
    return item


def input_of(item: VerifyRequest) -> VerificationInput:
    at = item.at
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    return VerificationInput(presentation=item.presentation, credential=item.credential,
                             nonce=item.nonce, audience=item.audience, at=at, policy=item.policy)


def presented(item: VerifyRequest) -> Any:
    return item.presentation if item.presentation is not None else item.credential


def problem_of(exc: TrustBridgeError) -> dict[str, Any]:
    """An inline RFC 9457 problem object for one item."""
    status, title = status_for(exc)
    problem: dict[str, Any] = {"type": TYPE_BASE + exc.code, "title": title, "status": status,
                               "detail": exc.message, "code": exc.code}
    problem.update({k: v for k, v in exc.details.items() if k not in problem})
    return problem


@dataclass(frozen=True)
class ItemOutcome:
    """One item's answer: a report (status 200) or a problem (4xx), plus an optional receipt."""

    index: int
    status: int
    report: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None
    receipt: str | None = None

    @property
    def verdict(self) -> str | None:
        return None if self.report is None else str(self.report.get("verdict"))

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"index": self.index, "status": self.status}
        if self.report is not None:
            out["report"] = self.report
        if self.problem is not None:
            out["problem"] = self.problem
        if self.receipt is not None:
            out["receipt"] = self.receipt
        return out

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> ItemOutcome:
        return cls(index=int(data["index"]), status=int(data["status"]),
                   report=data.get("report"), problem=data.get("problem"),
                   receipt=data.get("receipt"))


def minimised(report: dict[str, Any]) -> dict[str, Any]:
    """A report without personal data (holder DID, credential summaries): verdict, checks
    and codes only -- what stored job results keep unless the tenant opts in."""
    out = {k: v for k, v in report.items() if k != "holder"}
    out["credentials"] = [{k: v for k, v in cred.items() if k != "summary"}
                          for cred in report.get("credentials", [])]
    return out


def summary_counts(outcomes: list[ItemOutcome]) -> dict[str, int]:
    counts = {"valid": 0, "invalid": 0, "indeterminate": 0, "rejected": 0}
    for o in outcomes:
        key = o.verdict if o.verdict in counts else "rejected"
        counts[str(key)] += 1
    return counts


__all__ = ["ItemOutcome", "input_of", "minimised", "parse_item", "presented", "problem_of",
           "summary_counts"]
