"""Minting accreditation JWT VCs (EBSI Trust Chain shapes) with did:key keys.

Used by ``registry/generate.py`` (the shipped demo trust lists), the tests and the
benchmark. A real TAO signs with its own tooling; this is the same wire format.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import base58
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from trustbridge.registry.model import FOR_TRUST_CHAIN, TO_ACCREDIT, TO_ATTEST, attribute_id

PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey
_ED25519 = b"\xed\x01"
_P256 = b"\x80\x24"  # multicodec p256-pub (0x1200) as a varint
ATTRIBUTE_URL = "{base}/trusted-issuers-registry/v5/issuers/{did}/attributes/{id}"


@dataclass(frozen=True)
class DidKey:
    """A did:key identity with its private key."""

    private_key: PrivateKey

    @property
    def did(self) -> str:
        pub = self.private_key.public_key()
        if isinstance(pub, ed25519.Ed25519PublicKey):
            raw = _ED25519 + pub.public_bytes(serialization.Encoding.Raw,
                                              serialization.PublicFormat.Raw)
        else:
            raw = _P256 + pub.public_bytes(serialization.Encoding.X962,
                                           serialization.PublicFormat.CompressedPoint)
        return "did:key:z" + base58.b58encode(raw).decode("ascii")

    @property
    def kid(self) -> str:
        return f"{self.did}#{self.did.removeprefix('did:key:')}"

    @property
    def alg(self) -> str:
        return "EdDSA" if isinstance(self.private_key, ed25519.Ed25519PrivateKey) else "ES256"

    @classmethod
    def generate(cls, alg: str = "EdDSA") -> DidKey:
        if alg == "EdDSA":
            return cls(ed25519.Ed25519PrivateKey.generate())
        if alg == "ES256":
            return cls(ec.generate_private_key(ec.SECP256R1()))
        raise ValueError(f"demo keys are EdDSA or ES256, not {alg}")

    @classmethod
    def from_pem(cls, pem: str) -> DidKey:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey):
            raise ValueError("demo keys are Ed25519 or P-256")
        return cls(key)

    def to_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii")

    def sign(self, payload: Mapping[str, Any], *, typ: str = "JWT") -> str:
        """A compact JWS over the JSON ``payload`` with this key's ``kid``."""
        from trustbridge.crypto.jws import sign_jws

        header = {"alg": self.alg, "typ": typ, "kid": self.kid}
        body = json.dumps(dict(payload), separators=(",", ":")).encode("utf-8")
        return sign_jws(header, body, self.private_key)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def accreditation_claims(
    *, kind: str, issuer: str, subject: str, accredited_for: Sequence[Mapping[str, Any]],
    valid_from: datetime, valid_until: datetime, jti: str,
    terms_of_use: Sequence[Mapping[str, Any]] = (), registry_base: str = "https://tir.example",
) -> dict[str, Any]:
    """JWT claims of an accreditation (``kind``: TO_ATTEST, TO_ACCREDIT or FOR_TRUST_CHAIN)."""
    if kind not in (TO_ATTEST, TO_ACCREDIT, FOR_TRUST_CHAIN):
        raise ValueError(f"unknown accreditation kind {kind}")
    extra = ["VerifiableAccreditation"] if kind != FOR_TRUST_CHAIN else []
    status_url = f"{registry_base}/trusted-issuers-registry/v5/issuers/{subject}"
    vc: dict[str, Any] = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "id": jti,
        "type": ["VerifiableCredential", "VerifiableAttestation", *extra, kind],
        "issuer": issuer,
        "issuanceDate": _iso(valid_from),
        "issued": _iso(valid_from),
        "validFrom": _iso(valid_from),
        "expirationDate": _iso(valid_until),
        "credentialSubject": {"id": subject, "accreditedFor": [dict(a) for a in accredited_for]},
        "credentialStatus": {"id": status_url, "type": "EbsiAccreditationEntry"},
        "credentialSchema": {
            "id": "https://api-pilot.ebsi.eu/trusted-schemas-registry/v3/schemas/"
                  "zG6xY9DG2CWyhsSc544hEezbQRmkQCfvgXGdCqt69v8TA",
            "type": "FullJsonSchemaValidator2021"},
    }
    if terms_of_use:
        vc["termsOfUse"] = [dict(t) for t in terms_of_use]
    return {"iss": issuer, "sub": subject, "jti": jti, "iat": int(valid_from.timestamp()),
            "nbf": int(valid_from.timestamp()), "exp": int(valid_until.timestamp()), "vc": vc}


def attribute_url(registry_base: str, did: str, jwt: str) -> str:
    """Where the TIR serves this accreditation (what ``termsOfUse.id`` points at)."""
    return ATTRIBUTE_URL.format(base=registry_base.rstrip("/"), did=did, id=attribute_id(jwt))


__all__ = ["DidKey", "PrivateKey", "accreditation_claims", "attribute_url"]
