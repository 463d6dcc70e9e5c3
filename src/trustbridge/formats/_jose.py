"""ADAPTER (temporary): the JOSE functions ``jwt_vc`` needs, from ``trustbridge.crypto`` when it
is installed, else a minimal local implementation with the same promised API.

The crypto package (another engineer's) promises ``parse_compact_jws``,
``verify_jws(jws, key, *, allowed_algs)`` raising ``SignatureError`` with codes
``signature.invalid`` / ``alg.not_allowed`` / ``alg.key_mismatch``, ``DEFAULT_ALGS``,
``RSA_ALGS`` and ``jwk_from_public_key``. Until it lands, the fallback below keeps
verification working; once it exists the real one is always preferred. Delete
the fallback when ``trustbridge.crypto`` is stable.
"""

from __future__ import annotations

import base64
import binascii
import importlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

_B64URL = re.compile(r"^[A-Za-z0-9_-]*$")


def b64url_decode(text: str) -> bytes:
    """Strict base64url without padding (RFC 7515 §2)."""
    if not _B64URL.match(text):
        raise ValueError("not base64url")
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


class FallbackSignatureError(Exception):
    """Signature rejected; ``code`` is one of the promised stable codes."""

    def __init__(self, message: str, *, code: str = "signature.invalid") -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class FallbackCompactJWS:
    header: dict[str, Any]
    payload: bytes
    signing_input: bytes
    signature: bytes

    def payload_json(self) -> Any:
        return json.loads(self.payload)


def _fallback_parse(token: str) -> FallbackCompactJWS:
    parts = token.split(".")
    if len(parts) != 3:
        raise ValueError("a compact JWS has three parts")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = b64url_decode(parts[1])
        signature = b64url_decode(parts[2])
    except (ValueError, binascii.Error) as exc:
        raise ValueError(f"malformed compact JWS: {exc}") from exc
    if not isinstance(header, dict):
        raise ValueError("JWS header is not a JSON object")
    return FallbackCompactJWS(header, payload, f"{parts[0]}.{parts[1]}".encode("ascii"),
                              signature)


_EC = {"ES256": (ec.SECP256R1, hashes.SHA256, 32), "ES256K": (ec.SECP256K1, hashes.SHA256, 32),
       "ES384": (ec.SECP384R1, hashes.SHA384, 48)}


def _fallback_verify(jws: Any, key: Any, *, allowed_algs: Iterable[str]) -> None:
    alg = jws.header.get("alg")
    if alg not in set(allowed_algs):
        raise FallbackSignatureError(f"alg {alg!r} not allowed", code="alg.not_allowed")
    try:
        if alg == "EdDSA":
            if not isinstance(key, ed25519.Ed25519PublicKey):
                raise FallbackSignatureError("EdDSA needs an Ed25519 key", code="alg.key_mismatch")
            key.verify(jws.signature, jws.signing_input)
        elif alg in _EC:
            curve, digest, size = _EC[alg]
            if not isinstance(key, ec.EllipticCurvePublicKey) or not isinstance(key.curve, curve):
                raise FallbackSignatureError(f"{alg} needs a {curve.name} key",
                                             code="alg.key_mismatch")
            if len(jws.signature) != 2 * size:
                raise FallbackSignatureError("bad ECDSA signature length")
            r = int.from_bytes(jws.signature[:size], "big")
            s = int.from_bytes(jws.signature[size:], "big")
            key.verify(encode_dss_signature(r, s), jws.signing_input, ec.ECDSA(digest()))
        elif alg in ("RS256", "PS256"):
            if not isinstance(key, rsa.RSAPublicKey):
                raise FallbackSignatureError(f"{alg} needs an RSA key", code="alg.key_mismatch")
            pad: padding.AsymmetricPadding = (
                padding.PKCS1v15() if alg == "RS256"
                else padding.PSS(mgf=padding.MGF1(hashes.SHA256()),
                                 salt_length=padding.PSS.DIGEST_LENGTH))
            key.verify(jws.signature, jws.signing_input, pad, hashes.SHA256())
        else:
            raise FallbackSignatureError(f"alg {alg!r} not supported", code="alg.not_allowed")
    except InvalidSignature as exc:
        raise FallbackSignatureError("signature does not verify") from exc


