"""Verification outcomes: ``CheckResult`` per check, rolled up into a ``VerificationReport``.

A verification never raises for a bad credential; it reports. The verdict is
derived: any ``failed`` -> ``invalid``; else any ``error`` (a fact could not
be fetched) -> ``indeterminate``; else ``valid``. ``skipped`` never fails.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class CheckStatus(StrEnum):
    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"
    ERROR = "error"


class Verdict(StrEnum):
    VALID = "valid"
    INVALID = "invalid"
    INDETERMINATE = "indeterminate"


class CheckResult(BaseModel):
    """One check's outcome. ``code`` is a stable dotted string documented in docs/codes.md."""

    model_config = ConfigDict(frozen=True)

    check: str
    status: CheckStatus
    code: str
    message: str
    details: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def passed(cls, check: str, message: str, **details: Any) -> CheckResult:
        return cls(check=check, status=CheckStatus.PASSED, code=f"{check}.ok", message=message,
                   details=details)

    @classmethod
    def failed(cls, check: str, code: str, message: str, **details: Any) -> CheckResult:
        return cls(check=check, status=CheckStatus.FAILED, code=code, message=message,
                   details=details)

    @classmethod
    def skipped(cls, check: str, message: str, **details: Any) -> CheckResult:
        return cls(check=check, status=CheckStatus.SKIPPED, code=f"{check}.skipped",
                   message=message, details=details)

    @classmethod
    def error(cls, check: str, code: str, message: str, **details: Any) -> CheckResult:
        return cls(check=check, status=CheckStatus.ERROR, code=code, message=message,
                   details=details)


def verdict_of(checks: Iterable[CheckResult]) -> Verdict:
    """Fold check statuses into a verdict; ``error`` can never become ``valid``."""
    statuses = {c.status for c in checks}
    if CheckStatus.FAILED in statuses:
        return Verdict.INVALID
    if CheckStatus.ERROR in statuses:
        return Verdict.INDETERMINATE
    return Verdict.VALID


def combine(verdicts: Iterable[Verdict]) -> Verdict:
    """The worst of several verdicts (invalid > indeterminate > valid)."""
    vs = set(verdicts)
    if Verdict.INVALID in vs:
        return Verdict.INVALID
    if Verdict.INDETERMINATE in vs:
        return Verdict.INDETERMINATE
    return Verdict.VALID


class CredentialReport(BaseModel):
    """Per-credential outcome and a readable summary for HR staff."""

    verdict: Verdict
    checks: list[CheckResult]
    summary: dict[str, Any] = Field(default_factory=dict)


class VerificationReport(BaseModel):
    """The answer of ``POST /v1/verify``: the verdict is data, not an HTTP error."""

    verdict: Verdict
    checks: list[CheckResult]
    credentials: list[CredentialReport] = Field(default_factory=list)
    holder: str | None = None
    cached: bool = False
    checked_at: datetime


__all__ = [
    "CheckResult",
    "CheckStatus",
    "CredentialReport",
    "Verdict",
    "VerificationReport",
    "combine",
    "verdict_of",
]
