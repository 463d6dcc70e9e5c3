"""The in-process cache's bounds: bytes as well as entries, and expired entries purged on
writes even when nobody reads them again (issue 8: the soak's memory gate)."""

from __future__ import annotations

from trustbridge.cache.memory import PURGE_PER_SET, MemoryCache
from trustbridge.config import Settings


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


REPORT = b"r" * 12 * 1024  # a cached verification report is ~12 KiB


async def test_byte_budget_evicts_least_recently_used() -> None:
    c = MemoryCache(max_entries=50_000, max_bytes=100 * 1024)
    for i in range(8):  # 8 x ~12 KiB fit in 100 KiB
        await c.set(f"result:{i}", REPORT, ttl=300)
    assert len(c) == 8
    await c.get("result:0")  # most recently used now
    await c.set("result:8", REPORT, ttl=300)
    assert await c.get("result:1") is None  # the least recently used went
    assert await c.get("result:0") == REPORT
    assert c.nbytes <= 100 * 1024


async def test_bytes_stay_within_budget_under_many_writes() -> None:
    budget = 1024 * 1024
    c = MemoryCache(max_entries=50_000, max_bytes=budget)
    for i in range(2_000):  # ~24 MiB offered to a 1 MiB budget
        await c.set(f"result:{i}", REPORT + str(i).encode(), ttl=300)
        assert c.nbytes <= budget
    assert len(c) == budget // (len(REPORT) + 20)  # as many as fit, the newest ones
    assert await c.get("result:1999") is not None
    assert await c.get("result:0") is None


async def test_bytes_accounting_follows_every_removal() -> None:
    clock = Clock()
    c = MemoryCache(max_bytes=10_000, monotonic=clock)
    await c.set("a:1", b"x" * 100)
    await c.set("a:2", b"x" * 100)
    await c.set("b:1", b"x" * 100, ttl=5)
    await c.set("b:2", b"x" * 100)
    await c.set("b:2", b"y" * 10)  # overwrite: the old value's bytes are returned
    assert c.nbytes == 4 * 3 + 3 * 100 + 10
    assert await c.delete_prefix("a:") == 2
    assert await c.pop("b:2") == b"y" * 10
    assert c.nbytes == 3 + 100
    clock.now += 10
    assert await c.get("b:1") is None  # expired on read
    assert c.nbytes == 0
    assert await c.incr("n") == 1
    assert await c.incr("n") == 2
    assert c.nbytes == 2
    assert await c.delete("n", "n", "missing") == 1
    assert c.nbytes == 0 and len(c) == 0


async def test_value_larger_than_the_budget_is_not_kept() -> None:
    c = MemoryCache(max_bytes=1024)
    await c.set("small", b"s")
    await c.set("big", b"b" * 2048)
    assert await c.get("big") is None
    assert await c.get("small") == b"s"  # nothing else evicted for it
    await c.set("small", b"b" * 2048)  # replacing with an oversized value drops the old one
    assert await c.get("small") is None
    assert c.nbytes == 0


async def test_expired_entries_are_purged_by_writes_without_reads() -> None:
    clock = Clock()
    c = MemoryCache(monotonic=clock)
    for i in range(1_000):
        await c.set(f"did:{i}", b"doc", ttl=30)
    await c.set("forever", b"kept")  # no TTL: only LRU pressure removes it
    clock.now += 31
    for i in range(100):  # every set purges up to PURGE_PER_SET expired entries
        await c.set(f"result:{i}", REPORT, ttl=30)
    assert len(c) == 1_000 - 100 * PURGE_PER_SET + 100 + 1
    for i in range(100):
        await c.set(f"late:{i}", b"x", ttl=30)
    assert len(c) == 100 + 100 + 1  # every expired entry is gone, none of the live ones
    assert await c.get("forever") == b"kept"
    assert await c.get("result:0") == REPORT


async def test_rewritten_key_keeps_its_new_expiry() -> None:
    clock = Clock()
    c = MemoryCache(monotonic=clock)
    await c.set("k", b"old", ttl=10)
    await c.set("k", b"new", ttl=100)  # the first expiry is stale now
    clock.now += 20
    await c.set("other", b"x")  # purges: must not drop k for its old expiry
    assert await c.get("k") == b"new"


async def test_expiry_index_does_not_outgrow_the_entries() -> None:
    clock = Clock()
    c = MemoryCache(max_entries=100, monotonic=clock)
    for i in range(10_000):  # the same few keys rewritten over and over (counters, nonces)
        await c.set(f"k:{i % 50}", b"v", ttl=60)
    assert len(c) == 50
    assert len(c._expiries) <= 2 * 50 + 64


def test_settings_default_budget() -> None:
    assert Settings().cache_max_bytes == 128 * 1024 * 1024
