"""Plug point: ``services.components["status"]`` is the ``StatusListFetcher``."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from trustbridge.services import Services
from trustbridge.status.fetcher import StatusListFetcher

log = logging.getLogger(__name__)

NAME = "status"


FALLBACK = "safe_fetcher_fallback"


def safe_fetcher_of(services: Services) -> Any:
    """The SSRF-safe fetcher the DID package provides, or this package's fallback adapter."""
    existing = services.components.get("fetcher") or services.components.get(FALLBACK)
    if existing is not None:
        return existing
    try:
        fetch_module = importlib.import_module("trustbridge.fetch")
    except ModuleNotFoundError as exc:
        if exc.name not in ("trustbridge.fetch", "trustbridge"):
            raise
        from trustbridge.status._fallback_fetcher import FallbackSafeFetcher

        log.info("trustbridge.fetch not installed; status lists and schemas use the fallback "
                 "SSRF-safe fetcher")
        fallback = FallbackSafeFetcher.from_settings(services.settings)
        services.components[FALLBACK] = fallback  # closed with the services
        return fallback
    factory = getattr(fetch_module, "fetcher_of", None)
    if callable(factory):
        return factory(services)
    return fetch_module.SafeFetcher.from_settings(services.settings)


async def attach(services: Services) -> None:
    s = services.settings
    services.components[NAME] = StatusListFetcher(
        safe_fetcher_of(services), services.cache,
        max_bytes=s.status_list_max_bytes,
        default_ttl=float(s.status_list_ttl_seconds),
        max_ttl=float(s.status_list_max_ttl_seconds),
    )


def status_lists_of(services: Services) -> StatusListFetcher:
    component = services.components.get(NAME)
    if not isinstance(component, StatusListFetcher):
        raise RuntimeError("status component is not attached")
    return component


__all__ = ["attach", "safe_fetcher_of", "status_lists_of"]
