"""One read in flight at a time: callers that need the same value join the read under way.

Why: the registry epoch is reused for a second and then read again from the store. Without
this, every request that found the memo stale started its own read; on SQLite the reads
queue on the one connection and each costs a turn of a busy event loop, so under load
sixteen requests in flight made sixteen serial reads every second and the last waited
behind all of them (``POST /v1/verify``, default policy, 5 credentials, 16 connections:
p99 0.9-1.3 s with p50 70-110 ms; ``bench/README.md`` "Session 5").

A caller joins a read only if it started under the same *generation* (the owner moves the
generation when it learns of a change), so nobody gets a value read before a change it has
already seen. The read runs as its own task and each caller awaits it shielded: a caller
that is cancelled does not cancel the read for the others.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

T = TypeVar("T")


def _retrieve(task: asyncio.Task[object]) -> None:
    """Take a finished read's outcome so a read nobody waited for is not logged as lost."""
    if not task.cancelled():
        task.exception()


class SingleFlight(Generic[T]):
    """``run(generation, read)``: ``read()`` once per generation while it is in flight."""

    def __init__(self) -> None:
        self._inflight: tuple[int, asyncio.Task[T]] | None = None

    async def run(self, generation: int, read: Callable[[], Coroutine[Any, Any, T]]) -> T:
        current = self._inflight
        if current is not None and current[0] == generation and not current[1].done():
            task = current[1]
        else:
            task = asyncio.ensure_future(read())
            task.add_done_callback(_retrieve)
            self._inflight = (generation, task)
        return await asyncio.shield(task)


__all__ = ["SingleFlight"]
