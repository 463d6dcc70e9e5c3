"""Redis cache: shared by every node, so nonces, sessions and invalidations cross nodes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from trustbridge.errors import InfrastructureError

_KEY_PREFIX = "tb:"


class RedisCache:
    """Thin async wrapper; every Redis failure becomes ``InfrastructureError``."""

    def __init__(self, client: Any, *, prefix: str = _KEY_PREFIX) -> None:
        self._r = client
        self._prefix = prefix

    @classmethod
    def from_url(cls, url: str, *, prefix: str = _KEY_PREFIX) -> RedisCache:
        client = aioredis.from_url(url, socket_timeout=5, socket_connect_timeout=5)
        return cls(client, prefix=prefix)

    def _k(self, key: str) -> str:
        return self._prefix + key

    async def get(self, key: str) -> bytes | None:
        try:
            value: bytes | None = await self._r.get(self._k(key))
        except RedisError as exc:
            raise InfrastructureError(f"redis get failed: {exc}") from exc
        return value

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        try:
            if ttl is None:
                await self._r.set(self._k(key), value)
            else:
                await self._r.set(self._k(key), value, px=max(1, int(ttl * 1000)))
        except RedisError as exc:
            raise InfrastructureError(f"redis set failed: {exc}") from exc

    async def set_if_absent(self, key: str, value: bytes, ttl: float | None = None) -> bool:
        try:
            px = None if ttl is None else max(1, int(ttl * 1000))
            return bool(await self._r.set(self._k(key), value, nx=True, px=px))
        except RedisError as exc:
            raise InfrastructureError(f"redis set failed: {exc}") from exc

    async def pop(self, key: str) -> bytes | None:
        try:
            value: bytes | None = await self._r.getdel(self._k(key))
        except RedisError as exc:
            raise InfrastructureError(f"redis getdel failed: {exc}") from exc
        return value

    async def delete(self, *keys: str) -> int:
        if not keys:
            return 0
        try:
            return int(await self._r.delete(*(self._k(k) for k in keys)))
        except RedisError as exc:
            raise InfrastructureError(f"redis delete failed: {exc}") from exc

    async def delete_prefix(self, prefix: str) -> int:
        count = 0
        try:
            async for key in self._r.scan_iter(match=self._k(prefix) + "*", count=500):
                count += int(await self._r.delete(key))
        except RedisError as exc:
            raise InfrastructureError(f"redis scan failed: {exc}") from exc
        return count

    async def incr(self, key: str) -> int:
        try:
            return int(await self._r.incr(self._k(key)))
        except RedisError as exc:
            raise InfrastructureError(f"redis incr failed: {exc}") from exc

    async def publish(self, channel: str, message: bytes) -> None:
        try:
            await self._r.publish(self._k(channel), message)
        except RedisError as exc:
            raise InfrastructureError(f"redis publish failed: {exc}") from exc

    async def subscribe(self, channel: str) -> AsyncIterator[bytes]:
        pubsub = self._r.pubsub()
        await pubsub.subscribe(self._k(channel))
        try:
            while True:
                msg = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if msg is not None and isinstance(msg.get("data"), bytes):
                    yield msg["data"]
        finally:
            await pubsub.unsubscribe()
            await pubsub.aclose()

    async def ping(self) -> None:
        try:
            await self._r.ping()
        except (RedisError, OSError) as exc:
            raise InfrastructureError(f"redis unreachable: {exc}") from exc

    async def close(self) -> None:
        await self._r.aclose()


__all__ = ["RedisCache"]
