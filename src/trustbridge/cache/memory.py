"""In-process LRU cache with per-entry TTL: the embedded default (one node only).

Bounded twice: by entry count (``max_entries``) and by bytes (``max_bytes``: the lengths of
the keys and values held; a cached verification report is ~12 KiB, so the entry count alone
let 50,000 of them reach ~600 MiB). Whichever bound is hit first evicts the least recently
used entries. Expired entries are dropped when read, and also opportunistically: every write
purges up to ``PURGE_PER_SET`` entries whose TTL has passed, oldest expiry first, so entries
that are never read again do not sit in memory until LRU pressure pushes them out.
"""

from __future__ import annotations

import asyncio
import heapq
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable

DEFAULT_MAX_ENTRIES = 50_000
DEFAULT_MAX_BYTES = 128 * 1024 * 1024
PURGE_PER_SET = 8  # more than one: purging outpaces the (at most one) expiry a set adds


class MemoryCache:
    """An LRU bounded by entry count and by bytes; expired entries are dropped when read and
    a few per write."""

    def __init__(
        self, *, max_entries: int = DEFAULT_MAX_ENTRIES, max_bytes: int = DEFAULT_MAX_BYTES,
        monotonic: Callable[[], float] = time.monotonic
    ) -> None:
        self._data: OrderedDict[str, tuple[bytes, float | None]] = OrderedDict()
        self._max = max_entries
        self._max_bytes = max_bytes
        self._bytes = 0
        # (expires, key) for entries with a TTL; stale items (key since rewritten or gone)
        # are skipped when popped, and the heap is rebuilt when they outnumber live ones.
        self._expiries: list[tuple[float, str]] = []
        self._now = monotonic
        self._subscribers: dict[str, list[asyncio.Queue[bytes]]] = {}

    @property
    def nbytes(self) -> int:
        """Bytes held: the lengths of every key and value (what ``max_bytes`` bounds)."""
        return self._bytes

    def __len__(self) -> int:
        return len(self._data)

    def __bool__(self) -> bool:
        return True  # an empty cache is still a cache (``cache or default`` must keep it)

    def _drop(self, key: str) -> None:
        value, _ = self._data.pop(key)
        self._bytes -= len(key) + len(value)

    def _store(self, key: str, value: bytes, expires: float | None) -> None:
        if key in self._data:
            self._drop(key)
        size = len(key) + len(value)
        if size > self._max_bytes:
            return  # larger than the whole budget: not cached at all (a cache may forget)
        self._data[key] = (value, expires)
        self._bytes += size
        if expires is not None:
            heapq.heappush(self._expiries, (expires, key))
            if len(self._expiries) > 2 * len(self._data) + 64:
                self._expiries = [(e, k) for k, (_, e) in self._data.items() if e is not None]
                heapq.heapify(self._expiries)
        while len(self._data) > self._max or self._bytes > self._max_bytes:
            oldest = next(iter(self._data))
            self._drop(oldest)

    def _purge_expired(self, budget: int = PURGE_PER_SET) -> None:
        now = self._now()
        heap = self._expiries
        while budget > 0 and heap and heap[0][0] <= now:
            expires, key = heapq.heappop(heap)
            item = self._data.get(key)
            if item is not None and item[1] == expires:
                self._drop(key)
                budget -= 1

    def _live(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        value, expires = item
        if expires is not None and expires <= self._now():
            self._drop(key)
            return None
        self._data.move_to_end(key)
        return value

    async def get(self, key: str) -> bytes | None:
        return self._live(key)

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self._purge_expired()
        self._store(key, value, None if ttl is None else self._now() + ttl)

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        if self._live(key) is not None:
            return False
        await self.set(key, value, ttl)
        return True

    async def pop(self, key: str) -> bytes | None:
        value = self._live(key)
        if value is not None:
            self._drop(key)
        return value

    async def delete(self, *keys: str) -> int:
        doomed = [k for k in dict.fromkeys(keys) if k in self._data]
        for k in doomed:
            self._drop(k)
        return len(doomed)

    async def delete_prefix(self, prefix: str) -> int:
        doomed = [k for k in self._data if k.startswith(prefix)]
        for k in doomed:
            self._drop(k)
        return len(doomed)

    async def incr(self, key: str) -> int:
        current = self._live(key)
        value = int(current or b"0") + 1
        _, expires = self._data.get(key, (b"", None))
        self._store(key, str(value).encode(), expires)
        return value

    async def publish(self, channel: str, message: bytes) -> None:
        for queue in self._subscribers.get(channel, []):
            queue.put_nowait(message)

    async def subscribe(self, channel: str) -> AsyncIterator[bytes]:
        queue: asyncio.Queue[bytes] = asyncio.Queue()
        self._subscribers.setdefault(channel, []).append(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers[channel].remove(queue)

    async def ping(self) -> None:
        return None

    async def close(self) -> None:
        self._data.clear()
        self._expiries.clear()
        self._bytes = 0


__all__ = ["DEFAULT_MAX_BYTES", "DEFAULT_MAX_ENTRIES", "MemoryCache"]
