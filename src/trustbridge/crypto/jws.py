"""Compact JWS (RFC 7515) parsing, verification with an algorithm allow-list, and signing.

Verification steps (RFC 7515 §5.2), numbered as in the code:
1. the token is three strict base64url segments, the header a JSON object with a string
   ``alg`` and no ``crit`` (we implement no extensions, so §4.1.11 says reject);
2. ``alg`` is in the caller's allow-list and is one we implement (never ``none`` or HMAC);
3. ``alg`` fits the key (type and curve: RFC 7518 §3.4, RFC 8037 §3.1, RFC 8812 §3.2);
4. the signature verifies over ``ASCII(header) || '.' || ASCII(payload)``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import (
    decode_dss_signature,
    encode_dss_signature,
)

from trustbridge.crypto._errors import MalformedInput
from trustbridge.crypto.base64url import b64url_decode, b64url_encode
from trustbridge.crypto.jwk import PrivateKey, PublicKey
from trustbridge.crypto.strict_json import parse_strict_json

DEFAULT_ALGS: frozenset[str] = frozenset({"EdDSA", "ES256", "ES256K", "ES384"})
RSA_ALGS: frozenset[str] = frozenset({"RS256", "PS256"})
SUPPORTED_ALGS: frozenset[str] = DEFAULT_ALGS | RSA_ALGS

MALFORMED = "jws.malformed"
MAX_HEADER_BYTES = 16 * 1024

# alg -> (curve name as cryptography spells it, hash, size of r and s in bytes)
_ECDSA: dict[str, tuple[str, type[hashes.HashAlgorithm], int]] = {
    "ES256": ("secp256r1", hashes.SHA256, 32),
    "ES256K": ("secp256k1", hashes.SHA256, 32),
    "ES384": ("secp384r1", hashes.SHA384, 48),
}
# Built once: the signature algorithm objects are immutable and every verification needs one.
_ECDSA_SIGNATURE: dict[str, ec.ECDSA] = {alg: ec.ECDSA(digest())
                                         for alg, (_, digest, _) in _ECDSA.items()}
_CURVE_CLASSES: dict[str, type[ec.EllipticCurve]] = {
    "ES256": ec.SECP256R1, "ES256K": ec.SECP256K1, "ES384": ec.SECP384R1}


class SignatureError(MalformedInput):
    """A JWS that is well-formed but not acceptable: ``signature.invalid``,
    ``alg.not_allowed`` or ``alg.key_mismatch``."""

    code = "signature.invalid"


@dataclass(frozen=True)
class CompactJWS:
    """A parsed, not yet verified, compact JWS."""

    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes

    @property
    def alg(self) -> str:
        return str(self.header["alg"])

    def payload_json(self, *, max_depth: int = 64) -> Any:
        """The payload as strict JSON (``jws.malformed`` when it is not)."""
        return parse_strict_json(self.payload, code=MALFORMED, max_depth=max_depth)


def parse_compact_jws(token: str, *, max_len: int = 1_000_000) -> CompactJWS:
    """Step 1: split and decode; ``InputError(code="jws.malformed")`` for anything odd."""
    if not isinstance(token, str):
        raise MalformedInput("a compact JWS is a string", code=MALFORMED)
    if len(token) > max_len:
        raise MalformedInput(f"compact JWS longer than {max_len} characters", code=MALFORMED)
    parts = token.split(".")
    if len(parts) != 3:
        raise MalformedInput("a compact JWS has exactly three parts", code=MALFORMED)
    h64, p64, s64 = parts
    if len(h64) > MAX_HEADER_BYTES * 4 // 3 + 4:
        raise MalformedInput("JWS header too large", code=MALFORMED)
    header = parse_strict_json(b64url_decode(h64, code=MALFORMED), code=MALFORMED, max_depth=8)
    if not isinstance(header, dict):
        raise MalformedInput("the JWS header is not a JSON object", code=MALFORMED)
    if not isinstance(header.get("alg"), str):
        raise MalformedInput("the JWS header has no string alg", code=MALFORMED)
    if "crit" in header:
        raise MalformedInput("critical JWS header extensions are not supported", code=MALFORMED)
    payload = b64url_decode(p64, code=MALFORMED)
    signature = b64url_decode(s64, code=MALFORMED)
    return CompactJWS(header, payload, f"{h64}.{p64}".encode("ascii"), signature)


def _check_key(alg: str, key: PublicKey | PrivateKey) -> None:
    """Step 3: the algorithm must fit the key's type and curve."""
    if alg == "EdDSA":
        ok = isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey)
    elif alg in _ECDSA:
        ok = (isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey)
              and key.curve.name == _ECDSA[alg][0])
    elif alg in RSA_ALGS:
        ok = isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey)
    else:
        raise SignatureError(f"alg {alg!r} is not supported", code="alg.not_allowed")
    if not ok:
        raise SignatureError(f"alg {alg} does not fit a {type(key).__name__}",
                             code="alg.key_mismatch")


