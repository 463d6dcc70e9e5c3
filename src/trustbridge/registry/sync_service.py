"""Plug point: ``services.components["sync"]`` (``sync_of``) and ``["registry_events"]``.

Wires the sync engine to the store, the node key (configured, or generated once
and kept in ``node_state``), the DID resolver, the registry, the cache's pub/sub,
and starts the optional background work: periodic mirroring of peers, periodic
upstream import, and mirroring when another node announces a change.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trustbridge.registry._sync_http import RetryingGetter, getter_of
from trustbridge.registry.events import RegistryChanged, RegistryEvents
from trustbridge.registry.mirror import Mirror, MirrorResult
from trustbridge.registry.signed import NodeKey
from trustbridge.registry.sync import RegistryPort, SyncEngine
from trustbridge.registry.sync_store import SyncStore
from trustbridge.registry.upstream import MAX_TIR_PAGE, UpstreamSummary, UpstreamSync
from trustbridge.services import Services

log = logging.getLogger(__name__)

NAME = "sync"
EVENTS = "registry_events"
RESULT_CACHE_PREFIX = "verify:result:"


@dataclass
class SyncComponent:
    engine: SyncEngine
    store: SyncStore
    events: RegistryEvents
    mirror: Mirror
    upstream: UpstreamSync
    registry: RegistryPort
    peers: list[str]
    allow: Callable[[str], None] = lambda url: None  # trust a source named by the operator
    last_upstream: UpstreamSummary | None = None
    tasks: list[asyncio.Task[None]] = field(default_factory=list)
    _mirroring: asyncio.Lock = field(default_factory=asyncio.Lock)
    _mirror_queued: bool = False

    @property
    def node_did(self) -> str:
        return self.engine.node_key.did

    def request_mirror(self) -> None:
        """Pull the peers soon; a burst of events coalesces into one queued pull."""
        if self._mirror_queued or not self.peers:
            return
        self._mirror_queued = True

        async def pull() -> None:
            async with self._mirroring:
                self._mirror_queued = False
            await self.mirror_all()

        self.spawn(pull())

    async def mirror_all(self) -> list[MirrorResult]:
        """Pull every configured peer once (serialised: one pull at a time)."""
        async with self._mirroring:
            return [await self.mirror.pull(peer) for peer in self.peers]

    async def import_upstream(self, url: str, **kwargs: Any) -> UpstreamSummary:
        summary = await self.upstream.run(url, **kwargs)
        self.last_upstream = summary
        return summary

    async def status(self) -> dict[str, Any]:
        seq, digest = await self.store.current_head()
        counts = await self.store.counts()
        return {"node_did": self.node_did,
                "log": {"seq": seq, "hash": digest, **counts,
                        "epoch": await self.registry.epoch()},
                "peers": [p.to_json() for p in await self.store.peers()],
                "upstream": self.last_upstream.to_json() if self.last_upstream else None,
                "events_received": self.events.received}

    def start_background(self, mirror_every: float, upstream_url: str | None,
                         upstream_every: float) -> None:
        loop = asyncio.get_running_loop()
        if mirror_every > 0 and self.peers:
            self.tasks.append(loop.create_task(self._every(mirror_every, self.mirror_all),
                                               name="sync-mirror"))
        if upstream_every > 0 and upstream_url:
            async def pull_upstream() -> Any:
                return await self.import_upstream(upstream_url)

            self.tasks.append(loop.create_task(self._every(upstream_every, pull_upstream),
                                               name="sync-upstream"))

    @staticmethod
    async def _every(seconds: float, job: Any) -> None:
        while True:
            try:
                await job()
            except asyncio.CancelledError:
                raise
            except Exception:  # recorded per peer; the loop must survive a bad round
                log.exception("periodic sync job failed")
            await asyncio.sleep(seconds)

    def spawn(self, job: Any) -> None:
        """Run ``job`` in the background, kept referenced and cancelled on close."""
        task = asyncio.get_running_loop().create_task(job)
        self.tasks.append(task)
        task.add_done_callback(lambda t: self.tasks.remove(t) if t in self.tasks else None)

    async def aclose(self) -> None:
        for task in list(self.tasks):
            task.cancel()
        for task in list(self.tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        self.tasks.clear()
        await self.events.aclose()


def _resolver(services: Services) -> Any:
    try:
        from trustbridge.verify.service import resolver_for
    except ImportError:
        return None
    return resolver_for(services)


def _registry_port(services: Services, resolver: Any) -> RegistryPort:
    """The registry package (its store, facts and chain) behind sync's port."""
    from trustbridge.registry._sync_registry import port_of

    return port_of(services, resolver)


