"""SD-JWT VC (IETF SD-JWT VC draft over RFC 9901 SD-JWT) as a ``CredentialFormat``.

``format_of(services)`` is what ``verify.service.formats_for`` calls: it wires the
SSRF-safe fetcher and the cache for JWT VC Issuer Metadata.
"""

from __future__ import annotations

from typing import Any

from trustbridge.formats.jwt_vc_issuer import IssuerMetadataFetcher
from trustbridge.formats.sd_jwt.disclosures import SdJwtError
from trustbridge.formats.sd_jwt.format import SdJwtVcFormat


def format_of(services: Any) -> SdJwtVcFormat:
    """The format with issuer-metadata fetching through the shared SSRF-safe fetcher and cache."""
    from trustbridge.status.service import safe_fetcher_of

    s = services.settings
    metadata = IssuerMetadataFetcher(safe_fetcher_of(services), services.cache,
                                     max_bytes=s.fetch_max_bytes,
                                     ttl=float(s.did_cache_ttl_seconds))
    return SdJwtVcFormat(allow_rsa=s.allow_rsa, issuer_metadata=metadata)


__all__ = ["SdJwtError", "SdJwtVcFormat", "format_of"]