def _rsa_padding(alg: str) -> padding.AsymmetricPadding:
    if alg == "RS256":
        return padding.PKCS1v15()
    return padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=padding.PSS.DIGEST_LENGTH)


def verify_jws(jws: CompactJWS, key: PublicKey, *,
               allowed_algs: frozenset[str] = DEFAULT_ALGS) -> None:
    """Steps 2-4; returns nothing on success, raises ``SignatureError`` otherwise."""
    alg = jws.header.get("alg")
    if not isinstance(alg, str) or alg not in allowed_algs or alg not in SUPPORTED_ALGS:
        raise SignatureError(f"alg {alg!r} is not allowed", code="alg.not_allowed")
    _check_key(alg, key)
    try:
        if isinstance(key, ed25519.Ed25519PublicKey):
            key.verify(jws.signature, jws.signing_input)
        elif isinstance(key, ec.EllipticCurvePublicKey):
            size = _ECDSA[alg][2]
            # RFC 7518 §3.4: the signature is r || s, each exactly ``size`` bytes.
            if len(jws.signature) != 2 * size:
                raise SignatureError(f"{alg} signatures are {2 * size} bytes")
            r = int.from_bytes(jws.signature[:size], "big")
            s = int.from_bytes(jws.signature[size:], "big")
            key.verify(encode_dss_signature(r, s), jws.signing_input, _ECDSA_SIGNATURE[alg])
        else:
            key.verify(jws.signature, jws.signing_input, _rsa_padding(alg), hashes.SHA256())
    except InvalidSignature as exc:
        raise SignatureError("the signature does not verify") from exc


def _signature(alg: str, key: PrivateKey, data: bytes) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(data)
    if isinstance(key, ec.EllipticCurvePrivateKey):
        _, digest, size = _ECDSA[alg]
        r, s = decode_dss_signature(key.sign(data, ec.ECDSA(digest())))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")
    return key.sign(data, _rsa_padding(alg), hashes.SHA256())


def sign_jws(header: dict[str, Any], payload: bytes, key: PrivateKey) -> str:
    """Compact JWS of ``payload``; ``header["alg"]`` must be given and fit ``key``."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in SUPPORTED_ALGS:
        raise SignatureError(f"cannot sign with alg {alg!r}", code="alg.not_allowed")
    _check_key(alg, key)
    h64 = b64url_encode(json.dumps(header, separators=(",", ":")).encode("utf-8"))
    signing_input = f"{h64}.{b64url_encode(payload)}"
    return f"{signing_input}.{b64url_encode(_signature(alg, key, signing_input.encode('ascii')))}"


def alg_for_key(key: PublicKey | PrivateKey) -> str:
    """The JWS alg we use for a key (RS256 for RSA)."""
    if isinstance(key, ed25519.Ed25519PublicKey | ed25519.Ed25519PrivateKey):
        return "EdDSA"
    if isinstance(key, ec.EllipticCurvePublicKey | ec.EllipticCurvePrivateKey):
        for alg, (curve, _, _) in _ECDSA.items():
            if key.curve.name == curve:
                return alg
        raise SignatureError(f"no JWS alg for curve {key.curve.name}", code="alg.not_allowed")
    if isinstance(key, rsa.RSAPublicKey | rsa.RSAPrivateKey):
        return "RS256"
    raise SignatureError("unsupported key type", code="alg.not_allowed")


def generate_private_key(alg: str) -> PrivateKey:
    """A fresh key for ``alg`` (tests, the demo issuer, node keys)."""
    if alg == "EdDSA":
        return ed25519.Ed25519PrivateKey.generate()
    if alg in _CURVE_CLASSES:
        return ec.generate_private_key(_CURVE_CLASSES[alg]())
    if alg in RSA_ALGS:
        return rsa.generate_private_key(public_exponent=65537, key_size=2048)
    raise SignatureError(f"cannot generate a key for alg {alg!r}", code="alg.not_allowed")


__all__ = [
    "DEFAULT_ALGS",
    "RSA_ALGS",
    "SUPPORTED_ALGS",
    "CompactJWS",
    "SignatureError",
    "alg_for_key",
    "generate_private_key",
    "parse_compact_jws",
    "sign_jws",
    "verify_jws",
]
