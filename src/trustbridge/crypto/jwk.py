"""JWK <-> ``cryptography`` public keys (RFC 7517/7518, RFC 8037 OKP, RFC 8812 secp256k1),
RFC 7638 thumbprints, and keys from multicodec-tagged bytes (did:key).

Every key built here is validated: exact coordinate lengths, point on the curve
(``cryptography`` checks it when the key is constructed), RSA modulus >= 2048 bits.
"""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from collections.abc import Mapping
from typing import Any, TypeAlias

import rfc8785
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from trustbridge.crypto._errors import MalformedInput
from trustbridge.crypto.base64url import b64url_decode, b64url_encode
from trustbridge.crypto.strict_json import parse_strict_json

PublicKey: TypeAlias = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey | rsa.RSAPublicKey
PrivateKey: TypeAlias = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey

CODE = "key.invalid"
MIN_RSA_BITS = 2048

# JWK crv name -> (curve class, coordinate size in bytes)
EC_CURVES: dict[str, tuple[type[ec.EllipticCurve], int]] = {
    "P-256": (ec.SECP256R1, 32),
    "secp256k1": (ec.SECP256K1, 32),
    "P-384": (ec.SECP384R1, 48),
}
_CRV_OF_CURVE = {"secp256r1": "P-256", "secp256k1": "secp256k1", "secp384r1": "P-384"}

# multicodec codes (multiformats/multicodec table.csv)
ED25519_PUB = 0xED
P256_PUB = 0x1200
P384_PUB = 0x1201
SECP256K1_PUB = 0xE7
JWK_JCS_PUB = 0xEB51
_COMPRESSED = {P256_PUB: "P-256", SECP256K1_PUB: "secp256k1", P384_PUB: "P-384"}


def _member(jwk: Mapping[str, Any], name: str) -> bytes:
    value = jwk.get(name)
    if not isinstance(value, str):
        raise MalformedInput(f"JWK member {name!r} is missing or not a string", code=CODE)
    return b64url_decode(value, code=CODE)


def _ec_key(crv: str, x: bytes, y: bytes) -> ec.EllipticCurvePublicKey:
    curve, size = EC_CURVES[crv]
    if len(x) != size or len(y) != size:
        raise MalformedInput(f"{crv} coordinates must be {size} bytes", code=CODE)
    try:
        return ec.EllipticCurvePublicNumbers(
            int.from_bytes(x, "big"), int.from_bytes(y, "big"), curve()).public_key()
    except ValueError as exc:
        raise MalformedInput(f"point is not on {crv}", code=CODE) from exc


_KEY_MEMBERS = ("kty", "crv", "x", "y", "n", "e")
_KEY_MEMO: OrderedDict[tuple[Any, ...], PublicKey] = OrderedDict()
_KEY_MEMO_MAX = 4096


def public_key_from_jwk(jwk: Mapping[str, Any]) -> PublicKey:
    """The public key a JWK describes; a private ``d`` member is ignored, never used.

    Keys built (and so validated) are memoised on the exact strings of their public
    members, a small LRU: the same issuers and holders sign request after request, and
    building an EC key checks the point each time. A JWK that fails is never memoised.
    """
    if not isinstance(jwk, Mapping):
        raise MalformedInput("a JWK is a JSON object", code=CODE)
    members = tuple(jwk.get(m) for m in _KEY_MEMBERS)
    memo_key = members if all(v is None or isinstance(v, str) for v in members) else None
    if memo_key is not None:
        hit = _KEY_MEMO.get(memo_key)
        if hit is not None:
            _KEY_MEMO.move_to_end(memo_key)
            return hit
    key = _build_public_key(jwk)
    if memo_key is not None:
        _KEY_MEMO[memo_key] = key
        if len(_KEY_MEMO) > _KEY_MEMO_MAX:
            _KEY_MEMO.popitem(last=False)
    return key


def _build_public_key(jwk: Mapping[str, Any]) -> PublicKey:
    kty, crv = jwk.get("kty"), jwk.get("crv")
    if kty == "OKP":
        if crv != "Ed25519":
            raise MalformedInput(f"unsupported OKP curve {crv!r}", code=CODE)
        x = _member(jwk, "x")
        if len(x) != 32:
            raise MalformedInput("Ed25519 keys are 32 bytes", code=CODE)
        return ed25519.Ed25519PublicKey.from_public_bytes(x)
    if kty == "EC":
        if not isinstance(crv, str) or crv not in EC_CURVES:
            raise MalformedInput(f"unsupported EC curve {crv!r}", code=CODE)
        return _ec_key(crv, _member(jwk, "x"), _member(jwk, "y"))
    if kty == "RSA":
        n = int.from_bytes(_member(jwk, "n"), "big")
        e = int.from_bytes(_member(jwk, "e"), "big")
        if n.bit_length() < MIN_RSA_BITS or e < 3 or e % 2 == 0:
            raise MalformedInput(f"RSA keys need a modulus of >= {MIN_RSA_BITS} bits and an "
                                 "odd exponent", code=CODE)
        try:
            return rsa.RSAPublicNumbers(e, n).public_key()
        except ValueError as exc:
            raise MalformedInput("unusable RSA key", code=CODE) from exc
    raise MalformedInput(f"unsupported JWK kty {kty!r}", code=CODE)


