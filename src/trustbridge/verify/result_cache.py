"""Cached verification reports: the one deliberate exception to "cache raw facts only".

The key is a digest of everything the result depends on -- the canonical input,
the expected nonce and audience, the policy, the requested time, and the
registry epoch (a registry change bumps it, so stale answers are never hit).
The TTL never outlives the earliest credential expiry, the status lists'
freshness, or ``result_cache_ttl_seconds``. ``indeterminate`` is not cached:
an outage must not be remembered.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from trustbridge.cache import Cache
from trustbridge.model.report import Verdict, VerificationReport

KEY_PREFIX = "verify:result:"


def _canonical(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value


def result_key(*, presentation: Any, credential: Any, nonce: str | None, audience: str | None,
               policy: Mapping[str, Any], at: datetime | None, epoch: int | str) -> str:
    """``verify:result:<sha256>`` over a canonical JSON of every input the report depends on."""
    material = {
        "presentation": _canonical(presentation),
        "credential": _canonical(credential),
        "nonce": nonce,
        "audience": audience,
        "policy": _canonical(policy),
        "at": at.isoformat() if at else None,
        "epoch": str(epoch),
    }
    blob = json.dumps(material, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return KEY_PREFIX + hashlib.sha256(blob.encode("utf-8")).hexdigest()


def result_ttl(*, now: datetime, max_ttl: float, earliest_expiry: datetime | None,
               status_ttls: list[float]) -> float:
    """The TTL a report may live: min(configured max, time to expiry, status freshness)."""
    ttl = float(max_ttl)
    if earliest_expiry is not None:
        ttl = min(ttl, (earliest_expiry - now).total_seconds())
    for status_ttl in status_ttls:
        ttl = min(ttl, status_ttl)
    return max(ttl, 0.0)


class ResultCache:
    """Reports in the shared ``Cache``, marked ``cached: true`` when read back."""

    def __init__(self, cache: Cache, *, max_ttl: float) -> None:
        self._cache = cache
        self.max_ttl = max_ttl

    async def get(self, key: str) -> VerificationReport | None:
        raw = await self._cache.get(key)
        if raw is None:
            return None
        try:
            report = VerificationReport.model_validate_json(raw)
        except ValueError:
            await self._cache.delete(key)
            return None
        return report.model_copy(update={"cached": True})

    async def put(self, key: str, report: VerificationReport, ttl: float) -> bool:
        """Store unless the verdict is indeterminate or the TTL is not positive."""
        if report.verdict == Verdict.INDETERMINATE or ttl < 1 or self.max_ttl <= 0:
            return False
        await self._cache.set(key, report.model_dump_json().encode("utf-8"), ttl=ttl)
        return True

    async def clear(self) -> int:
        return await self._cache.delete_prefix(KEY_PREFIX)


__all__ = ["KEY_PREFIX", "ResultCache", "result_key", "result_ttl"]
