"""Fetch raw status-list documents through the SSRF-safe fetcher, behind the cache.

Raw bytes are cached (never the parsed conclusion): whatever comes back from the
cache is parsed and signature-checked again by the caller, as python-tuf does.
The first fetch is cached for ``default_ttl``; once the caller has read the
list's own ``ttl``/``validUntil`` it calls ``retain`` to set the real TTL.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any, Protocol

from trustbridge.cache import Cache
from trustbridge.errors import FetchError

ACCEPT = "application/vc+jwt, application/jwt, application/vc+ld+json, application/ld+json, " \
         "application/json;q=0.9"
KEY_PREFIX = "status:list:"


class DocumentFetcher(Protocol):
    """``trustbridge.fetch.SafeFetcher``'s shape: SSRF-safe, size-capped GET.

    It returns the body as ``bytes`` or an object with ``body``/``content`` bytes;
    it raises ``FetchError`` (timeouts, size, status, refused address).
    """

    async def fetch(self, url: str, *, accept: str, max_bytes: int) -> Any: ...


def body_of(result: Any) -> bytes:
    """The body bytes of whatever the fetcher returned."""
    if isinstance(result, bytes | bytearray):
        return bytes(result)
    for name in ("body", "content", "data"):
        value = getattr(result, name, None)
        if isinstance(value, bytes | bytearray):
            return bytes(value)
    if isinstance(result, str):
        return result.encode("utf-8")
    raise FetchError("the fetcher returned no body", code="fetch.failed")


@dataclass(frozen=True)
class RawStatusList:
    url: str
    body: bytes
    from_cache: bool


class StatusListFetcher:
    """Raw status-list documents by URL, cached under ``status:list:<sha256(url)>``."""

    def __init__(self, fetcher: DocumentFetcher | None, cache: Cache, *, max_bytes: int,
                 default_ttl: float, max_ttl: float) -> None:
        self._fetcher = fetcher
        self._cache = cache
        self.max_bytes = max_bytes
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl

    @staticmethod
    def cache_key(url: str) -> str:
        return KEY_PREFIX + hashlib.sha256(url.encode("utf-8")).hexdigest()

    async def fetch_list(self, url: str) -> RawStatusList:
        """The raw list document; ``FetchError`` when it cannot be had within limits."""
        key = self.cache_key(url)
        cached = await self._cache.get(key)
        if cached is not None:
            return RawStatusList(url=url, body=cached, from_cache=True)
        if self._fetcher is None:
            raise FetchError("no SSRF-safe fetcher is configured for status lists",
                             code="status.fetcher_unavailable")
        body = body_of(await self._fetcher.fetch(url, accept=ACCEPT, max_bytes=self.max_bytes))
        if len(body) > self.max_bytes:
            raise FetchError(f"status list larger than {self.max_bytes} bytes",
                             code="fetch.too_large")
        await self._cache.set(key, body, ttl=self.default_ttl)
        return RawStatusList(url=url, body=body, from_cache=False)

    async def retain(self, raw: RawStatusList, ttl: float | None) -> float:
        """Re-store a verified list with its own TTL (capped); returns the TTL used."""
        effective = min(ttl if ttl is not None and ttl > 0 else self.default_ttl, self.max_ttl)
        if not raw.from_cache:
            await self._cache.set(self.cache_key(raw.url), raw.body, ttl=effective)
        return effective

    async def forget(self, url: str) -> None:
        """Drop a list that failed verification so the next request fetches it anew."""
        await self._cache.delete(self.cache_key(url))


__all__ = ["ACCEPT", "DocumentFetcher", "RawStatusList", "StatusListFetcher", "body_of"]
