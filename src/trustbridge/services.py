"""The service graph: settings -> store, cache, resolver, registry, verifier.

Built once per process by ``build_services`` and shared by the HTTP app and
the CLI. Each component gets its dependencies here, nowhere else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

from trustbridge.cache import Cache, open_cache
from trustbridge.clock import Clock, system_clock
from trustbridge.config import Settings
from trustbridge.features import import_feature
from trustbridge.store import Database, open_database

log = logging.getLogger(__name__)


@dataclass
class Services:
    settings: Settings
    db: Database
    cache: Cache
    clock: Clock = system_clock
    # Filled by the feature packages' ``attach`` functions (DID, registry, verify, …).
    components: dict[str, Any] = field(default_factory=dict)

    async def close(self) -> None:
        for comp in reversed(list(self.components.values())):
            closer = getattr(comp, "aclose", None)
            if closer is not None:
                await closer()
        await self.cache.close()
        await self.db.close()


async def build_services(settings: Settings) -> Services:
    """Open backends and wire components. Development-only backends warn loudly."""
    if settings.environment == "production" and not settings.database_url:
        log.warning("production environment on the embedded SQLite store: set DATABASE_URL")
    if settings.environment == "production" and not settings.redis_url:
        log.warning("production environment on the in-process cache: set REDIS_URL to share "
                    "nonces, sessions and invalidations between nodes")
    db = await open_database(settings.effective_database_url())
    try:
        cache = await open_cache(settings.redis_url, max_entries=settings.cache_max_entries,
                                 max_bytes=settings.cache_max_bytes,
                                 fallback_seconds=settings.redis_fallback_seconds)
    except Exception:
        await db.close()
        raise
    services = Services(settings=settings, db=db, cache=cache)
    for attach in _attachers():
        await attach(services)
    return services


# Each module here defines ``async def attach(services: Services) -> None`` that puts its
# component into ``services.components`` (dependency order matters).
ATTACH_MODULES: tuple[str, ...] = (
    "trustbridge.did.service",
    "trustbridge.registry.service",
    "trustbridge.trust.service",
    "trustbridge.status.service",
    "trustbridge.verify.service",
    "trustbridge.registry.sync_service",
    "trustbridge.oid4vp.service",
    "trustbridge.hr.service",
)


def _attachers() -> list[Any]:
    """The ``attach`` functions of the feature packages that are installed."""
    attachers: list[Any] = []
    for name in ATTACH_MODULES:
        module = import_feature(name)
        if module is not None:
            attachers.append(module.attach)
    return attachers


__all__ = ["Services", "build_services"]
