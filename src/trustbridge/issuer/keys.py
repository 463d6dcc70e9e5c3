"""The demo issuer's key: Ed25519, derived from a PUBLIC seed -- anyone can sign with it.

That is the point: the key is for conformance tests and demos, never for trust.
The registry does not list it, so credentials it signs are never ``valid`` under
the default policy (``require_accredited_issuer``).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

DEMO_SEED = "trustbridge DEMO-ONLY issuer key: public, never trust it"
ED25519_MULTICODEC = b"\xed\x01"


@dataclass(frozen=True)
class DemoKey:
    private_key: ed25519.Ed25519PrivateKey
    did: str
    verification_method: str


@cache
def demo_key() -> DemoKey:
    """The demo key and its ``did:key`` (the verification method is the key's own fragment)."""
    private = ed25519.Ed25519PrivateKey.from_private_bytes(
        hashlib.sha256(DEMO_SEED.encode()).digest())
    raw = private.public_key().public_bytes(serialization.Encoding.Raw,
                                            serialization.PublicFormat.Raw)
    fingerprint = "z" + base58.b58encode(ED25519_MULTICODEC + raw).decode()
    did = f"did:key:{fingerprint}"
    return DemoKey(private_key=private, did=did, verification_method=f"{did}#{fingerprint}")


__all__ = ["DEMO_SEED", "DemoKey", "demo_key"]
