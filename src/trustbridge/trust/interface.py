"""What a trust source is asked (``TrustSubject``) and what it answers (``SourceAnswer``).

Every source answers with one of four statuses. ``unavailable`` (could not get data, or
the data is too stale) is kept apart from ``unknown`` (the source has data and the
subject is not in it) so the decision can fail closed: neither ever becomes trusted.
A ``not_trusted`` answer with ``authoritative=True`` (a deny-list entry, a withdrawn
service, a negative accreditation in force at ``at``) vetoes every other source.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any, Protocol

from pydantic import BaseModel, ConfigDict, Field


class SourceStatus(StrEnum):
    TRUSTED = "trusted"
    NOT_TRUSTED = "not_trusted"
    UNKNOWN = "unknown"
    UNAVAILABLE = "unavailable"


class TrustSubject(BaseModel):
    """The question: may ``issuer`` issue these ``types`` (under ``schema_id``, in
    ``jurisdiction``) at time ``at``? ``x5c`` is the signer's certificate chain (DER, leaf
    first) when the credential carried one."""

    model_config = ConfigDict(frozen=True)

    issuer: str
    at: datetime
    types: tuple[str, ...] = ()
    schema_id: str | None = None
    jurisdiction: str | None = None
    x5c: tuple[bytes, ...] = ()
    terms_of_use: Any = None


class SourceAnswer(BaseModel):
    """One source's answer with its evidence and freshness.

    ``fetched_at``/``next_update``: when the source's data was obtained and when its
    publisher promised the next issue (``NextUpdate``); the decision treats data past
    ``next_update`` plus the grace period as unavailable.
    """

    model_config = ConfigDict(frozen=True)

    source: str
    status: SourceStatus
    code: str
    reason: str
    authoritative: bool = False
    evidence: dict[str, Any] = Field(default_factory=dict)
    fetched_at: datetime | None = None
    next_update: datetime | None = None


class TrustSource(Protocol):
    """A driver behind one registry/list. ``evaluate`` never raises for data problems:
    those are ``unavailable``/``unknown`` answers."""

    name: str

    async def evaluate(self, subject: TrustSubject) -> SourceAnswer: ...


def answer(source: str, status: SourceStatus, code: str, reason: str, **kw: Any
           ) -> SourceAnswer:
    """Shorthand used by the sources."""
    return SourceAnswer(source=source, status=status, code=code, reason=reason, **kw)


__all__ = ["SourceAnswer", "SourceStatus", "TrustSource", "TrustSubject", "answer"]
