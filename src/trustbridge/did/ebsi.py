"""did:ebsi legal-entity DIDs (EBSI DID method v1), read from the DID Registry.

1. syntax: ``did:ebsi:z`` + base58btc(0x01 version byte || 16 random bytes), as EBSI's
   ebsi-did-resolver ``validate`` checks;
2. the document comes first from this node's own registry (``LocalDocumentSource``, filled
   by registry sync), else from ``GET {ebsi_didr_url}/identifiers/{did}`` (DIDR API v5)
   through the SSRF-safe fetcher; no upstream configured and nothing local → ``notFound``.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable
from urllib.parse import quote

from trustbridge.crypto._errors import MalformedInput
from trustbridge.crypto.multibase import decode_multibase
from trustbridge.did.interface import INVALID_DID, DIDError
from trustbridge.did.syntax import parse_did
from trustbridge.fetch import FetchedDocument, SafeFetcher

LEGAL_ENTITY_VERSION = 0x01
SUBJECT_ID_BYTES = 16
ACCEPT = "application/did+ld+json, application/did+json, application/json"


@runtime_checkable
class LocalDocumentSource(Protocol):
    """DID documents this node already holds (the registry's synced DIDR copy)."""

    async def get_did_document(self, did: str) -> dict[str, Any] | None: ...


LocalSourceProvider = Callable[[], LocalDocumentSource | None]


def check_did_ebsi(did: str) -> None:
    """Step 1 (pure): ``DIDError(invalidDid)`` unless a v1 legal-entity did:ebsi."""
    parsed = parse_did(did)
    if parsed.method != "ebsi":
        raise DIDError("not a did:ebsi", error=INVALID_DID)
    ident = parsed.method_specific_id
    if not ident.startswith("z"):
        raise DIDError("did:ebsi ids are base58btc multibase ('z')", error=INVALID_DID)
    try:
        raw = decode_multibase(ident)
    except MalformedInput as exc:
        raise DIDError("did:ebsi id is not base58btc", error=INVALID_DID) from exc
    if len(raw) != 1 + SUBJECT_ID_BYTES or raw[0] != LEGAL_ENTITY_VERSION:
        raise DIDError("did:ebsi ids are version 0x01 followed by 16 bytes", error=INVALID_DID)


def didr_url(base: str, did: str) -> str:
    return f"{base.rstrip('/')}/identifiers/{quote(did, safe=':')}"


async def local_document(did: str, provider: LocalSourceProvider | None) -> bytes | None:
    """Step 2a: the registry's copy as bytes, if it has one."""
    source = provider() if provider is not None else None
    if source is None:
        return None
    doc = await source.get_did_document(did)
    return None if doc is None else json.dumps(doc).encode("utf-8")


async def fetch_did_ebsi(did: str, fetcher: SafeFetcher, base_url: str, *,
                         max_bytes: int) -> FetchedDocument:
    """Step 2b: the upstream DIDR (``FetchError`` passes through)."""
    return await fetcher.fetch(didr_url(base_url, did), accept=ACCEPT, max_bytes=max_bytes)


__all__ = ["LocalDocumentSource", "LocalSourceProvider", "check_did_ebsi", "didr_url",
           "fetch_did_ebsi", "local_document"]
