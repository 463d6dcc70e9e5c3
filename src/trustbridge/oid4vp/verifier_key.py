"""The node's verifier key: signs request objects; its did:jwk is the Client Identifier.

OpenID4VP 1.0 section 5.9.3: with the ``decentralized_identifier`` prefix the
request object MUST be signed by a key from the DID document, named by
``kid``. A ``did:jwk`` needs no hosting, so every node can present it; nodes
sharing one PostgreSQL share the key through the ``node_state`` table (first
writer wins, the others read it back).

Signing is ``trustbridge.crypto.jws.sign_jws`` (ES256).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from trustbridge.crypto.base64url import b64url_encode
from trustbridge.crypto.jwk import jwk_from_public_key
from trustbridge.crypto.jws import sign_jws
from trustbridge.store import Database

NODE_STATE_KEY = "oid4vp.verifier_key"
ALG = "ES256"


def public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    """The public half as a JWK (RFC 7518 section 6.2)."""
    return jwk_from_public_key(key.public_key())


@dataclass(frozen=True)
class VerifierKey:
    """A private key with its did:jwk identity."""

    private_key: ec.EllipticCurvePrivateKey

    @cached_property
    def _public_jwk(self) -> dict[str, str]:
        # Once per key: ``private_key.public_key()`` is a new object on every call, and
        # ``jwk_from_public_key`` remembers JWKs per key *object*, so asking it per request
        # filled its memo with thousands of copies of this one key (issue 8's soak).
        return public_jwk(self.private_key)

    @property
    def jwk(self) -> dict[str, str]:
        return dict(self._public_jwk)

    @cached_property
    def did(self) -> str:
        canonical = json.dumps(self.jwk, separators=(",", ":"), sort_keys=True)
        return "did:jwk:" + b64url_encode(canonical.encode())

    @property
    def kid(self) -> str:
        return self.did + "#0"

    @property
    def client_id(self) -> str:
        return "decentralized_identifier:" + self.did

    def sign(self, header: dict[str, Any], payload: bytes) -> str:
        return sign_jws({"alg": ALG, "kid": self.kid, **header}, payload, self.private_key)


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
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
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


__all__ = ["ALG", "VerifierKey", "load_verifier_key", "public_jwk"]
