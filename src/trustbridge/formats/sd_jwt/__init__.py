"""SD-JWT VC (IETF SD-JWT VC draft over RFC 9901 SD-JWT) as a ``CredentialFormat``.

``format_of(services)`` is what ``verify.service.formats_for`` calls: it wires the
SSRF-safe fetcher and the cache for JWT VC Issuer Metadata.

Stable codes this format adds (for docs/codes.md):

* structure (failed, from parsing): ``sd_jwt.vct_missing``, ``sd_jwt.disclosure_malformed``,
  ``sd_jwt.disclosure_duplicate``, ``sd_jwt.disclosure_unreferenced`` (tampered or foreign
  Disclosure), ``sd_jwt.disclosure_misplaced``, ``sd_jwt.digest_duplicate``,
  ``sd_jwt.claim_overwrite``, ``sd_jwt.claim_name_reserved`` (``_sd``/``...``),
  ``sd_jwt.claim_not_disclosable`` (iss/nbf/exp/cnf/vct/status disclosed),
  ``sd_jwt.sd_alg_unsupported``, ``sd_jwt.malformed`` (nesting, ``_sd`` shape).
* credential_proof: failed ``sd_jwt.x5c_untrusted``, ``sd_jwt.x5c_invalid``,
  ``sd_jwt.x5c_issuer_mismatch``, ``sd_jwt.issuer_key_not_found``,
  ``sd_jwt.issuer_metadata_invalid``, ``sd_jwt.issuer_metadata_mismatch``,
  ``sd_jwt.issuer_not_https``, ``sd_jwt.issuer_key_unresolvable``; error
  ``sd_jwt.issuer_metadata_unavailable`` (indeterminate); plus the JWT codes
  (``alg.not_allowed``, ``header.typ_invalid``, ``header.untrusted_key``, ``kid.*``,
  ``signature.invalid``).
* presentation_proof: failed ``sd_jwt.kb_missing``, ``sd_jwt.kb_typ_invalid``,
  ``sd_jwt.kb_claims_missing``, ``sd_jwt.kb_sd_hash_mismatch``, ``sd_jwt.kb_signature_invalid``,
  ``sd_jwt.cnf_missing``, ``sd_jwt.cnf_invalid``, ``alg.not_allowed``.
* status (``trustbridge.status.token_status_list``): ``status.list_uri_mismatch``,
  ``status.value_unknown`` (error), and the shared ``status.*`` codes.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from cryptography import x509

from trustbridge.formats.jwt_vc_issuer import IssuerMetadataFetcher
from trustbridge.formats.sd_jwt.disclosures import SdJwtError
from trustbridge.formats.sd_jwt.format import SdJwtVcFormat

log = logging.getLogger(__name__)


def load_trust_anchors(path: Path | None) -> list[x509.Certificate]:
    """PEM certificates x5c chains may lead to; none (x5c never trusted) if unset or unreadable."""
    if path is None:
        return []
    try:
        return x509.load_pem_x509_certificates(path.read_bytes())
    except (OSError, ValueError):
        log.exception("SD-JWT x5c trust anchors in %s are unusable; x5c will not be trusted",
                      path)
        return []


def format_of(services: Any) -> SdJwtVcFormat:
    """The format with issuer-metadata fetching through the shared SSRF-safe fetcher and cache."""
    from trustbridge.status.service import safe_fetcher_of

    s = services.settings
    metadata = IssuerMetadataFetcher(safe_fetcher_of(services), services.cache,
                                     max_bytes=s.fetch_max_bytes,
                                     ttl=float(s.did_cache_ttl_seconds))
    anchors = load_trust_anchors(getattr(s, "sd_jwt_x5c_trust_anchors_file", None))
    return SdJwtVcFormat(allow_rsa=s.allow_rsa, issuer_metadata=metadata,
                         x5c_trust_anchors=anchors)


__all__ = ["SdJwtError", "SdJwtVcFormat", "format_of", "load_trust_anchors"]