async def _node_key(services: Services, store: SyncStore) -> NodeKey:
    s = services.settings
    if s.sync_node_key_pem is not None:
        return NodeKey.from_pem(s.sync_node_key_pem.get_secret_value(), did=s.sync_node_did,
                                kid=s.sync_node_kid)
    pem = await store.node_key_pem()
    if pem is None:
        pem = await store.save_node_key_pem(NodeKey.generate().to_pem())
    return NodeKey.from_pem(pem, did=s.sync_node_did, kid=s.sync_node_kid)


def _invalidator(services: Services, component: SyncComponent) -> Any:
    async def on_change(event: RegistryChanged) -> None:
        # Cached verification results may depend on any issuer: drop them all.
        await services.cache.delete_prefix(RESULT_CACHE_PREFIX)
        registry = services.components.get("registry")
        invalidate = getattr(registry, "invalidate", None)
        if callable(invalidate):
            result = invalidate(None if event.all_dids else list(event.dids))
            if asyncio.iscoroutine(result):
                await result
        if (event.node != component.node_did and component.peers
                and services.settings.sync_mirror_on_event):
            component.request_mirror()

    return on_change


async def attach(services: Services) -> None:
    await services.db.migrate()  # the sync tables register at import time
    s = services.settings
    store = SyncStore(services.db)
    resolver = _resolver(services)
    key = await _node_key(services, store)
    registry = _registry_port(services, resolver)
    await services.db.migrate()  # and the registry tables, if the registry did not attach
    events = RegistryEvents(services.cache, node=key.did)
    engine = SyncEngine(store=store, registry=registry, resolver=resolver, node_key=key,
                        configured=dict(s.sync_registries), clock=lambda: services.clock(),
                        publish=lambda dids, epoch: _publish(services, events, dids, epoch))
    sources = [*s.sync_mirror_peers, *([s.sync_upstream_url] if s.sync_upstream_url else [])]
    getter = RetryingGetter(getter_of(services, sources))
    mirror = Mirror(engine=engine, store=store, getter=getter, resolver=resolver,
                    page_size=s.sync_page_size,
                    pinned={k.rstrip("/"): v for k, v in s.sync_mirror_pinned.items()},
                    clock=lambda: services.clock(),
                    head_max_age=s.sync_head_max_age_seconds)
    upstream = UpstreamSync(engine=engine, getter=getter,
                            page_size=min(s.sync_page_size, MAX_TIR_PAGE))
    component = SyncComponent(engine, store, events, mirror, upstream, registry,
                              [p.rstrip("/") for p in s.sync_mirror_peers],
                              allow=lambda url: _allow(services, getter, [*sources, url]))
    events.on_change(_invalidator(services, component))
    registry_component = services.components.get("registry")
    if registry_component is not None and hasattr(registry_component, "announce"):
        registry_component.announce = events.publish  # its imports and admin writes, too
    events.start()
    component.start_background(s.sync_mirror_interval_seconds, s.sync_upstream_url,
                               s.sync_upstream_interval_seconds)
    services.components[NAME] = component
    services.components[EVENTS] = events


def _allow(services: Services, getter: RetryingGetter, sources: list[str]) -> None:
    getter.inner = getter_of(services, sources)


async def _publish(services: Services, events: RegistryEvents, dids: set[str], epoch: int
                   ) -> None:
    # This process's registry reads its own change at once (the event comes back later).
    forget = getattr(services.components.get("registry"), "forget_epoch", None)
    if callable(forget):
        forget()
    await events.publish(dids, epoch)


def sync_of(services: Services) -> SyncComponent:
    component = services.components.get(NAME)
    if not isinstance(component, SyncComponent):
        raise RuntimeError("sync component is not attached")
    return component


__all__ = ["SyncComponent", "attach", "sync_of"]
