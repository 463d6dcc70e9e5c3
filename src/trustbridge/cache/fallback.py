"""``FallbackCache``: Redis first, the in-process LRU while Redis is unreachable.

A circuit breaker in front of the shared cache, so that Redis going away mid-load does not
stop verification:

1. *closed* (normal): every operation goes to Redis;
2. a connection error *trips* the breaker: that operation and every one after it, for
   ``backoff`` seconds, is served by the in-process cache instead (``degraded_reason`` says
   why; ``/ready`` reports ``degraded``, not down);
3. after the back-off, ONE operation probes Redis (the others keep using the local cache);
   success *recovers*: the deletions made locally meanwhile are replayed on Redis, the
   local copy is dropped and Redis serves again -- no restart needed. Failure trips again.

What may degrade is decided by key, because one cache object serves every caller. Cached
*facts* (DID documents, status lists, schemas, registry answers, verification results, trust
lists) are re-verified or epoch-keyed, so a per-node copy can only cost extra fetches. State
that must be *shared* to be safe -- single-use OpenID4VP nonces, sessions and their event
channels, HR ``Idempotency-Key`` records -- must not be: a node-local copy would let a
nonce be consumed once per node (a cross-node replay) or a retried POST run twice. Keys
under ``SHARED_ONLY_PREFIXES`` therefore always go to Redis and fail closed
(``InfrastructureError`` → 503 problem+json) while it is down. Rate-limit counters
(``hr:rate:``) do degrade: during an outage each node counts on its own.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from trustbridge.cache.interface import Cache
from trustbridge.cache.memory import MemoryCache
from trustbridge.errors import InfrastructureError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Key (and channel) prefixes that are never served from a node-local copy.
SHARED_ONLY_PREFIXES: tuple[str, ...] = ("oid4vp:", "hr:idem:")
MAX_MISSED_DELETIONS = 10_000
_REMOTE_ERRORS = (InfrastructureError, OSError, TimeoutError)


class FallbackCache:
    """The shared cache with an in-process fallback for keys that may degrade."""

    def __init__(self, remote: Cache, local: MemoryCache, *, backoff: float = 5.0,
                 shared_only: tuple[str, ...] = SHARED_ONLY_PREFIXES,
                 probe_timeout: float = 1.0,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.remote = remote
        self.local = local
        self.backoff = backoff
        self.shared_only = shared_only
        self.probe_timeout = probe_timeout
        self._now = monotonic
        self._reason: str | None = None
        self._retry_at = 0.0
        self._probing = False
        self._missed_keys: set[str] = set()
        self._missed_prefixes: set[str] = set()
        self.trips = 0  # closed -> open transitions (tests and metrics read them)
        self.recoveries = 0

    # -- the breaker ------------------------------------------------------------------------

    @property
    def degraded_reason(self) -> str | None:
        """Why the local cache is serving, or None when Redis is."""
        return self._reason

    def _shared(self, key: str) -> bool:
        return key.startswith(self.shared_only)

    def _trip(self, exc: BaseException) -> None:
        why = str(exc) or type(exc).__name__
        if self._reason is None:
            self.trips += 1
            log.warning("redis unreachable, serving from the in-process cache for %.1f s: %s",
                        self.backoff, why)
        self._reason = f"redis unreachable ({why}); serving from the in-process cache"
        self._retry_at = self._now() + self.backoff

    def _claim_remote(self) -> tuple[bool, bool]:
        """(use Redis, this caller is the probe)."""
        if self._reason is None:
            return True, False
        if self._probing or self._now() < self._retry_at:
            return False, False
        self._probing = True
        return True, True

    async def _recover(self) -> None:
        """Redis answered again: replay local deletions on it, then drop the local copy."""
        keys, prefixes = list(self._missed_keys), list(self._missed_prefixes)
        try:
            if keys:
                await self.remote.delete(*keys)
            for prefix in prefixes:
                await self.remote.delete_prefix(prefix)
        except _REMOTE_ERRORS as exc:
            self._trip(exc)
            return
        self._missed_keys.difference_update(keys)
        self._missed_prefixes.difference_update(prefixes)
        await self.local.delete_prefix("")
        self._reason = None
        self.recoveries += 1
        log.warning("redis is reachable again; the shared cache serves again")

    async def _run(self, shared: bool, remote: Callable[[], Awaitable[T]],
                   local: Callable[[], Awaitable[T]]) -> T:
        if shared:  # fail closed: never a node-local copy
            try:
                return await remote()
            except _REMOTE_ERRORS as exc:
                self._trip(exc)
                if isinstance(exc, InfrastructureError):
                    raise
                raise InfrastructureError(f"redis unreachable: {exc}") from exc
        use_remote, probe = self._claim_remote()
        if not use_remote:
            return await local()
        try:
            result = await remote()
        except _REMOTE_ERRORS as exc:
            self._trip(exc)
            return await local()
        finally:
            if probe:
                self._probing = False
        if probe:
            await self._recover()
        return result

    def _remember_deletion(self, *, keys: tuple[str, ...] = (), prefix: str | None = None
                           ) -> None:
        if len(self._missed_keys) + len(self._missed_prefixes) >= MAX_MISSED_DELETIONS:
            log.warning("too many deletions while redis is down; some are not replayed")
            return
        self._missed_keys.update(keys)
        if prefix is not None:
            self._missed_prefixes.add(prefix)

    # -- the Cache protocol ---------------------------------------------------------------

    async def get(self, key: str) -> bytes | None:
        return await self._run(self._shared(key), lambda: self.remote.get(key),
                               lambda: self.local.get(key))

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        await self._run(self._shared(key), lambda: self.remote.set(key, value, ttl),
                        lambda: self.local.set(key, value, ttl))

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        return await self._run(self._shared(key),
                               lambda: self.remote.set_if_absent(key, value, ttl),
                               lambda: self.local.set_if_absent(key, value, ttl))

    async def pop(self, key: str) -> bytes | None:
        return await self._run(self._shared(key), lambda: self.remote.pop(key),
                               lambda: self.local.pop(key))

    async def delete(self, *keys: str) -> int:
        async def local() -> int:
            self._remember_deletion(keys=keys)
            return await self.local.delete(*keys)

        return await self._run(any(self._shared(k) for k in keys),
                               lambda: self.remote.delete(*keys), local)

    async def delete_prefix(self, prefix: str) -> int:
        async def local() -> int:
            self._remember_deletion(prefix=prefix)
            return await self.local.delete_prefix(prefix)

        shared = self._shared(prefix) or any(p.startswith(prefix) for p in self.shared_only)
        return await self._run(shared, lambda: self.remote.delete_prefix(prefix), local)

    async def incr(self, key: str) -> int:
        return await self._run(self._shared(key), lambda: self.remote.incr(key),
                               lambda: self.local.incr(key))

    async def publish(self, channel: str, message: bytes) -> None:
        await self._run(self._shared(channel), lambda: self.remote.publish(channel, message),
                        lambda: self.local.publish(channel, message))

    async def subscribe(self, channel: str) -> AsyncIterator[bytes]:
        """Messages from Redis, and from this node's local publishes while degraded.

        The Redis subscription is renewed after a failure (every ``backoff`` seconds);
        shared-only channels follow Redis alone.
        """
        if self._shared(channel):
            async for message in self.remote.subscribe(channel):
                yield message
            return
        queue: asyncio.Queue[bytes] = asyncio.Queue()

        async def pump_local() -> None:
            async for message in self.local.subscribe(channel):
                queue.put_nowait(message)

        async def pump_remote() -> None:
            while True:
                try:
                    async for message in self.remote.subscribe(channel):
                        queue.put_nowait(message)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # redis-py raises its own errors from pub/sub
                    self._trip(exc)
                await asyncio.sleep(max(self.backoff, 0.1))

        tasks = [asyncio.create_task(pump_local(), name=f"cache-local-{channel}"),
                 asyncio.create_task(pump_remote(), name=f"cache-remote-{channel}")]
        try:
            while True:
                yield await queue.get()
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await task

    async def ping(self) -> None:
        """Probe Redis (bounded by ``probe_timeout``); never raises -- the local cache is
        there. ``degraded_reason`` tells whether Redis answered."""
        try:
            await asyncio.wait_for(self.remote.ping(), self.probe_timeout)
        except _REMOTE_ERRORS as exc:
            self._trip(exc)
            return
        if self._reason is not None and not self._probing:
            self._probing = True
            try:
                await self._recover()
            finally:
                self._probing = False

    async def close(self) -> None:
        await self.remote.close()
        await self.local.close()


__all__ = ["SHARED_ONLY_PREFIXES", "FallbackCache"]
