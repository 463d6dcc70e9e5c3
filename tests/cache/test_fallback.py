"""``FallbackCache`` over a real redis-server that is SIGKILLed and started again.

* healthy: the whole cache contract holds through the wrapper;
* Redis gone: cached facts are served in-process, shared-only keys (OpenID4VP nonces and
  sessions, idempotency records) raise ``InfrastructureError`` (fail closed), local
  publishes still reach this node's subscribers, ``degraded_reason`` says why;
* Redis back: one probe after the back-off recovers without a restart, the deletions made
  meanwhile are replayed on Redis, and the remote subscription is renewed.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path

import pytest

from tests.cache.redis_proc import RedisProcess
from tests.cache.test_cache_contract import (  # the contract, run again through the wrapper
    test_delete_and_prefix,
    test_get_set_roundtrip,
    test_incr_counts,
    test_ping,
    test_pop_consumes_once,
    test_publish_reaches_subscriber,
    test_set_if_absent_is_single_winner,
    test_ttl_expires,
)
from tests.conftest import free_port
from trustbridge.cache import Cache, open_cache
from trustbridge.cache.fallback import FallbackCache
from trustbridge.cache.memory import MemoryCache
from trustbridge.cache.redis import RedisCache
from trustbridge.errors import InfrastructureError

pytestmark = pytest.mark.redis

CONTRACT = (test_delete_and_prefix, test_get_set_roundtrip, test_incr_counts, test_ping,
            test_pop_consumes_once, test_publish_reaches_subscriber,
            test_set_if_absent_is_single_winner, test_ttl_expires)


@pytest.fixture
async def cache(redis_url: str) -> AsyncIterator[Cache]:
    """Overrides the contract's fixture: a healthy Redis behind the breaker."""
    remote = RedisCache.from_url(redis_url, prefix=f"t{uuid.uuid4().hex[:8]}:")
    c = FallbackCache(remote, MemoryCache(max_entries=1000), backoff=0.2)
    yield c
    assert c.degraded_reason is None and c.trips == 0
    await c.close()


@pytest.fixture
async def redis_proc(tmp_path: Path) -> AsyncIterator[RedisProcess]:
    proc = await RedisProcess(free_port(), data_dir=tmp_path).started()
    yield proc
    proc.stop()


async def _eventually(predicate: Callable[[], Awaitable[bool]], seconds: float = 10.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if await predicate():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not reached")


async def test_open_cache_wraps_redis_only_with_a_fallback(redis_url: str) -> None:
    wrapped = await open_cache(redis_url, fallback_seconds=5)
    bare = await open_cache(redis_url, fallback_seconds=0)
    try:
        assert isinstance(wrapped, FallbackCache) and isinstance(bare, RedisCache)
        assert isinstance(await open_cache(None, fallback_seconds=5), MemoryCache)
    finally:
        await wrapped.close()
        await bare.close()


async def test_sigkill_degrades_fails_closed_and_recovers(redis_proc: RedisProcess) -> None:
    remote = RedisCache.from_url(redis_proc.url)
    c = FallbackCache(remote, MemoryCache(max_entries=1000), backoff=0.3)
    await c.set("did:doc:web:a", b"D{}", ttl=60)
    await c.set("verify:result:stale", b"old", ttl=60)
    await c.set("oid4vp:nonce:s1", b"n", ttl=60)
    assert await c.get("did:doc:web:a") == b"D{}"
    received: list[bytes] = []

    async def listen() -> None:
        async for message in c.subscribe("registry.changed"):
            received.append(message)

    listener = asyncio.create_task(listen())
    await _eventually(lambda: _published(c, received, b"before"))

    # 1. SIGKILL: cached facts degrade to the in-process cache, shared state fails closed
    redis_proc.kill()
    assert await c.get("did:doc:web:a") is None  # not an error: a miss, fetched again
    assert c.degraded_reason is not None and "redis unreachable" in c.degraded_reason
    await c.set("did:doc:web:a", b"D{local}", ttl=60)
    assert await c.get("did:doc:web:a") == b"D{local}"
    assert await c.set_if_absent("hr:rate:t:1", b"0") is True
    assert await c.incr("hr:rate:t:1") == 1
    assert await c.delete_prefix("verify:result:") == 0  # remembered for Redis
    shared_ops: list[Callable[[], Awaitable[object]]] = [
        lambda: c.pop("oid4vp:nonce:s1"), lambda: c.set_if_absent("oid4vp:nonce:x", b"n"),
        lambda: c.get("oid4vp:session:s1"), lambda: c.set("hr:idem:k", b"r"),
        lambda: c.publish("oid4vp:events:s1", b"verified")]
    for shared in shared_ops:
        with pytest.raises(InfrastructureError):
            await shared()
    await c.publish("registry.changed", b"during")  # local subscribers still hear it
    await _eventually(lambda: _has(received, b"during"))
    await c.ping()  # never raises while degraded
    assert c.degraded_reason is not None and c.trips == 1

    # 2. back on the same port (its append-only file kept the data): one probe recovers
    await redis_proc.started()
    await asyncio.sleep(0.35)
    assert await c.get("did:doc:web:a") == b"D{}"  # Redis again, not the local copy
    assert c.degraded_reason is None and c.recoveries == 1
    assert await remote.get("verify:result:stale") is None  # the deletion was replayed
    assert await c.pop("oid4vp:nonce:s1") == b"n"  # shared state is back, consumed once
    assert await c.pop("oid4vp:nonce:s1") is None
    await _eventually(lambda: _published(c, received, b"after"))
    listener.cancel()
    await c.close()


async def test_probe_waits_for_the_backoff(redis_proc: RedisProcess) -> None:
    now = [100.0]
    c = FallbackCache(RedisCache.from_url(redis_proc.url), MemoryCache(), backoff=5.0,
                      monotonic=lambda: now[0])
    await c.set("schema:doc:a", b"1")
    redis_proc.kill()
    assert await c.get("schema:doc:a") is None and c.trips == 1
    await redis_proc.started()
    now[0] += 4.9  # within the back-off: the local cache serves, Redis is not asked
    assert await c.get("schema:doc:a") is None and c.degraded_reason is not None
    now[0] += 0.2
    assert await c.get("schema:doc:a") == b"1" and c.degraded_reason is None
    await c.close()


async def _has(received: list[bytes], message: bytes) -> bool:
    return message in received


async def _published(c: Cache, received: list[bytes], message: bytes) -> bool:
    await c.publish("registry.changed", message)
    await asyncio.sleep(0.05)
    return message in received
