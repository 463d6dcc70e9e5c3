"""One contract, two backends: the in-process LRU and a real Redis."""

from __future__ import annotations

import asyncio

import pytest

from trustbridge.cache import Cache
from trustbridge.cache.memory import MemoryCache


async def test_get_set_roundtrip(cache: Cache) -> None:
    assert await cache.get("k") is None
    await cache.set("k", b"v")
    assert await cache.get("k") == b"v"


async def test_ttl_expires(cache: Cache) -> None:
    await cache.set("short", b"x", ttl=0.05)
    assert await cache.get("short") == b"x"
    await asyncio.sleep(0.12)
    assert await cache.get("short") is None


async def test_set_if_absent_is_single_winner(cache: Cache) -> None:
    results = await asyncio.gather(*(cache.set_if_absent("nonce", str(i).encode(), ttl=5)
                                     for i in range(20)))
    assert results.count(True) == 1


async def test_pop_consumes_once(cache: Cache) -> None:
    await cache.set("once", b"1", ttl=5)
    first, second = await asyncio.gather(cache.pop("once"), cache.pop("once"))
    assert sorted([first, second], key=lambda v: v is None) == [b"1", None]


async def test_delete_and_prefix(cache: Cache) -> None:
    await cache.set("a:1", b"1")
    await cache.set("a:2", b"2")
    await cache.set("b:1", b"3")
    assert await cache.delete_prefix("a:") == 2
    assert await cache.get("b:1") == b"3"
    assert await cache.delete("b:1", "missing") == 1


async def test_incr_counts(cache: Cache) -> None:
    assert await cache.incr("epoch") == 1
    assert await cache.incr("epoch") == 2


async def test_publish_reaches_subscriber(cache: Cache) -> None:
    received: list[bytes] = []
    started = asyncio.Event()

    async def listen() -> None:
        agen = cache.subscribe("events")
        started.set()
        async for msg in agen:
            received.append(msg)
            break

    task = asyncio.create_task(listen())
    await started.wait()
    # Redis subscription is established lazily: publish until delivered (bounded).
    for _ in range(50):
        await cache.publish("events", b"epoch:7")
        await asyncio.sleep(0.05)
        if task.done():
            break
    await asyncio.wait_for(task, timeout=5)
    assert received == [b"epoch:7"]


async def test_ping(cache: Cache) -> None:
    await cache.ping()


def test_memory_lru_evicts_oldest() -> None:
    async def run() -> None:
        c = MemoryCache(max_entries=2)
        await c.set("a", b"1")
        await c.set("b", b"2")
        await c.get("a")  # a is now most recent
        await c.set("c", b"3")
        assert await c.get("b") is None
        assert await c.get("a") == b"1"

    asyncio.run(run())


@pytest.mark.redis
async def test_redis_down_is_infrastructure_error() -> None:
    from tests.conftest import free_port
    from trustbridge.cache.redis import RedisCache
    from trustbridge.errors import InfrastructureError

    c = RedisCache.from_url(f"redis://127.0.0.1:{free_port()}/0")
    with pytest.raises(InfrastructureError):
        await c.ping()
    with pytest.raises(InfrastructureError):
        await c.get("x")
    await c.close()
