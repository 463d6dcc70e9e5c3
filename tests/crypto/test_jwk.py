"""JWK parsing/validation, RFC 7638 thumbprints and multicodec keys."""

from __future__ import annotations

import json

import pytest
import rfc8785

from trustbridge.crypto.base64url import b64url_encode
from trustbridge.crypto.jwk import (
    JWK_JCS_PUB,
    jwk_from_public_key,
    jwk_thumbprint,
    public_key_from_jwk,
    public_key_from_multicodec,
)
from trustbridge.errors import InputError

# RFC 7638 §3.1 example key and its thumbprint.
RFC7638_JWK = {
    "kty": "RSA",
    "n": "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_B"
         "JECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FD"
         "W2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQ"
         "Fh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw",
    "e": "AQAB",
    "alg": "RS256",
    "kid": "2011-04-29",
}
# RFC 8037 §A.3: thumbprint of the Appendix A.2 Ed25519 public key.
RFC8037_PUB = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}
P256 = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
        "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}


def test_rfc7638_thumbprint() -> None:
    assert jwk_thumbprint(RFC7638_JWK) == "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def test_rfc8037_thumbprint() -> None:
    assert jwk_thumbprint(RFC8037_PUB) == "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"


def test_private_member_is_ignored() -> None:
    with_d = {**P256, "d": "jpsQnnGQmL-YBIffH1136cLSG3nIQrVQ9ZP-OB8YTX8"}
    assert jwk_from_public_key(public_key_from_jwk(with_d)) == P256


@pytest.mark.parametrize("jwk", [
    {**P256, "y": P256["x"]},  # point not on the curve
    {**P256, "x": b64url_encode(b"\x01" * 31)},  # short coordinate
    {**P256, "crv": "P-521"},
    {**P256, "crv": "secp256k1"},  # P-256 point is not on secp256k1
    {"kty": "EC", "crv": "P-256", "x": P256["x"]},  # no y
    {"kty": "OKP", "crv": "X25519", "x": RFC8037_PUB["x"]},
    {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(b"\x01" * 31)},
    {"kty": "OKP", "crv": "Ed25519", "x": 5},
    {"kty": "RSA", "n": b64url_encode(b"\xff" * 128), "e": "AQAB"},  # 1024-bit
    {"kty": "oct", "k": "AAAA"},
    {},
])
def test_bad_jwks(jwk: dict[str, object]) -> None:
    with pytest.raises(InputError) as info:
        public_key_from_jwk(jwk)
    assert info.value.code == "key.invalid"


def test_jcs_multicodec_must_be_canonical() -> None:
    canonical = rfc8785.dumps(P256)
    key = public_key_from_multicodec(JWK_JCS_PUB, canonical)
    assert jwk_from_public_key(key) == P256
    spaced = json.dumps(P256).encode()
    with pytest.raises(InputError, match="JCS"):
        public_key_from_multicodec(JWK_JCS_PUB, spaced)


@pytest.mark.parametrize(("code", "raw"), [
    (0xED, b"\x01" * 31), (0x1200, b"\x04" + b"\x01" * 64), (0x1200, b"\x02" + b"\xff" * 32),
    (0xE7, b"\x02"), (0x1201, b"\x02" * 33), (0x12, b"\x00" * 32),
])
def test_bad_multicodec_keys(code: int, raw: bytes) -> None:
    with pytest.raises(InputError) as info:
        public_key_from_multicodec(code, raw)
    assert info.value.code == "key.invalid"
