"""Service status at a point in time, shared by TS 119 612 trusted lists and TS 119 602
LoTEs: a service's current status plus its history (TS 119 612 §5.5.4 ServiceStatus,
§5.5.5 StatusStartingTime, §5.6 ServiceHistory) give the status in force at ``at``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

# Last path segment of the status URI (…/Svcstatus/granted, older …/Svcstatus/accredited).
POSITIVE = frozenset({"granted", "recognisedatnationallevel", "undersupervision", "accredited",
                      "supervisionincessation", "notified", "active"})
NEGATIVE = frozenset({"withdrawn", "deprecatedatnationallevel", "supervisionrevoked",
                      "accreditationrevoked", "supervisionceased", "accreditationceased",
                      "revoked", "suspended", "expired", "invalid"})


@dataclass(frozen=True)
class StatusPeriod:
    status: str  # the URI as published
    start: datetime
    service_type: str | None = None


def short(status_uri: str) -> str:
    return status_uri.rstrip("/").rsplit("/", 1)[-1].lower()


def status_at(periods: Sequence[StatusPeriod], at: datetime) -> StatusPeriod | None:
    """The period in force at ``at`` (latest start not after it), or ``None`` before the first."""
    best: StatusPeriod | None = None
    for period in periods:
        if period.start <= at and (best is None or period.start > best.start):
            best = period
    return best


def parse_time(value: object) -> datetime | None:
    """RFC 3339 / xs:dateTime to an aware datetime (naive taken as UTC); ``None`` if unusable."""
    if not isinstance(value, str) or not value.strip():
        return None
    text = value.strip().replace("Z", "+00:00")
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


__all__ = ["NEGATIVE", "POSITIVE", "StatusPeriod", "parse_time", "short", "status_at"]