def _uint(value: int) -> str:
    return b64url_encode(value.to_bytes((value.bit_length() + 7) // 8, "big"))


_JWK_MEMO: OrderedDict[int, tuple[PublicKey, dict[str, str]]] = OrderedDict()


def jwk_from_public_key(key: PublicKey) -> dict[str, str]:
    """The minimal public JWK (the RFC 7638 required members only).

    Remembered per key object (keys are not hashable; the entry holds the key, so its id
    cannot be reused while remembered): memoised keys sign request after request."""
    hit = _JWK_MEMO.get(id(key))
    if hit is not None and hit[0] is key:
        return dict(hit[1])
    jwk = _jwk_of(key)
    _JWK_MEMO[id(key)] = (key, jwk)
    if len(_JWK_MEMO) > _KEY_MEMO_MAX:
        _JWK_MEMO.popitem(last=False)
    return dict(jwk)


def _jwk_of(key: PublicKey) -> dict[str, str]:
    if isinstance(key, ed25519.Ed25519PublicKey):
        raw = key.public_bytes(Encoding.Raw, PublicFormat.Raw)
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(raw)}
    if isinstance(key, ec.EllipticCurvePublicKey):
        crv = _CRV_OF_CURVE.get(key.curve.name)
        if crv is None:
            raise MalformedInput(f"unsupported curve {key.curve.name}", code=CODE)
        size = EC_CURVES[crv][1]
        nums = key.public_numbers()
        return {"kty": "EC", "crv": crv, "x": b64url_encode(nums.x.to_bytes(size, "big")),
                "y": b64url_encode(nums.y.to_bytes(size, "big"))}
    if isinstance(key, rsa.RSAPublicKey):
        rn = key.public_numbers()
        return {"kty": "RSA", "n": _uint(rn.n), "e": _uint(rn.e)}
    raise MalformedInput("unsupported key type", code=CODE)


_THUMBPRINT_MEMBERS = {"EC": ("crv", "kty", "x", "y"), "OKP": ("crv", "kty", "x"),
                       "RSA": ("e", "kty", "n")}


def jwk_thumbprint(jwk: Mapping[str, Any]) -> str:
    """RFC 7638: base64url(SHA-256(JSON of the required members, sorted, no whitespace))."""
    members = _THUMBPRINT_MEMBERS.get(str(jwk.get("kty")))
    if members is None:
        raise MalformedInput(f"no thumbprint rule for kty {jwk.get('kty')!r}", code=CODE)
    subset = {}
    for name in members:
        value = jwk.get(name)
        if not isinstance(value, str):
            raise MalformedInput(f"JWK member {name!r} is missing or not a string", code=CODE)
        subset[name] = value
    canonical = json.dumps(subset, separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return b64url_encode(hashlib.sha256(canonical.encode("utf-8")).digest())


def jcs_jwk_from_bytes(raw: bytes) -> dict[str, Any]:
    """The JWK inside EBSI's ``jwk_jcs-pub`` (0xeb51) key bytes.

    Stricter than EBSI's resolver on one point: the bytes must be exactly the JCS (RFC 8785)
    serialisation the codec's name promises, so one key has one did:key (EBSI also accepts
    insignificant whitespace).
    """
    jwk = parse_strict_json(raw, code=CODE, max_depth=4)
    if not isinstance(jwk, dict):
        raise MalformedInput("jwk_jcs-pub bytes are not a JSON object", code=CODE)
    # EBSI's codec keeps only the RFC 7638 required members (no kid, no d, no alg).
    if tuple(sorted(jwk)) != _THUMBPRINT_MEMBERS.get(str(jwk.get("kty"))):
        raise MalformedInput("jwk_jcs-pub JWKs hold exactly the required public members",
                             code=CODE)
    if rfc8785.dumps(jwk) != raw:
        raise MalformedInput("jwk_jcs-pub bytes are not JCS-canonical", code=CODE)
    return jwk


def public_key_from_multicodec(code: int, raw: bytes) -> PublicKey:
    """A key from multicodec ``code`` and its bytes: 0xed, 0x1200, 0xe7, 0x1201, 0xeb51."""
    if code == ED25519_PUB:
        if len(raw) != 32:
            raise MalformedInput("Ed25519 keys are 32 bytes", code=CODE)
        return ed25519.Ed25519PublicKey.from_public_bytes(raw)
    if code in _COMPRESSED:
        crv = _COMPRESSED[code]
        curve, size = EC_CURVES[crv]
        if len(raw) != size + 1 or raw[0] not in (2, 3):
            raise MalformedInput(f"{crv} did:key keys are {size + 1}-byte compressed points",
                                 code=CODE)
        try:
            return ec.EllipticCurvePublicKey.from_encoded_point(curve(), raw)
        except ValueError as exc:
            raise MalformedInput(f"point is not on {crv}", code=CODE) from exc
    if code == JWK_JCS_PUB:
        return public_key_from_jwk(jcs_jwk_from_bytes(raw))
    raise MalformedInput(f"unsupported multicodec 0x{code:x}", code=CODE)


__all__ = [
    "EC_CURVES",
    "ED25519_PUB",
    "JWK_JCS_PUB",
    "P256_PUB",
    "P384_PUB",
    "SECP256K1_PUB",
    "PrivateKey",
    "PublicKey",
    "jcs_jwk_from_bytes",
    "jwk_from_public_key",
    "jwk_thumbprint",
    "public_key_from_jwk",
    "public_key_from_multicodec",
]
