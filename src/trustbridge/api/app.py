"""The aiohttp application factory."""

from __future__ import annotations

from collections.abc import AsyncIterator

from aiohttp import web

from trustbridge import __version__
from trustbridge.api import streams, system
from trustbridge.api.metrics import Metrics
from trustbridge.api.middlewares import Gate, _metrics_key, edge
from trustbridge.api.openapi import ApiRoutes, Endpoint, build_openapi
from trustbridge.config import Settings
from trustbridge.features import import_feature
from trustbridge.runtime.memory import MemoryTrimmer
from trustbridge.services import Services, build_services

# Route modules, each exposing ``routes: ApiRoutes``.
ROUTE_MODULES: tuple[str, ...] = (
    "trustbridge.api.did",
    "trustbridge.api.verify",
    "trustbridge.api.vcapi",
    "trustbridge.api.registry",
    "trustbridge.api.sync",
    "trustbridge.api.oid4vp",
    "trustbridge.api.ui",
    "trustbridge.api.hr",
    "trustbridge.api.trqp",
)

# Feature modules exposing ``gate(settings) -> Gate | None``, run inside the edge middleware
# (in this order, the first outermost).
MIDDLEWARE_MODULES: tuple[str, ...] = ("trustbridge.api.ratelimit",
                                       "trustbridge.hr.idempotency",
                                       "trustbridge.hr.receipt_header")


def _feature_gates(settings: Settings) -> list[Gate]:
    found = (import_feature(name) for name in MIDDLEWARE_MODULES)
    gates = (module.gate(settings) for module in found if module is not None)
    return [g for g in gates if g is not None]


def _route_tables() -> list[ApiRoutes]:
    """Every installed route module's table."""
    tables: list[ApiRoutes] = [system.routes]
    for name in ROUTE_MODULES:
        module = import_feature(name)
        if module is not None:
            tables.append(module.routes)
    return tables


def create_app(
    settings: Settings | None = None, *, services: Services | None = None
) -> web.Application:
    """Build the app. Backends open on startup (or use the ``services`` given, for tests)."""
    settings = settings or (services.settings if services else Settings())
    app = web.Application(
        client_max_size=settings.max_body_bytes,
        middlewares=[edge(_feature_gates(settings))],
    )
    app["settings"] = settings
    app[_metrics_key] = Metrics()
    endpoints: list[Endpoint] = []
    for table in _route_tables():
        for ep in table.endpoints:
            app.router.add_route(ep.method, ep.path, ep.handler)
        endpoints.extend(table.endpoints)
    app[system._endpoints_key] = endpoints
    app["openapi_doc"] = build_openapi(endpoints, version=__version__)

    async def lifecycle(app: web.Application) -> AsyncIterator[None]:
        owned = services is None
        svc = services if services is not None else await build_services(settings)
        app["services"] = svc
        yield
        if owned:
            await svc.close()

    async def malloc_trim(app: web.Application) -> AsyncIterator[None]:
        # Freed heap pages back to the OS now and then (glibc only; runtime/memory.py).
        metrics = app[_metrics_key]

        def count(released: int) -> None:
            metrics.inc("malloc_trims_total")
            metrics.add("malloc_trim_released_bytes_total", released)

        trimmer = MemoryTrimmer(settings.malloc_trim_interval_seconds, on_trim=count)
        trimmer.start()
        yield
        await trimmer.stop()

    app.cleanup_ctx.append(lifecycle)
    app.cleanup_ctx.append(malloc_trim)
    streams.install(app)
    return app


__all__ = ["create_app"]
