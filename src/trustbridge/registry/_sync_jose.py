"""Compact JWS for sync: signing with the node key, verification against a signer's DID.

JOSE is ``trustbridge.crypto.jws`` (algorithm allow-list, strict parsing); keys
come from the DID resolver the verifier uses (``verify.service.resolver_for``:
``trustbridge.did`` when installed, else the offline did:key/did:jwk adapter).
Batches may be far larger than an ordinary JWT, hence ``MAX_JWS_CHARS``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from trustbridge.crypto import jws as _jws
from trustbridge.did.interface import public_key_of
from trustbridge.did.resolver import offline_resolver

_ED25519_MULTICODEC = b"\xed\x01"
ALLOWED_ALGS = frozenset(_jws.DEFAULT_ALGS)
MAX_JWS_CHARS = 256 * 1024 * 1024


class JoseError(Exception):
    """A JWS could not be parsed or did not verify; ``code`` is a stable dotted code."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NodeKey:
    """The node's signing key and the DID/kid that name it."""

    private_key: ed25519.Ed25519PrivateKey
    did: str
    kid: str

    @classmethod
    def generate(cls) -> NodeKey:
        return cls.from_private(ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def from_private(cls, key: ed25519.Ed25519PrivateKey, *, did: str | None = None,
                     kid: str | None = None) -> NodeKey:
        """``did:key`` of ``key`` unless another DID (e.g. did:web) and kid are configured."""
        if did is None:
            raw = key.public_key().public_bytes(serialization.Encoding.Raw,
                                                serialization.PublicFormat.Raw)
            ident = "z" + base58.b58encode(_ED25519_MULTICODEC + raw).decode("ascii")
            did = f"did:key:{ident}"
            kid = kid or f"{did}#{ident}"
        return cls(key, did, kid or f"{did}#key-1")

    @classmethod
    def from_pem(cls, pem: str, *, did: str | None = None, kid: str | None = None) -> NodeKey:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError("the node key must be an Ed25519 private key (PKCS#8 PEM)")
        return cls.from_private(key, did=did, kid=kid)

    def to_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii")

    def sign(self, payload: dict[str, Any], *, typ: str) -> str:
        """Compact JWS (EdDSA) over the JSON ``payload``."""
        return sign_compact(payload, self.private_key, kid=self.kid, typ=typ)


def sign_compact(payload: dict[str, Any], key: ed25519.Ed25519PrivateKey, *, kid: str,
                 typ: str) -> str:
    return _jws.sign_jws({"alg": "EdDSA", "kid": kid, "typ": typ},
                         json.dumps(payload, separators=(",", ":")).encode("utf-8"), key)


@dataclass(frozen=True)
class VerifiedJws:
    header: dict[str, Any]
    payload: dict[str, Any]
    kid: str


def parse_jws(token: str) -> tuple[dict[str, Any], dict[str, Any], Any]:
    """Header, JSON payload and the parsed JWS; ``JoseError`` when malformed."""
    try:
        jws = _jws.parse_compact_jws(token.strip(), max_len=MAX_JWS_CHARS)
        header = dict(jws.header)
        payload = json.loads(jws.payload)
    except (ValueError, TypeError) as exc:
        raise JoseError(f"not a compact JWS with a JSON payload: {exc}",
                        code="jws.malformed") from exc
    if not isinstance(payload, dict):
        raise JoseError("the JWS payload is not a JSON object", code="jws.malformed")
    return header, payload, jws


async def verify_jws_by(token: str, signer_did: str, resolver: Any) -> VerifiedJws:
    """Verify ``token`` with the ``assertionMethod`` key its ``kid`` names, which must belong
    to ``signer_did`` (1: parse, 2: bind kid to the DID, 3: dereference, 4: verify)."""
    header, payload, jws = parse_jws(token)
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        raise JoseError("the JWS header has no kid", code="jws.kid_missing")
    if kid.startswith("#"):
        kid = signer_did + kid
    if kid.split("#", 1)[0] != signer_did:
        raise JoseError(f"kid {kid} does not belong to {signer_did}", code="jws.kid_mismatch")
    try:
        vm = await (resolver or offline_resolver()).dereference(
            kid, relationship="assertionMethod")
        key = public_key_of(vm)
    except Exception as exc:  # resolver errors come from another package; keep their message
        raise JoseError(f"cannot resolve {kid}: {exc}", code="jws.key_unresolved") from exc
    try:
        _jws.verify_jws(jws, key, allowed_algs=ALLOWED_ALGS)
    except _jws.SignatureError as exc:
        raise JoseError(f"signature of {kid} does not verify: {exc}",
                        code="jws.signature_invalid") from exc
    return VerifiedJws(header, payload, kid)


__all__ = ["JoseError", "NodeKey", "VerifiedJws", "parse_jws", "sign_compact", "verify_jws_by"]
