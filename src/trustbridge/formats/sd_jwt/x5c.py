"""Issuer keys from an ``x5c`` chain (SD-JWT VC draft §2.5 / RFC 7515 §4.1.6) -- pure.

Only ever used when the operator configured X.509 trust anchors: a self-asserted
chain proves nothing. The leaf must name the issuer (``iss``) in its
subjectAltName (URI equal to ``iss``, or for an https ``iss`` a DNS name equal to
its host), and the chain must lead to an anchor at the verification time.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from cryptography import x509
from cryptography.x509 import verification

from trustbridge.formats.sd_jwt.disclosures import SdJwtError

MAX_CHAIN = 6


def _certs(x5c: Any) -> list[x509.Certificate]:
    if not isinstance(x5c, list) or not x5c or len(x5c) > MAX_CHAIN \
            or not all(isinstance(c, str) for c in x5c):
        raise SdJwtError("x5c is not a list of base64 certificates", code="sd_jwt.x5c_invalid")
    try:
        return [x509.load_der_x509_certificate(base64.b64decode(c, validate=True)) for c in x5c]
    except (ValueError, binascii.Error) as exc:
        raise SdJwtError("an x5c certificate cannot be parsed", code="sd_jwt.x5c_invalid") \
            from exc


def _names_issuer(leaf: x509.Certificate, iss: str) -> bool:
    try:
        san = leaf.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    if iss in san.get_values_for_type(x509.UniformResourceIdentifier):
        return True
    host = urlsplit(iss).hostname if iss.startswith("https://") else None
    return host is not None and host in [d.lower() for d in san.get_values_for_type(x509.DNSName)]


def verify_x5c(x5c: Any, anchors: Sequence[x509.Certificate], *, iss: str, at: datetime) -> Any:
    """The leaf's public key if the chain leads to an anchor and the leaf names ``iss``."""
    if not anchors:
        raise SdJwtError("x5c chains are not trusted: no X.509 trust anchors are configured",
                         code="sd_jwt.x5c_untrusted")
    leaf, *intermediates = _certs(x5c)
    builder = (verification.PolicyBuilder().store(verification.Store(list(anchors)))
               .time(at).max_chain_depth(MAX_CHAIN)
               .extension_policies(ca_policy=verification.ExtensionPolicy.webpki_defaults_ca(),
                                   ee_policy=verification.ExtensionPolicy.permit_all()))
    try:
        builder.build_client_verifier().verify(leaf, intermediates)
    except verification.VerificationError as exc:
        raise SdJwtError(f"the x5c chain does not lead to a trust anchor: {exc}",
                         code="sd_jwt.x5c_untrusted") from exc
    if not _names_issuer(leaf, iss):
        raise SdJwtError("the x5c leaf certificate does not name the issuer",
                         code="sd_jwt.x5c_issuer_mismatch")
    return leaf.public_key()


__all__ = ["verify_x5c"]
