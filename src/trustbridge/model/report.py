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
    def _of(cls, check: str, status: CheckStatus, code: str, message: str,
            details: dict[str, Any]) -> CheckResult:
        """Every check builds its result here, ~20 per verification: values of the declared
        types (the usual case) skip pydantic's validation, which would keep them exactly as
        they are, and build the same model (same ``__dict__`` and fields set, so the same
        JSON) in about a third of the time; anything else, or a subclass, is validated."""
        if (cls is not CheckResult or type(check) is not str or type(code) is not str
                or type(message) is not str):
            return cls(check=check, status=status, code=code, message=message, details=details)
        result = _new(cls)
        _set(result, "__dict__", {"check": check, "status": status, "code": code,
                                  "message": message, "details": details})
        _set(result, "__pydantic_fields_set__", {"check", "status", "code", "message",
                                                 "details"})
        _set(result, "__pydantic_extra__", None)
        _set(result, "__pydantic_private__", None)
        return result

    @classmethod
    def passed(cls, check: str, message: str, **details: Any) -> CheckResult:
        return cls._of(check, CheckStatus.PASSED, f"{check}.ok", message, details)

    @classmethod
    def failed(cls, check: str, code: str, message: str, **details: Any) -> CheckResult:
        return cls._of(check, CheckStatus.FAILED, code, message, details)

    @classmethod
    def skipped(cls, check: str, message: str, **details: Any) -> CheckResult:
        return cls._of(check, CheckStatus.SKIPPED, f"{check}.skipped", message, details)

    @classmethod
    def error(cls, check: str, code: str, message: str, **details: Any) -> CheckResult:
        return cls._of(check, CheckStatus.ERROR, code, message, details)


_new = object.__new__
_set = object.__setattr__


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

    def json_bytes(self) -> bytes:
        """``model_dump_json()`` as UTF-8 bytes, without making (and encoding) the str."""
        return self.__pydantic_serializer__.to_json(self)


__all__ = [
    "CheckResult",
    "CheckStatus",
    "CredentialReport",
    "Verdict",
    "VerificationReport",
    "combine",
    "verdict_of",
]
