"""One read in flight per key: callers that need the same thing join the read under way.

Why: the registry epoch is reused for a second and then read again from the store. Without
this, every request that found the memo stale started its own read; on SQLite the reads
queue on the one connection and each costs a turn of a busy event loop, so under load
sixteen requests in flight made sixteen serial reads every second and the last waited
behind all of them (``POST /v1/verify``, default policy, 5 credentials, 16 connections:
p99 0.9-1.3 s with p50 70-110 ms; ``bench/README.md`` "Session 5"). The DID resolver
shares one fetch per DID the same way.

A key names what is read: a DID's cache key, or for the epoch a *generation* (the owner
moves it when it learns of a change), so nobody gets a value read before a change it has
already seen. A read leaves the table when it finishes, so a later caller reads afresh.
The read runs as its own task and each caller awaits it shielded: a caller that is
cancelled does not cancel the read for the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Hashable
from typing import Any, Generic, TypeVar

from trustbridge.runtime.outcome import discard_outcome

K = TypeVar("K", bound=Hashable)
T = TypeVar("T")


class SingleFlight(Generic[K, T]):
    """``run(key, read)``: ``read()`` once per key while it is in flight."""

    def __init__(self) -> None:
        self._inflight: dict[K, asyncio.Task[T]] = {}

    async def run(self, key: K, read: Callable[[], Coroutine[Any, Any, T]]) -> T:
        task = self._inflight.get(key)
        if task is None or task.done():
            task = asyncio.ensure_future(read())
            self._inflight[key] = task
            task.add_done_callback(lambda done: self._landed(key, done))
        return await asyncio.shield(task)

    def _landed(self, key: K, task: asyncio.Task[T]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        discard_outcome(task)  # a read nobody waited for is not logged as lost

    def cancel(self) -> None:
        """Cancel every read in flight (on shutdown)."""
        for task in list(self._inflight.values()):
            task.cancel()


__all__ = ["SingleFlight"]
