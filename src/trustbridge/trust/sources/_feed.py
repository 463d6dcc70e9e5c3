"""A published list kept fresh: load from a file or an https URL, parse+verify, honour its
``NextUpdate``, and keep the previous good copy when a refresh fails (TS 119 612 §6.1 /
TS 119 602 expect relying parties to keep using the last valid list until it expires).

The parse function does the verification (signature, pinned digest), so a copy read back
is always one that passed it; a refresh that fails verification changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Generic, TypeVar

from trustbridge.clock import Clock
from trustbridge.errors import TrustBridgeError
from trustbridge.fetch import SafeFetcher

log = logging.getLogger(__name__)

T = TypeVar("T")
DEFAULT_MAX_BYTES = 8 * 1024 * 1024
# With no NextUpdate a list is re-read this often (a file may change under us).
DEFAULT_REFRESH = timedelta(hours=1)


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
                 max_bytes: int = DEFAULT_MAX_BYTES, refresh: timedelta = DEFAULT_REFRESH
                 ) -> None:
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
        self.last_error: str | None = None

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
            return
        self.last_error = None
        self._snapshot = Snapshot(value=value, location=self.location,
                                  digest=hashlib.sha256(raw).hexdigest(), fetched_at=now,
                                  next_update=self._next_update_of(value))


__all__ = ["ListFeed", "Snapshot"]
