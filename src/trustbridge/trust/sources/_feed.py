"""A published list kept fresh: load from a file or an https URL, parse+verify, honour its
``NextUpdate``, and keep the previous good copy when a refresh fails (TS 119 612 §6.1 /
TS 119 602 expect relying parties to keep using the last valid list until it expires).

The parse function does the verification (signature, pinned digest), so a copy read back
is always one that passed it; a refresh that fails verification changes nothing.
With a shared ``Cache``, the last good raw bytes are kept there too, so a restarted node
(or another node) whose first fetch fails starts from that copy -- verified again when
read back, never trusted because it was once verified.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Generic, TypeVar

from trustbridge.cache import Cache
from trustbridge.clock import Clock
from trustbridge.errors import TrustBridgeError
from trustbridge.fetch import SafeFetcher

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
# With no NextUpdate a list is re-read this often (a file may change under us).
DEFAULT_REFRESH = timedelta(hours=1)
CACHE_PREFIX = "trust:list:"
CACHE_TTL = 30 * 86_400.0


@dataclass(frozen=True)
class Snapshot(Generic[T]):
    """One verified copy and where/when it came from."""

    value: T
    location: str
    digest: str  # sha256 of the bytes, hex
    fetched_at: datetime
    next_update: datetime | None


class ListFeed(Generic[T]):
    """``current()`` returns the newest verified snapshot (refreshing when due), or ``None``
    when no copy could ever be loaded; ``last_error`` says why the last refresh failed."""

    def __init__(self, location: str, parse: Callable[[bytes], T],
                 next_update_of: Callable[[T], datetime | None], *, clock: Clock,
                 fetcher: SafeFetcher | None = None, accept: str = "*/*",
                 max_bytes: int = DEFAULT_MAX_BYTES, refresh: timedelta = DEFAULT_REFRESH,
                 cache: Cache | None = None) -> None:
        self.location = location
        self._parse = parse
        self._next_update_of = next_update_of
        self._clock = clock
        self._fetcher = fetcher
        self._accept = accept
        self._max_bytes = max_bytes
        self._refresh = refresh
        self._snapshot: Snapshot[T] | None = None
        self._checked_at: datetime | None = None
        self._lock = asyncio.Lock()
        self._cache = cache
        self._cache_key = CACHE_PREFIX + hashlib.sha256(location.encode()).hexdigest()
        self.last_error: str | None = None

    @property
    def digest(self) -> str | None:
        """sha256 of the bytes of the copy in use (``None`` before one was loaded); it moves
        exactly when a refresh changes the list's content."""
        return self._snapshot.digest if self._snapshot is not None else None

    def _due(self, now: datetime) -> bool:
        snap = self._snapshot
        if snap is None or self._checked_at is None:
            return True
        if snap.next_update is not None and now >= snap.next_update:
            return now - self._checked_at >= timedelta(minutes=1)  # don't hammer a failing host
        return now - self._checked_at >= self._refresh

    async def current(self) -> Snapshot[T] | None:
        now = self._clock()
        if not self._due(now):
            return self._snapshot
        async with self._lock:
            if self._due(now):
                await self._reload(now)
        return self._snapshot

    async def _read(self) -> bytes:
        if self.location.startswith(("https://", "http://")):
            fetcher = self._fetcher or SafeFetcher()
            doc = await fetcher.fetch(self.location, accept=self._accept,
                                      max_bytes=self._max_bytes)
            return doc.body
        path = Path(self.location)
        size = (await asyncio.to_thread(path.stat)).st_size
        if size > self._max_bytes:
            raise TrustBridgeError(f"{path} is larger than {self._max_bytes} bytes",
                                   code="trust.list_too_large")
        return await asyncio.to_thread(path.read_bytes)

    async def _reload(self, now: datetime) -> None:
        self._checked_at = now
        try:
            raw = await self._read()
            value = self._parse(raw)
        except (TrustBridgeError, OSError, ValueError) as exc:
            self.last_error = getattr(exc, "message", None) or str(exc)
            log.warning("trust list %s not refreshed (keeping the previous copy: %s): %s",
                        self.location, self._snapshot is not None, self.last_error)
            if self._snapshot is None:
                await self._from_cache()
            return
        self.last_error = None
        self._snapshot = self._snap(raw, value, now)
        await self._to_cache(raw, now)

    def _snap(self, raw: bytes, value: T, fetched_at: datetime) -> Snapshot[T]:
        return Snapshot(value=value, location=self.location,
                        digest=hashlib.sha256(raw).hexdigest(), fetched_at=fetched_at,
                        next_update=self._next_update_of(value))

    async def _to_cache(self, raw: bytes, now: datetime) -> None:
        if self._cache is None:
            return
        record = {"fetched_at": now.isoformat(), "raw": base64.b64encode(raw).decode()}
        try:
            await self._cache.set(self._cache_key, json.dumps(record).encode(), ttl=CACHE_TTL)
        except Exception:  # a cache outage must not lose the fresh copy we hold
            log.warning("trust list %s: copy not written to the cache", self.location)

    async def _from_cache(self) -> None:
        """The last good copy another run stored, verified again by ``parse``."""
        if self._cache is None:
            return
        try:
            hit = await self._cache.get(self._cache_key)
            if hit is None:
                return
            record = json.loads(hit)
            raw = base64.b64decode(record["raw"])
            fetched_at = datetime.fromisoformat(record["fetched_at"])
            value = self._parse(raw)
        except Exception as exc:  # unreadable or no longer verifying: ignore it
            log.warning("trust list %s: cached copy refused: %s", self.location,
                        getattr(exc, "message", None) or exc)
            return
        self._snapshot = self._snap(raw, value, fetched_at)
        self.last_error = f"{self.last_error} (serving the cached copy of " \
                          f"{fetched_at.isoformat()})"


__all__ = ["ListFeed", "Snapshot"]
