"""Injected time: verification logic takes a ``Clock`` so validity windows are testable."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    """The real clock, timezone-aware UTC."""
    return datetime.now(UTC)


def fixed_clock(at: datetime) -> Clock:
    """A clock frozen at ``at`` (for tests and ``at=`` verification requests)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)

    def _now() -> datetime:
        return at

    return _now


__all__ = ["Clock", "fixed_clock", "system_clock"]
