"""A value read from the store now and then, reused for a short while: the registry epoch.

Why: everything cached on the registry is keyed on its epoch, and reading it from the store
on every verification would cost a query (and on SQLite a turn of the busy event loop) per
request. The registry (``TrustRegistry.current_epoch``) and the verifier (result keys) both
keep one. The rules they share:

* a value is reused for ``max_age()`` seconds after its read *started*;
* ``forget()`` (a change applied here, or announced by ``registry.changed``) drops it and
  moves the *generation*: a read that was under way across a change may hold the value from
  before it, so it is answered to its callers but not remembered;
* reads can finish out of order, so a value never replaces one whose read started later;
* callers that find the memo stale together share one read (``SingleFlight``), keyed on the
  generation, so nobody joins a read that started before a change they have seen.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Coroutine
from typing import Any, Generic, TypeVar

from trustbridge.runtime.single_flight import SingleFlight

T = TypeVar("T")


class EpochMemo(Generic[T]):
    """``get()``: the remembered value while it is young, else one shared ``read()``."""

    def __init__(self, read: Callable[[], Coroutine[Any, Any, T]],
                 max_age: Callable[[], float]) -> None:
        self._read = read
        self._max_age = max_age
        self._memo: tuple[float, T] | None = None  # (read started, value)
        self._generation = 0
        self._inflight: SingleFlight[int, T] = SingleFlight()

    async def get(self) -> T:
        memo = self._memo
        if memo is not None and time.monotonic() - memo[0] < self._max_age():
            return memo[1]
        return await self._inflight.run(self._generation, self.refresh)

    async def refresh(self) -> T:
        """Read now (whatever the memo holds) and remember the value if the rules allow."""
        started = time.monotonic()
        generation = self._generation
        value = await self._read()
        memo = self._memo
        if generation == self._generation and (memo is None or memo[0] <= started):
            self._memo = (started, value)
        return value

    def forget(self) -> None:
        """A change: the next ``get`` reads again, and reads under way are not remembered."""
        self._memo = None
        self._generation += 1


__all__ = ["EpochMemo"]
