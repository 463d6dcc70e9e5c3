"""did:web (W3C CCG did:web method spec §3.2 Read): the document lives at an HTTPS URL
derived from the DID, fetched through the SSRF-safe ``SafeFetcher``.

1. ``did:web:<host>[%3A<port>][:<path>…]`` → ``https://<host>[:<port>]/<path…>/did.json``,
   or ``/.well-known/did.json`` without a path; every segment is percent-decoded and must
   not be empty, ``.``/``..`` or smuggle ``/``, ``?``, ``#``, ``@`` or ``\\``;
2. the fetch is HTTPS, SSRF-checked, size-capped, no redirects (``trustbridge.fetch``);
3. the response's content type is a DID or JSON type and the document's ``id`` is the DID.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from urllib.parse import unquote

from trustbridge.did.interface import INVALID_DID, DIDError
from trustbridge.did.syntax import parse_did
from trustbridge.fetch import FetchedDocument, SafeFetcher

ACCEPT = "application/did+json, application/did+ld+json, application/json"
_HOSTNAME = re.compile(r"(?=.{1,253}\Z)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)"
                       r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*\.?", re.ASCII)
_FORBIDDEN_IN_SEGMENT = set("/?#@\\%") | {chr(c) for c in range(0x21)} | {"\x7f"}


@dataclass(frozen=True)
class WebLocation:
    host: str  # as it goes in the URL (IPv6 in brackets)
    port: int | None
    path: tuple[str, ...]

    @property
    def url(self) -> str:
        authority = self.host if self.port is None else f"{self.host}:{self.port}"
        tail = "/".join(self.path) + "/did.json" if self.path else ".well-known/did.json"
        return f"https://{authority}/{tail}"


def did_web_location(did: str) -> WebLocation:
    """Step 1 (pure): where the document of ``did`` lives; ``DIDError(invalidDid)`` if nowhere."""
    parsed = parse_did(did)
    if parsed.method != "web":
        raise DIDError("not a did:web", error=INVALID_DID)
    first, *segments = parsed.method_specific_id.split(":")
    authority = unquote(first).lower()
    host, port = authority, None
    if authority.startswith("["):
        inner, _, after = authority[1:].partition("]")
        try:
            ipaddress.IPv6Address(inner)
        except ValueError as exc:
            raise DIDError("did:web IPv6 literal is not an address", error=INVALID_DID) from exc
        host = f"[{inner}]"
        if after:
            if not after.startswith(":"):
                raise DIDError("did:web authority is malformed", error=INVALID_DID)
            port = _port(after[1:])
    elif ":" in authority:
        host, _, port_text = authority.partition(":")
        port = _port(port_text)
    if not host.startswith("[") and _HOSTNAME.fullmatch(host) is None:
        raise DIDError("did:web host is not a host name", error=INVALID_DID)
    path = tuple(unquote(s) for s in segments)
    for seg in path:
        if not seg or seg in (".", "..") or _FORBIDDEN_IN_SEGMENT & set(seg) or not seg.isascii():
            raise DIDError("did:web path segment is not allowed", error=INVALID_DID)
    return WebLocation(host.rstrip("."), port, path)


def _port(text: str) -> int:
    if not text.isdigit() or not 0 < int(text) < 65536:
        raise DIDError("did:web port is not a port number", error=INVALID_DID)
    return int(text)


async def fetch_did_web(did: str, fetcher: SafeFetcher, *, max_bytes: int) -> FetchedDocument:
    """Steps 1-2; ``FetchError`` from the fetcher passes through for the resolver to map."""
    return await fetcher.fetch(did_web_location(did).url, accept=ACCEPT, max_bytes=max_bytes)


__all__ = ["ACCEPT", "WebLocation", "did_web_location", "fetch_did_web"]
