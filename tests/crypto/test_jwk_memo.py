"""The memoised public-key <-> JWK conversions stay correct and never share mutable state."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from trustbridge.crypto.jwk import jwk_from_public_key, public_key_from_jwk


def test_jwk_of_a_key_is_a_fresh_copy_each_time() -> None:
    key = ec.generate_private_key(ec.SECP256R1()).public_key()
    first = jwk_from_public_key(key)
    first["x"] = "tampered"
    second = jwk_from_public_key(key)
    assert second["x"] != "tampered"
    assert public_key_from_jwk(second).public_numbers() == key.public_numbers()


def test_distinct_keys_never_share_a_remembered_jwk() -> None:
    jwks = set()
    for _ in range(50):  # short-lived keys: ids may be reused once a key is gone
        key = ed25519.Ed25519PrivateKey.generate().public_key()
        jwk = jwk_from_public_key(key)
        assert public_key_from_jwk(jwk).public_bytes_raw() == key.public_bytes_raw()
        jwks.add(jwk["x"])
    assert len(jwks) == 50
