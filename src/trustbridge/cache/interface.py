"""The ``Cache`` protocol every fact source and the result cache use.

Values are bytes: callers cache raw signed documents (re-verified on read) or
serialised reports, never live objects. Pub/sub carries invalidation events
(registry epoch bumps) between nodes sharing a Redis.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Protocol, runtime_checkable


@runtime_checkable
class Cache(Protocol):
    """Async byte cache with TTLs, atomic counters and pub/sub."""

    async def get(self, key: str) -> bytes | None: ...

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        """Store only when absent; True when stored. Single-use nonces rely on this."""
        ...

    async def pop(self, key: str) -> bytes | None:
        """Atomically read and delete (consume a single-use value)."""
        ...

    async def delete(self, *keys: str) -> int: ...

    async def delete_prefix(self, prefix: str) -> int: ...

    async def incr(self, key: str) -> int: ...

    async def publish(self, channel: str, message: bytes) -> None: ...

    def subscribe(self, channel: str) -> AsyncIterator[bytes]:
        """Messages published on ``channel`` from now on (by any node sharing the backend)."""
        ...

    async def ping(self) -> None:
        """Raise ``InfrastructureError`` when the backend is unreachable."""
        ...

    async def close(self) -> None: ...


Loader = Callable[[], Awaitable[bytes]]


async def open_cache(redis_url: str | None, *, max_entries: int = 50_000,
                     max_bytes: int = 128 * 1024 * 1024,
                     fallback_seconds: float = 0.0) -> Cache:
    """Redis when a URL is given, else the in-process LRU.

    With ``fallback_seconds > 0`` Redis sits behind ``FallbackCache``: while it is
    unreachable, keys that may degrade are served in-process (re-probed every
    ``fallback_seconds``); shared-only keys (nonces, sessions, idempotency) fail closed.
    Redis must answer at start either way.
    """
    from trustbridge.cache.memory import MemoryCache

    if redis_url:
        from trustbridge.cache.redis import RedisCache

        cache = RedisCache.from_url(redis_url)
        await cache.ping()
        if fallback_seconds > 0:
            from trustbridge.cache.fallback import FallbackCache

            return FallbackCache(cache, MemoryCache(max_entries=max_entries,
                                                    max_bytes=max_bytes),
                                 backoff=fallback_seconds)
        return cache
    return MemoryCache(max_entries=max_entries, max_bytes=max_bytes)


__all__ = ["Cache", "Loader", "open_cache"]
