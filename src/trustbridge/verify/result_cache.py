"""Cached verification reports: the one deliberate exception to "cache raw facts only".

The key is a digest of everything the result depends on -- the canonical input (or, at
the HTTP edge, the exact request bytes, which determine it), the expected nonce and
audience, the policy, the requested time, and the registry epoch (a registry change
bumps it, so stale answers are never hit). The TTL never outlives the earliest
credential expiry, the status lists' freshness, or ``result_cache_ttl_seconds``.
``indeterminate`` is not cached: an outage must not be remembered.

Reports are stored already rendered (``cached: true``), so a hit at the HTTP edge is a
lookup and a write, with no JSON parsing or model building. With a shared cache (Redis)
a small in-process tier sits in front: the key carries the epoch, so the local copy can
be no staler than the shared one. A report found in the shared cache (stored by another
worker or node) is copied into the tier until the expiry stored with it, so a worker asks
Redis for a report once, not on every repeat.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Mapping
from datetime import datetime
from typing import Any

from trustbridge.cache import Cache
from trustbridge.cache.memory import MemoryCache
from trustbridge.model.report import Verdict, VerificationReport

KEY_PREFIX = "verify:result:"
LOCAL_MAX_ENTRIES = 4096
LOCAL_MAX_BYTES = 16 * 1024 * 1024
_SEP = b"\n"


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


def request_digest(content_type: str, body: bytes) -> str:
    """A digest of an exact request (media type and bytes): identical bytes name identical
    inputs, so the edge can find a report without parsing the request."""
    h = hashlib.sha256(content_type.encode("ascii", "replace"))
    h.update(b"\0")
    h.update(body)
    return h.hexdigest()


def request_key(digest: str, *, epoch: int | str) -> str:
    """``verify:result:r:<sha256>`` of a request digest and the registry epoch."""
    material = f"{digest}\0{epoch}".encode()
    return KEY_PREFIX + "r:" + hashlib.sha256(material).hexdigest()


def result_ttl(*, now: datetime, max_ttl: float, earliest_expiry: datetime | None,
               status_ttls: list[float]) -> float:
    """The TTL a report may live: min(configured max, time to expiry, status freshness)."""
    ttl = float(max_ttl)
    if earliest_expiry is not None:
        ttl = min(ttl, (earliest_expiry - now).total_seconds())
    for status_ttl in status_ttls:
        ttl = min(ttl, status_ttl)
    return max(ttl, 0.0)


class CachedReport:
    """A stored report: its verdict, when it expires (Unix time; None for entries stored
    without one) and its JSON (already marked ``cached: true``).

    Stored as ``<verdict>[ <expires>]\n<json>``."""

    __slots__ = ("expires", "json", "verdict")

    def __init__(self, verdict: str, json_bytes: bytes, expires: float | None = None) -> None:
        self.verdict = verdict
        self.json = json_bytes
        self.expires = expires

    def dump(self) -> bytes:
        head = self.verdict if self.expires is None else f"{self.verdict} {self.expires:.3f}"
        return head.encode("ascii") + _SEP + self.json

    @classmethod
    def load(cls, raw: bytes) -> CachedReport | None:
        head, sep, body = raw.partition(_SEP)
        if not sep or not body.startswith(b"{"):
            return None
        verdict, _, expires = head.partition(b" ")
        try:
            return cls(Verdict(verdict.decode("ascii")).value, body,
                       float(expires) if expires else None)
        except (UnicodeDecodeError, ValueError):
            return None


class ResultCache:
    """Reports in the shared ``Cache``, with an optional in-process tier in front."""

    def __init__(self, cache: Cache, *, max_ttl: float, local_tier: bool = False,
                 local_max_entries: int = LOCAL_MAX_ENTRIES,
                 local_max_bytes: int = LOCAL_MAX_BYTES) -> None:
        self._cache = cache
        self.max_ttl = max_ttl
        self._local: MemoryCache | None = (
            MemoryCache(max_entries=local_max_entries, max_bytes=local_max_bytes)
            if local_tier else None)

    async def get_rendered(self, key: str) -> CachedReport | None:
        """The stored report as rendered JSON, or None (a corrupt entry is dropped)."""
        local = self._local
        raw = await local.get(key) if local is not None else None
        shared = raw is None
        if raw is None:
            raw = await self._cache.get(key)
            if raw is None:
                return None
        found = CachedReport.load(raw)
        if found is None:
            await self._forget(key)
        elif shared and local is not None and found.expires is not None:
            # The copy lives no longer than the shared entry (whole seconds, like put).
            left = min(found.expires - time.time(), self.max_ttl)
            if left >= 1:
                await local.set(key, raw, ttl=left)
        return found

    async def get(self, key: str) -> VerificationReport | None:
        found = await self.get_rendered(key)
        if found is None:
            return None
        try:
            return VerificationReport.model_validate_json(found.json)
        except ValueError:
            await self._forget(key)
            return None

    async def put(self, key: str, report: VerificationReport, ttl: float) -> bool:
        """Store unless the verdict is indeterminate or the TTL is not positive."""
        if report.verdict == Verdict.INDETERMINATE or ttl < 1 or self.max_ttl <= 0:
            return False
        rendered = CachedReport(
            report.verdict.value,
            report.model_copy(update={"cached": True}).json_bytes(),
            expires=time.time() + ttl).dump()
        await self._cache.set(key, rendered, ttl=ttl)
        if self._local is not None:  # bounded by entries and bytes, same TTL
            await self._local.set(key, rendered, ttl=ttl)
        return True

    async def _forget(self, key: str) -> None:
        if self._local is not None:
            await self._local.delete(key)
        await self._cache.delete(key)

    async def clear(self) -> int:
        if self._local is not None:
            await self._local.delete_prefix(KEY_PREFIX)
        return await self._cache.delete_prefix(KEY_PREFIX)


__all__ = ["KEY_PREFIX", "CachedReport", "ResultCache", "request_digest", "request_key",
           "result_key", "result_ttl"]
