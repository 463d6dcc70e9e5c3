"""Key Binding (RFC 9901 §4.3, §7.3) and holder identifiers -- pure.

The KB-JWT proves possession of the key the issuer bound in ``cnf`` (RFC 7800) and
ties the presentation to a verifier (``aud``), a transaction (``nonce``), a time
(``iat``) and exactly the SD-JWT presented (``sd_hash``). The signature itself is
verified by the caller with the ``cnf`` key; the replay check compares nonce/aud
with what the caller expects and judges ``iat``'s age.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

from trustbridge.crypto.base64url import b64url_encode
from trustbridge.formats.sd_jwt.disclosures import SdJwtError, digest_of

KB_TYP = "kb+jwt"
THUMBPRINT_URN = "urn:ietf:params:oauth:jwk-thumbprint:sha-256:"
_REQUIRED_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"),
                     "RSA": ("e", "kty", "n")}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638 SHA-256 thumbprint over the required members in lexicographic order."""
    members = _REQUIRED_MEMBERS.get(str(jwk.get("kty")))
    if members is None or any(not isinstance(jwk.get(m), str) for m in members):
        raise SdJwtError("cnf.jwk is not a usable public JWK", code="sd_jwt.cnf_invalid")
    canonical = json.dumps({m: jwk[m] for m in members}, separators=(",", ":"), sort_keys=True)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def holder_of(cnf: Any) -> str | None:
    """Who holds the credential: the DID of a ``cnf.kid`` DID URL, else the RFC 9278 thumbprint
    URI of ``cnf.jwk``; ``None`` when there is no usable confirmation key."""
    if not isinstance(cnf, Mapping):
        return None
    kid = cnf.get("kid")
    if isinstance(kid, str) and kid.startswith("did:"):
        return kid.split("#", 1)[0]
    jwk = cnf.get("jwk")
    if isinstance(jwk, Mapping):
        try:
            return THUMBPRINT_URN + jwk_thumbprint(jwk)
        except SdJwtError:
            return None
    return None


def check_kb_claims(header: Mapping[str, Any], payload: Mapping[str, Any], *, presented: str,
                    sd_alg: str) -> None:
    """§7.3 steps 2 and 5 (except the signature): typ, iat/nonce/aud present, sd_hash matches."""
    if header.get("typ") != KB_TYP:
        raise SdJwtError(f"the KB-JWT typ is {header.get('typ')!r}, not {KB_TYP!r}",
                         code="sd_jwt.kb_typ_invalid")
    iat = payload.get("iat")
    nonce = payload.get("nonce")
    aud = payload.get("aud")
    if isinstance(iat, bool) or not isinstance(iat, int | float) or not isinstance(nonce, str) \
            or not (isinstance(aud, str) or (isinstance(aud, list) and aud
                                             and all(isinstance(a, str) for a in aud))):
        raise SdJwtError("the KB-JWT lacks iat, nonce or aud", code="sd_jwt.kb_claims_missing")
    sd_hash = payload.get("sd_hash")
    if not isinstance(sd_hash, str) or sd_hash != digest_of(presented, sd_alg):
        raise SdJwtError("the KB-JWT's sd_hash does not cover the presented SD-JWT",
                         code="sd_jwt.kb_sd_hash_mismatch")


__all__ = ["KB_TYP", "THUMBPRINT_URN", "check_kb_claims", "holder_of", "jwk_thumbprint"]
