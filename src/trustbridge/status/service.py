"""Plug point: ``services.components["status"]`` is the ``StatusListFetcher``."""

from __future__ import annotations

import importlib
import logging
from typing import Any

from trustbridge.services import Services
from trustbridge.status.fetcher import StatusListFetcher

log = logging.getLogger(__name__)

NAME = "status"


def safe_fetcher_of(services: Services) -> Any:
    """The SSRF-safe fetcher the DID package provides, or ``None`` if it is not installed."""
    existing = services.components.get("fetcher")
    if existing is not None:
        return existing
    try:
        fetch_module = importlib.import_module("trustbridge.fetch")
    except ModuleNotFoundError:
        log.warning("trustbridge.fetch is not installed: status lists and remote schemas "
                    "cannot be fetched (checks report indeterminate)")
        return None
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
