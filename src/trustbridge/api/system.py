"""Operational endpoints: liveness, readiness, metrics, OpenAPI, offline API docs."""

from __future__ import annotations

import asyncio
from importlib import resources
from typing import Any

from aiohttp import web
from pydantic import BaseModel

from trustbridge import __version__
from trustbridge.api.metrics import Metrics
from trustbridge.api.middlewares import _metrics_key
from trustbridge.api.openapi import ApiRoutes, Endpoint, build_openapi
from trustbridge.api.problems import problem_response
from trustbridge.errors import InfrastructureError

routes = ApiRoutes()
_endpoints_key = web.AppKey("all_endpoints", list[Endpoint])


class Health(BaseModel):
    status: str
    version: str


class Readiness(BaseModel):
    status: str
    checks: dict[str, str]


@routes.route("GET", "/health", summary="Liveness: the process answers.", tags=("system",),
              response=Health)
async def health(request: web.Request) -> web.Response:
    return web.json_response({"status": "ok", "version": __version__})


@routes.route("GET", "/ready", summary="Readiness: store and cache reachable (status "
              "`degraded` while Redis is down and the in-process cache serves).",
              tags=("system",), response=Readiness,
              responses={503: "A dependency is down (named in detail)"})
async def ready(request: web.Request) -> web.Response:
    services = request.app["services"]
    checks: dict[str, str] = {}
    failing: list[str] = []
    for name, probe in (("store", services.db.ping), ("cache", services.cache.ping)):
        try:
            await asyncio.wait_for(probe(), timeout=2.0)
            checks[name] = "ok"
        except (InfrastructureError, TimeoutError, OSError) as exc:
            checks[name] = f"failing: {exc}"
            failing.append(name)
    if failing:
        return problem_response(503, "service.not_ready", "Service unavailable",
                                f"not ready: {', '.join(failing)} failing",
                                extra={"checks": checks})
    sync = await _registry_sync(services)
    if sync is not None:
        checks["registry_sync"] = sync
    # Redis behind FallbackCache: verification goes on from the in-process cache, so the node
    # stays in rotation; nonces, sessions and idempotency keys answer 503 meanwhile.
    degraded = getattr(services.cache, "degraded_reason", None)
    if degraded:
        checks["cache"] = f"degraded: {degraded}"
        return web.json_response({"status": "degraded", "checks": checks})
    return web.json_response({"status": "ready", "checks": checks})


async def _registry_sync(services: Any) -> str | None:
    """One line on the registry sync peers (details: ``/v1/registry/sync/status``). Only
    informational: a failing peer does not take this node out of rotation."""
    store = getattr(services.components.get("sync"), "store", None)
    if store is None:
        return None
    try:
        peers = await asyncio.wait_for(store.peers(), timeout=2.0)
    except (InfrastructureError, TimeoutError, OSError) as exc:
        return f"unknown: {exc}"
    failing = [p.url for p in peers if p.last_error]
    if failing:
        return f"lagging: {len(failing)} of {len(peers)} peers failing ({', '.join(failing[:3])})"
    return f"ok: {len(peers)} peers"


@routes.route("GET", "/metrics", summary="Prometheus metrics.", tags=("system",),
              response_content_type="text/plain")
async def metrics(request: web.Request) -> web.Response:
    m: Metrics = request.app[_metrics_key]
    return web.Response(text=m.render(), content_type="text/plain",
                        headers={"X-Content-Type-Options": "nosniff"})


@routes.route("GET", "/openapi.json", summary="OpenAPI 3.1 description of every endpoint.",
              tags=("system",))
async def openapi(request: web.Request) -> web.Response:
    doc = request.app.get("openapi_doc")
    if doc is None:
        doc = build_openapi(request.app[_endpoints_key], version=__version__)
    return web.json_response(doc)


@routes.route("GET", "/docs", summary="Rendered API documentation (works offline).",
              tags=("system",), response_content_type="text/html")
async def docs(request: web.Request) -> web.Response:
    html = resources.files("trustbridge.api").joinpath("static/docs.html").read_text("utf-8")
    return web.Response(text=html, content_type="text/html")


__all__ = ["_endpoints_key", "routes"]
