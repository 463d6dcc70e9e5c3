"""The node's verifier key: signs request objects; its did:jwk is the Client Identifier.

OpenID4VP 1.0 section 5.9.3: with the ``decentralized_identifier`` prefix the
request object MUST be signed by a key from the DID document, named by
``kid``. A ``did:jwk`` needs no hosting, so every node can present it; nodes
sharing one PostgreSQL share the key through the ``node_state`` table (first
writer wins, the others read it back).

Signing goes through ``trustbridge.crypto.jws.sign_jws`` when that module is
installed. ADAPTER (remove when crypto lands everywhere): otherwise a minimal
ES256 signer over ``cryptography`` is used, so this package works alone.
"""

from __future__ import annotations

import base64
import importlib
import json
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from trustbridge.store import Database

NODE_STATE_KEY = "oid4vp.verifier_key"
ALG = "ES256"


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _optional(module: str) -> Any | None:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            return None
        raise


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The public half as a JWK (RFC 7518 section 6.2)."""
    crypto_jwk = _optional("trustbridge.crypto.jwk")
    if crypto_jwk is not None and hasattr(crypto_jwk, "jwk_from_public_key"):
        jwk = dict(crypto_jwk.jwk_from_public_key(key.public_key()))
        return {k: v for k, v in jwk.items() if k in ("kty", "crv", "x", "y")}
    numbers = key.public_key().public_numbers()
    return {"kty": "EC", "crv": "P-256",
            "x": b64url(numbers.x.to_bytes(32, "big")), "y": b64url(numbers.y.to_bytes(32, "big"))}


def _sign_es256(header: dict[str, Any], payload: bytes, key: ec.EllipticCurvePrivateKey) -> str:
    """ADAPTER: compact JWS with ES256 (RFC 7515, RFC 7518 section 3.4)."""
    signing_input = (b64url(json.dumps(header, separators=(",", ":")).encode()) + "."
                     + b64url(payload))
    der = key.sign(signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    return signing_input + "." + b64url(r.to_bytes(32, "big") + s.to_bytes(32, "big"))


@dataclass(frozen=True)
class VerifierKey:
    """A private key with its did:jwk identity."""

    private_key: ec.EllipticCurvePrivateKey

    @property
    def jwk(self) -> dict[str, str]:
        return public_jwk(self.private_key)

    @property
    def did(self) -> str:
        canonical = json.dumps(self.jwk, separators=(",", ":"), sort_keys=True)
        return "did:jwk:" + b64url(canonical.encode())

    @property
    def kid(self) -> str:
        return self.did + "#0"

    @property
    def client_id(self) -> str:
        return "decentralized_identifier:" + self.did

    def sign(self, header: dict[str, Any], payload: bytes) -> str:
        full = {"alg": ALG, "kid": self.kid, **header}
        jws = _optional("trustbridge.crypto.jws")
        if jws is not None and hasattr(jws, "sign_jws"):
            return str(jws.sign_jws(full, payload, self.private_key))
        return _sign_es256(full, payload, self.private_key)


def _generate() -> ec.EllipticCurvePrivateKey:
    jws = _optional("trustbridge.crypto.jws")
    if jws is not None and hasattr(jws, "generate_private_key"):
        key = jws.generate_private_key(ALG)
        if isinstance(key, ec.EllipticCurvePrivateKey):
            return key
    return ec.generate_private_key(ec.SECP256R1())


def _load_pem(pem: str) -> ec.EllipticCurvePrivateKey:
    key = serialization.load_pem_private_key(pem.encode(), password=None)
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ValueError("the OpenID4VP verifier key must be an EC P-256 private key")
    return key


async def load_verifier_key(db: Database, configured_pem: str | None) -> VerifierKey:
    """The configured key, else the node's stored key, else a new one stored for next time."""
    if configured_pem:
        return VerifierKey(_load_pem(configured_pem))
    row = await db.fetchrow("SELECT value FROM node_state WHERE key = ?", NODE_STATE_KEY)
    if row is None:
        pem = _generate().private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        ).decode()
        await db.execute(
            "INSERT INTO node_state (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING",
            NODE_STATE_KEY, pem,
        )
        row = await db.fetchrow("SELECT value FROM node_state WHERE key = ?", NODE_STATE_KEY)
    if row is None:  # pragma: no cover - the insert above guarantees a row
        raise RuntimeError("verifier key could not be stored")
    return VerifierKey(_load_pem(str(row["value"])))


__all__ = ["ALG", "VerifierKey", "b64url", "load_verifier_key", "public_jwk"]
