"""Plug point: ``services.components["did"]`` is the ``CachingResolver``; ``resolver_of`` gets it.

``attach`` also publishes the shared ``SafeFetcher`` as ``services.components["fetcher"]``
(status lists, schemas and sync reuse it). did:ebsi documents are read first from a
``LocalDocumentSource`` found at resolution time: ``services.components["did_documents"]``,
or the registry component if it has ``get_did_document`` (the registry attaches after us).
"""

from __future__ import annotations

from trustbridge.did.ebsi import LocalDocumentSource
from trustbridge.did.resolver import CachingResolver
from trustbridge.fetch import SafeFetcher
from trustbridge.services import Services

NAME = "did"
FETCHER = "fetcher"
LOCAL_DOCUMENTS = "did_documents"


def _local_source(services: Services) -> LocalDocumentSource | None:
    for name in (LOCAL_DOCUMENTS, "registry"):
        candidate = services.components.get(name)
        if isinstance(candidate, LocalDocumentSource):
            return candidate
    return None


async def attach(services: Services) -> None:
    fetcher = services.components.get(FETCHER)
    if not isinstance(fetcher, SafeFetcher):
        fetcher = SafeFetcher.from_settings(services.settings)
        services.components[FETCHER] = fetcher
    services.components[NAME] = CachingResolver.from_settings(
        services.settings, cache=services.cache, fetcher=fetcher,
        local_source=lambda: _local_source(services))


def resolver_of(services: Services) -> CachingResolver:
    component = services.components.get(NAME)
    if not isinstance(component, CachingResolver):
        raise RuntimeError("the DID resolver is not attached")
    return component


__all__ = ["attach", "resolver_of"]
