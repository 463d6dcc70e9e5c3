"""Plug point: ``services.components["status"]`` is the ``StatusListFetcher``."""

from __future__ import annotations

from typing import Any

from trustbridge.fetch import fetcher_of
from trustbridge.services import Services
from trustbridge.status.fetcher import StatusListFetcher

NAME = "status"


def safe_fetcher_of(services: Services) -> Any:
    """The SSRF-safe fetcher: the component the DID package attached (a test may put its own
    transport there), else a ``trustbridge.fetch.SafeFetcher`` from the settings."""
    existing = services.components.get("fetcher")
    if existing is not None:
        return existing
    return fetcher_of(services)


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
