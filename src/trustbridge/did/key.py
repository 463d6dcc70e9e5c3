"""did:key (W3C CCG did:key v0.7): the DID *is* the public key, so resolution is pure.

Supported multicodecs: Ed25519 (0xed), P-256 (0x1200), secp256k1 (0xe7), P-384 (0x1201),
compressed points only, and EBSI's natural-person ``jwk_jcs-pub`` (0xeb51, the JCS JSON
of the public JWK). Documents follow the spec's "Document Creation Algorithm":

1. the method-specific id is ``z`` + base58btc(varint(codec) || key bytes) and decodes to a
   valid key of the right length on the right curve (else ``invalidDid``);
2. one verification method ``did:key:<id>#<id>`` in the requested ``publicKeyFormat``
   (``JsonWebKey2020`` by default, as EBSI's key-did-resolver produces; ``Multikey``;
   the legacy suite types of the public test vectors);
3. ``authentication``, ``assertionMethod``, ``capabilityInvocation``,
   ``capabilityDelegation`` reference it; with ``enable_encryption_key_derivation`` a
   ``keyAgreement`` key is added (X25519 derived from Ed25519, or the EC key itself).
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

import base58
import rfc8785
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from trustbridge.crypto._errors import MalformedInput
from trustbridge.crypto.base64url import b64url_encode
from trustbridge.crypto.jwk import (
    ED25519_PUB,
    JWK_JCS_PUB,
    P256_PUB,
    P384_PUB,
    SECP256K1_PUB,
    PublicKey,
    jcs_jwk_from_bytes,
    jwk_from_public_key,
    public_key_from_multicodec,
)
from trustbridge.crypto.multibase import (
    add_multicodec,
    decode_multibase,
    encode_multibase_b58,
    read_multicodec,
)
from trustbridge.did.interface import INVALID_DID, DIDError
from trustbridge.did.syntax import parse_did

PREFIX = "did:key:"
X25519_PUB = 0xEC
DID_V1 = "https://www.w3.org/ns/did/v1"
_CONTEXTS = {
    "JsonWebKey2020": ["https://w3id.org/security/suites/jws-2020/v1"],
    "Multikey": ["https://w3id.org/security/multikey/v1"],
    "Ed25519VerificationKey2018": ["https://w3id.org/security/suites/ed25519-2018/v1"],
    "Ed25519VerificationKey2020": ["https://w3id.org/security/suites/ed25519-2020/v1"],
    "EcdsaSecp256k1VerificationKey2019": ["https://w3id.org/security/suites/secp256k1-2019/v1"],
}
_X25519_CONTEXTS = {
    "Ed25519VerificationKey2018": "https://w3id.org/security/suites/x25519-2019/v1",
    "Ed25519VerificationKey2020": "https://w3id.org/security/suites/x25519-2020/v1",
}
PUBLIC_KEY_FORMATS = frozenset(_CONTEXTS)
SIGNING_RELATIONSHIPS = ("authentication", "assertionMethod", "capabilityInvocation",
                         "capabilityDelegation")
_CODECS = (ED25519_PUB, P256_PUB, SECP256K1_PUB, P384_PUB, JWK_JCS_PUB)
_P25519 = 2**255 - 19


def decode_did_key(did: str) -> tuple[int, bytes, PublicKey]:
    """Step 1: multicodec, raw key bytes and the validated key of a did:key."""
    parsed = parse_did(did)
    if parsed.method != "key":
        raise DIDError("not a did:key", error=INVALID_DID)
    ident = parsed.method_specific_id
    if not ident.startswith("z"):
        raise DIDError("did:key ids are base58btc multibase ('z')", error=INVALID_DID)
    try:
        code, raw = read_multicodec(decode_multibase(ident))
        if code not in _CODECS:
            raise DIDError(f"did:key multicodec 0x{code:x} is not supported", error=INVALID_DID)
        return code, raw, public_key_from_multicodec(code, raw)
    except MalformedInput as exc:
        raise DIDError(f"invalid did:key: {exc.message}", error=INVALID_DID) from exc


def ed25519_to_x25519(public: bytes) -> bytes:
    """The X25519 public key birationally equivalent to an Ed25519 one (RFC 7748 §4.1):
    u = (1 + y) / (1 - y) mod p."""
    y = int.from_bytes(public, "little") & ((1 << 255) - 1)
    u = (1 + y) * pow(1 - y, _P25519 - 2, _P25519) % _P25519
    return u.to_bytes(32, "little")


def _raw(key: PublicKey) -> bytes:
    if isinstance(key, ed25519.Ed25519PublicKey):
        return key.public_bytes(Encoding.Raw, PublicFormat.Raw)
    if isinstance(key, ec.EllipticCurvePublicKey):
        return key.public_bytes(Encoding.X962, PublicFormat.CompressedPoint)
    raise MalformedInput("RSA keys have no did:key form here", code="key.invalid")


def did_key_from_public_key(key: PublicKey) -> str:
    """The did:key of an Ed25519, P-256, secp256k1 or P-384 public key."""
    if isinstance(key, ed25519.Ed25519PublicKey):
        code = ED25519_PUB
    elif isinstance(key, ec.EllipticCurvePublicKey):
        codes = {"secp256r1": P256_PUB, "secp256k1": SECP256K1_PUB, "secp384r1": P384_PUB}
        if key.curve.name not in codes:
            raise MalformedInput(f"no did:key for curve {key.curve.name}", code="key.invalid")
        code = codes[key.curve.name]
    else:
        raise MalformedInput("RSA keys have no did:key form here", code="key.invalid")
    return PREFIX + encode_multibase_b58(add_multicodec(code, _raw(key)))


def did_key_from_jwk_jcs(key: PublicKey) -> str:
    """EBSI natural-person did:key: multicodec 0xeb51 over the JCS of the public JWK."""
    return PREFIX + encode_multibase_b58(
        add_multicodec(JWK_JCS_PUB, rfc8785.dumps(jwk_from_public_key(key))))


def _method(did: str, ident: str, vm_type: str, code: int, raw: bytes,
            key_jwk: dict[str, Any]) -> dict[str, Any]:
    vm: dict[str, Any] = {"id": f"{did}#{ident}", "type": vm_type, "controller": did}
    if vm_type == "JsonWebKey2020":
        vm["publicKeyJwk"] = key_jwk
    elif vm_type in ("Multikey", "Ed25519VerificationKey2020", "X25519KeyAgreementKey2020"):
        vm["publicKeyMultibase"] = encode_multibase_b58(add_multicodec(code, raw))
    else:  # Ed25519VerificationKey2018, X25519KeyAgreementKey2019, EcdsaSecp256k1…2019
        vm["publicKeyBase58"] = base58.b58encode(raw).decode("ascii")
    return vm


def _check_format(code: int, public_key_format: str) -> None:
    if public_key_format not in PUBLIC_KEY_FORMATS:
        raise ValueError(f"unknown publicKeyFormat {public_key_format!r}")
    fits = {"Ed25519VerificationKey2018": ED25519_PUB, "Ed25519VerificationKey2020": ED25519_PUB,
            "EcdsaSecp256k1VerificationKey2019": SECP256K1_PUB}
    if public_key_format in fits and fits[public_key_format] != code:
        raise ValueError(f"publicKeyFormat {public_key_format} does not fit this key")


@lru_cache(maxsize=4096)
def _document_json(did: str, public_key_format: str, derive: bool, with_context: bool) -> str:
    return json.dumps(build_did_key_document(
        did, public_key_format=public_key_format, enable_encryption_key_derivation=derive,
        with_context=with_context))


def build_did_key_document(did: str, *, public_key_format: str = "JsonWebKey2020",
                           enable_encryption_key_derivation: bool = False,
                           with_context: bool = True) -> dict[str, Any]:
    """Steps 1-3: the DID document of ``did`` (``DIDError(invalidDid)`` when malformed)."""
    code, raw, key = decode_did_key(did)
    _check_format(code, public_key_format)
    ident = did[len(PREFIX):]
    # EBSI's resolver keeps the JWK exactly as encoded in the DID.
    key_jwk = jcs_jwk_from_bytes(raw) if code == JWK_JCS_PUB else jwk_from_public_key(key)
    vm = _method(did, ident, public_key_format, code, raw, key_jwk)
    doc: dict[str, Any] = {}
    if with_context:
        doc["@context"] = [DID_V1, *_CONTEXTS[public_key_format]]
    doc["id"] = did
    doc["verificationMethod"] = [vm]
    for rel in SIGNING_RELATIONSHIPS:
        doc[rel] = [vm["id"]]
    if enable_encryption_key_derivation and code == ED25519_PUB:
        x_raw = ed25519_to_x25519(raw)
        x_ident = encode_multibase_b58(add_multicodec(X25519_PUB, x_raw))
        x_type = {"Ed25519VerificationKey2018": "X25519KeyAgreementKey2019",
                  "Ed25519VerificationKey2020": "X25519KeyAgreementKey2020"}.get(
                      public_key_format, public_key_format)
        x_jwk = {"kty": "OKP", "crv": "X25519", "x": b64url_encode(x_raw)}
        doc["verificationMethod"].append(_method(did, x_ident, x_type, X25519_PUB, x_raw, x_jwk))
        doc["keyAgreement"] = [f"{did}#{x_ident}"]
        if with_context and public_key_format in _X25519_CONTEXTS:
            doc["@context"].append(_X25519_CONTEXTS[public_key_format])
    elif enable_encryption_key_derivation and code != JWK_JCS_PUB:
        doc["keyAgreement"] = [vm["id"]]  # an EC key serves ECDH as it is
    return doc


def resolve_did_key(did: str, *, public_key_format: str = "JsonWebKey2020",
                    enable_encryption_key_derivation: bool = False,
                    with_context: bool = True) -> dict[str, Any]:
    """``build_did_key_document`` memoised (a pure function of the DID): a fresh copy."""
    result: dict[str, Any] = json.loads(_document_json(
        did, public_key_format, enable_encryption_key_derivation, with_context))
    return result


def clear_memo() -> None:
    """Forget memoised documents (benchmarks measure cold resolution with it)."""
    _document_json.cache_clear()


__all__ = [
    "PUBLIC_KEY_FORMATS",
    "build_did_key_document",
    "clear_memo",
    "decode_did_key",
    "did_key_from_jwk_jcs",
    "did_key_from_public_key",
    "ed25519_to_x25519",
    "resolve_did_key",
]
