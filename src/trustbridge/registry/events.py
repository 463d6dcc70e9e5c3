"""``registry.changed`` events: how a registry change reaches every node's caches.

Every applied change bumps the registry epoch and publishes one event on the
shared cache (Redis pub/sub across nodes, in-process otherwise)::

    {"dids": ["did:…", …], "epoch": 42, "node": "did:key:…"}

Anything that caches conclusions drawn from the registry subscribes::

    from trustbridge.registry.events import on_registry_change

    async def drop(event: RegistryChanged) -> None:
        for did in event.dids: ...

    on_registry_change(services, drop)

Events are hints, never facts: a subscriber drops cached entries and lets the
next request read the store again; it never applies what an event says.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any

from trustbridge.cache import Cache

log = logging.getLogger(__name__)

CHANNEL = "registry.changed"
MAX_DIDS_PER_EVENT = 5_000
_PROBE = b'{"probe":true}'


@dataclass(frozen=True)
class RegistryChanged:
    """Issuers whose records changed (``all_dids`` when too many to list), the new epoch and
    the node that applied the change."""

    dids: tuple[str, ...]
    epoch: int
    node: str
    all_dids: bool = False

    def to_bytes(self) -> bytes:
        return json.dumps({"dids": list(self.dids), "epoch": self.epoch, "node": self.node,
                           "all": self.all_dids}).encode("utf-8")

    @classmethod
    def from_bytes(cls, raw: bytes) -> RegistryChanged | None:
        try:
            data = json.loads(raw)
            dids = tuple(str(d) for d in data["dids"])
            return cls(dids, int(data["epoch"]), str(data["node"]), bool(data.get("all")))
        except (ValueError, KeyError, TypeError):
            return None

    def touches(self, did: str) -> bool:
        return self.all_dids or did in self.dids


Subscriber = Callable[[RegistryChanged], Awaitable[None]]


class RegistryEvents:
    """Publishes this node's changes and fans every node's changes out to subscribers."""

    def __init__(self, cache: Cache, *, node: str) -> None:
        self._cache = cache
        self.node = node
        self._subscribers: list[Subscriber] = []
        self._task: asyncio.Task[None] | None = None
        self._listening = asyncio.Event()
        self.received = 0

    def on_change(self, subscriber: Subscriber) -> None:
        """Call ``subscriber`` for every event, from any node (including this one)."""
        self._subscribers.append(subscriber)

    async def publish(self, dids: Iterable[str], epoch: int) -> RegistryChanged:
        listed = sorted(set(dids))
        many = len(listed) > MAX_DIDS_PER_EVENT
        event = RegistryChanged(() if many else tuple(listed), epoch, self.node, many)
        await self._cache.publish(CHANNEL, event.to_bytes())
        return event

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._listen(),
                                                                name="registry-events")

    async def wait_listening(self, within: float = 5.0) -> None:
        """Return once this node's subscription is live (probes until one comes back)."""
        async def probe() -> None:
            while not self._listening.is_set():
                await self._cache.publish(CHANNEL, _PROBE)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._listening.wait(), 0.1)

        await asyncio.wait_for(probe(), within)

    async def _listen(self) -> None:
        while True:
            try:
                async for raw in self._cache.subscribe(CHANNEL):
                    if raw == _PROBE:
                        self._listening.set()
                        continue
                    event = RegistryChanged.from_bytes(raw)
                    if event is None:
                        log.warning("ignoring a malformed registry.changed event")
                        continue
                    self.received += 1
                    await self._dispatch(event)
            except asyncio.CancelledError:
                raise
            except Exception:  # a Redis hiccup must not end invalidation for good
                log.exception("registry.changed subscription failed; resubscribing")
                await asyncio.sleep(1.0)

    async def _dispatch(self, event: RegistryChanged) -> None:
        for subscriber in list(self._subscribers):
            try:
                await subscriber(event)
            except Exception:
                log.exception("a registry.changed subscriber failed")

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None


def events_of(services: Any) -> RegistryEvents:
    component = services.components.get("registry_events")
    if not isinstance(component, RegistryEvents):
        raise RuntimeError("registry events are not attached (trustbridge.registry.sync_service)")
    return component


def on_registry_change(services: Any, subscriber: Subscriber) -> None:
    """Subscribe ``subscriber`` to every node's registry changes."""
    events_of(services).on_change(subscriber)


__all__ = ["CHANNEL", "RegistryChanged", "RegistryEvents", "Subscriber", "events_of",
           "on_registry_change"]
