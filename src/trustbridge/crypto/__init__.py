"""Keys, JWK, compact JWS and multibase/multicodec: the only place signatures are checked."""

from trustbridge.crypto._errors import MalformedInput
from trustbridge.crypto.jwk import (
    PrivateKey,
    PublicKey,
    jwk_from_public_key,
    jwk_thumbprint,
    public_key_from_jwk,
    public_key_from_multicodec,
)
from trustbridge.crypto.jws import (
    DEFAULT_ALGS,
    RSA_ALGS,
    CompactJWS,
    SignatureError,
    alg_for_key,
    generate_private_key,
    parse_compact_jws,
    sign_jws,
    verify_jws,
)

__all__ = [
    "DEFAULT_ALGS",
    "RSA_ALGS",
    "CompactJWS",
    "MalformedInput",
    "PrivateKey",
    "PublicKey",
    "SignatureError",
    "alg_for_key",
    "generate_private_key",
    "jwk_from_public_key",
    "jwk_thumbprint",
    "parse_compact_jws",
    "public_key_from_jwk",
    "public_key_from_multicodec",
    "sign_jws",
    "verify_jws",
]
