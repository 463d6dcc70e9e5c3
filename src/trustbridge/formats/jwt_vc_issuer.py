"""JWT VC Issuer Metadata (SD-JWT VC draft §4): issuer keys from ``/.well-known/jwt-vc-issuer``.

For ``iss = https://example.com/tenant`` the metadata lives at
``https://example.com/.well-known/jwt-vc-issuer/tenant`` (§4.1, RFC 8615 insertion
between host and path). It carries ``jwks`` by value or a ``jwks_uri``; its
``issuer`` MUST equal ``iss`` (§4.3), else it is not used.

Fetching goes through the same SSRF-safe, size-capped ``DocumentFetcher`` the status
package uses (``trustbridge.status.fetcher.DocumentFetcher``). Raw bytes are cached
and re-validated on every read (python-tuf habit); ``parse_*`` here are pure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from trustbridge.cache import Cache
from trustbridge.errors import FetchError
from trustbridge.status.fetcher import DocumentFetcher, body_of

WELL_KNOWN = "/.well-known/jwt-vc-issuer"
KEY_PREFIX = "sdjwt:issuer-meta:"
ACCEPT = "application/json"
MAX_KEYS = 20


class IssuerMetadataError(ValueError):
    """Metadata that must not be used (bad data, not a fetch failure); ``code`` is stable."""

    def __init__(self, message: str, *, code: str = "sd_jwt.issuer_metadata_invalid") -> None:
        super().__init__(message)
        self.code = code


def metadata_url(iss: str) -> str:
    """§4.1: insert ``/.well-known/jwt-vc-issuer`` between host and path; https only."""
    parts = urlsplit(iss)
    if parts.scheme != "https" or not parts.hostname:
        raise IssuerMetadataError(f"iss {iss!r} is not an https URL",
                                  code="sd_jwt.issuer_not_https")
    if parts.query or parts.fragment:
        raise IssuerMetadataError("an issuer identifier has no query or fragment",
                                  code="sd_jwt.issuer_not_https")
    path = parts.path.rstrip("/")
    return urlunsplit(("https", parts.netloc, WELL_KNOWN + path, "", ""))


@dataclass(frozen=True)
class IssuerMetadata:
    issuer: str
    jwks: tuple[Mapping[str, Any], ...] | None
    jwks_uri: str | None


def _json_object(body: bytes, what: str) -> dict[str, Any]:
    try:
        doc = json.loads(body)
    except ValueError as exc:
        raise IssuerMetadataError(f"{what} is not JSON") from exc
    if not isinstance(doc, dict):
        raise IssuerMetadataError(f"{what} is not a JSON object")
    return doc


def parse_jwks(doc: Mapping[str, Any]) -> tuple[Mapping[str, Any], ...]:
    """RFC 7517 §5: ``{"keys": [...]}``; private members are refused (they must not be there)."""
    keys = doc.get("keys")
    if not isinstance(keys, list) or not keys or len(keys) > MAX_KEYS:
        raise IssuerMetadataError(f"the JWK Set must hold 1..{MAX_KEYS} keys")
    out: list[Mapping[str, Any]] = []
    for key in keys:
        if not isinstance(key, dict) or not isinstance(key.get("kty"), str):
            raise IssuerMetadataError("a JWK Set entry is not a JWK")
        if "d" in key:
            raise IssuerMetadataError("the JWK Set publishes a private key")
        out.append(key)
    return tuple(out)


def parse_issuer_metadata(body: bytes, *, iss: str) -> IssuerMetadata:
    """§4.2/§4.3: a JSON object whose ``issuer`` is ``iss``, with exactly one of jwks/jwks_uri."""
    doc = _json_object(body, "JWT VC Issuer Metadata")
    if doc.get("issuer") != iss:
        raise IssuerMetadataError("the metadata's issuer is not the credential's iss",
                                  code="sd_jwt.issuer_metadata_mismatch")
    has_jwks, has_uri = "jwks" in doc, "jwks_uri" in doc
    if has_jwks == has_uri:
        raise IssuerMetadataError("the metadata must carry exactly one of jwks and jwks_uri")
    if has_jwks:
        jwks = doc["jwks"]
        if not isinstance(jwks, dict):
            raise IssuerMetadataError("jwks is not a JWK Set")
        return IssuerMetadata(iss, parse_jwks(jwks), None)
    uri = doc["jwks_uri"]
    if not isinstance(uri, str) or urlsplit(uri).scheme != "https":
        raise IssuerMetadataError("jwks_uri is not an https URL")
    return IssuerMetadata(iss, None, uri)


class IssuerMetadataFetcher:
    """The issuer's JWK Set from its JWT VC Issuer Metadata, raw bytes cached for ``ttl``.

    ``fetch_jwks`` raises ``FetchError`` when the documents cannot be had (the caller
    reports *indeterminate*) and ``IssuerMetadataError`` when they are bad (*invalid*).
    """

    def __init__(self, fetcher: DocumentFetcher | None, cache: Cache | None, *,
                 max_bytes: int, ttl: float) -> None:
        self._fetcher = fetcher
        self._cache = cache
        self.max_bytes = max_bytes
        self.ttl = ttl

    async def _get(self, url: str) -> bytes:
        key = KEY_PREFIX + hashlib.sha256(url.encode("utf-8")).hexdigest()
        if self._cache is not None:
            cached = await self._cache.get(key)
            if cached is not None:
                return cached
        if self._fetcher is None:
            raise FetchError("no SSRF-safe fetcher is configured for issuer metadata",
                             code="sd_jwt.fetcher_unavailable")
        body = body_of(await self._fetcher.fetch(url, accept=ACCEPT, max_bytes=self.max_bytes))
        if len(body) > self.max_bytes:
            raise FetchError(f"{url} is larger than {self.max_bytes} bytes",
                             code="fetch.too_large")
        if self._cache is not None:
            await self._cache.set(key, body, ttl=self.ttl)
        return body

    async def forget(self, iss: str) -> None:
        """Drop cached metadata (e.g. after a kid was not found: the issuer may have rotated)."""
        if self._cache is not None:
            url = metadata_url(iss)
            await self._cache.delete(KEY_PREFIX + hashlib.sha256(url.encode()).hexdigest())

    async def fetch_jwks(self, iss: str) -> tuple[Mapping[str, Any], ...]:
        metadata = parse_issuer_metadata(await self._get(metadata_url(iss)), iss=iss)
        if metadata.jwks is not None:
            return metadata.jwks
        assert metadata.jwks_uri is not None
        return parse_jwks(_json_object(await self._get(metadata.jwks_uri), "jwks_uri document"))


__all__ = [
    "IssuerMetadata",
    "IssuerMetadataError",
    "IssuerMetadataFetcher",
    "metadata_url",
    "parse_issuer_metadata",
    "parse_jwks",
]