_CURVES: dict[str, type[ec.EllipticCurve]] = {"P-256": ec.SECP256R1, "secp256k1": ec.SECP256K1,
                                              "P-384": ec.SECP384R1}


def _fallback_jwk_to_key(jwk: Mapping[str, Any]) -> Any:
    kty = jwk.get("kty")
    if kty == "OKP" and jwk.get("crv") == "Ed25519":
        return ed25519.Ed25519PublicKey.from_public_bytes(b64url_decode(str(jwk["x"])))
    if kty == "EC" and jwk.get("crv") in _CURVES:
        x = int.from_bytes(b64url_decode(str(jwk["x"])), "big")
        y = int.from_bytes(b64url_decode(str(jwk["y"])), "big")
        return ec.EllipticCurvePublicNumbers(x, y, _CURVES[str(jwk["crv"])]()).public_key()
    if kty == "RSA":
        n = int.from_bytes(b64url_decode(str(jwk["n"])), "big")
        e = int.from_bytes(b64url_decode(str(jwk["e"])), "big")
        return rsa.RSAPublicNumbers(e, n).public_key()
    raise ValueError(f"unsupported JWK kty={kty!r} crv={jwk.get('crv')!r}")


def _fallback_key_to_jwk(key: Any) -> dict[str, Any]:
    if isinstance(key, ed25519.Ed25519PublicKey):
        from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

        return {"kty": "OKP", "crv": "Ed25519",
                "x": b64url(key.public_bytes(Encoding.Raw, PublicFormat.Raw))}
    if isinstance(key, ec.EllipticCurvePublicKey):
        names = {"secp256r1": "P-256", "secp256k1": "secp256k1", "secp384r1": "P-384"}
        size = (key.curve.key_size + 7) // 8
        nums = key.public_numbers()
        return {"kty": "EC", "crv": names[key.curve.name],
                "x": b64url(nums.x.to_bytes(size, "big")),
                "y": b64url(nums.y.to_bytes(size, "big"))}
    if isinstance(key, rsa.RSAPublicKey):
        nums_r = key.public_numbers()
        return {"kty": "RSA", "n": b64url(nums_r.n.to_bytes((nums_r.n.bit_length() + 7) // 8,
                                                             "big")),
                "e": b64url(nums_r.e.to_bytes((nums_r.e.bit_length() + 7) // 8, "big"))}
    raise ValueError("unsupported key type")


def _real(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            return None
        raise


_jws = _real("trustbridge.crypto.jws")
_jwk = _real("trustbridge.crypto.jwk")

USING_FALLBACK = _jws is None
DEFAULT_ALGS: frozenset[str] = frozenset(
    _jws.DEFAULT_ALGS if _jws else ("EdDSA", "ES256", "ES256K", "ES384"))
RSA_ALGS: frozenset[str] = frozenset(_jws.RSA_ALGS if _jws else ("RS256", "PS256"))
SignatureError: type[Exception] = _jws.SignatureError if _jws else FallbackSignatureError
parse_compact_jws: Any = _jws.parse_compact_jws if _jws else _fallback_parse
verify_jws: Any = _jws.verify_jws if _jws else _fallback_verify
jwk_from_public_key: Any = _jwk.jwk_from_public_key if _jwk else _fallback_key_to_jwk
public_key_from_jwk: Any = _jwk.public_key_from_jwk if _jwk else _fallback_jwk_to_key

__all__ = [
    "DEFAULT_ALGS",
    "RSA_ALGS",
    "USING_FALLBACK",
    "SignatureError",
    "b64url",
    "b64url_decode",
    "jwk_from_public_key",
    "parse_compact_jws",
    "public_key_from_jwk",
    "verify_jws",
]
