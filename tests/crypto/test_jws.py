"""Compact JWS against the RFC examples, plus the refusals the allow-list promises."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric import ec

from trustbridge.crypto.base64url import b64url_encode
from trustbridge.crypto.jwk import jwk_from_public_key, public_key_from_jwk
from trustbridge.crypto.jws import (
    DEFAULT_ALGS,
    RSA_ALGS,
    SignatureError,
    alg_for_key,
    generate_private_key,
    parse_compact_jws,
    sign_jws,
    verify_jws,
)
from trustbridge.errors import InputError

# RFC 8037 Appendix A.1 (key) and A.4 (JWS "Example of Ed25519 signing").
RFC8037_JWK = {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
               "d": "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A"}
RFC8037_JWS = ("eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt"
               "7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg")
# RFC 7515 Appendix A.3 (ES256).
RFC7515_JWK = {"kty": "EC", "crv": "P-256", "x": "f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU",
               "y": "x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}
RFC7515_JWS = ("eyJhbGciOiJFUzI1NiJ9.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9le"
               "GFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTj"
               "Dxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q")


def test_rfc8037_ed25519_vector_verifies() -> None:
    jws = parse_compact_jws(RFC8037_JWS)
    assert jws.payload == b"Example of Ed25519 signing"
    verify_jws(jws, public_key_from_jwk(RFC8037_JWK))


def test_rfc7515_es256_vector_verifies() -> None:
    jws = parse_compact_jws(RFC7515_JWS)
    verify_jws(jws, public_key_from_jwk(RFC7515_JWK))
    assert jws.payload_json()["iss"] == "joe"


def _flip_last_char(token: str) -> str:
    h, p, s = token.split(".")
    return f"{h}.{p}.{s[:-2]}{'A' if s[-2] != 'A' else 'B'}{s[-1]}"


@pytest.mark.parametrize(("token", "jwk"), [(RFC8037_JWS, RFC8037_JWK), (RFC7515_JWS, RFC7515_JWK)])
def test_tampered_signature_fails(token: str, jwk: dict[str, str]) -> None:
    with pytest.raises(SignatureError) as info:
        verify_jws(parse_compact_jws(_flip_last_char(token)), public_key_from_jwk(jwk))
    assert info.value.code == "signature.invalid"


def test_tampered_payload_fails() -> None:
    h, _, s = RFC8037_JWS.split(".")
    forged = f"{h}.{b64url_encode(b'Example of Ed25519 signinG')}.{s}"
    with pytest.raises(SignatureError, match="does not verify"):
        verify_jws(parse_compact_jws(forged), public_key_from_jwk(RFC8037_JWK))


@pytest.mark.parametrize("alg", ["none", "HS256", "HS512", "RS256", "ES512", "EdDSA "])
def test_algs_outside_the_allow_list_are_refused(alg: str) -> None:
    header = b64url_encode(f'{{"alg":"{alg}"}}'.encode())
    _, p, s = RFC7515_JWS.split(".")
    jws = parse_compact_jws(f"{header}.{p}.{s}")
    with pytest.raises(SignatureError) as info:
        verify_jws(jws, public_key_from_jwk(RFC7515_JWK))
    assert info.value.code == "alg.not_allowed"


def test_hmac_refused_even_when_a_caller_allows_it() -> None:
    header = b64url_encode(b'{"alg":"HS256"}')
    jws = parse_compact_jws(f"{header}.e30.AAAA")
    with pytest.raises(SignatureError) as info:
        verify_jws(jws, public_key_from_jwk(RFC7515_JWK), allowed_algs=frozenset({"HS256"}))
    assert info.value.code == "alg.not_allowed"


@pytest.mark.parametrize(("alg", "key_alg"), [("ES256", "ES256K"), ("ES256K", "ES256"),
                                              ("EdDSA", "ES256"), ("ES384", "ES256"),
                                              ("ES256", "EdDSA")])
def test_alg_must_fit_the_key(alg: str, key_alg: str) -> None:
    signer = generate_private_key(alg)
    token = sign_jws({"alg": alg}, b"{}", signer)
    other = generate_private_key(key_alg).public_key()
    with pytest.raises(SignatureError) as info:
        verify_jws(parse_compact_jws(token), other)
    assert info.value.code == "alg.key_mismatch"


@pytest.mark.parametrize("alg", sorted(DEFAULT_ALGS | RSA_ALGS))
def test_sign_then_verify_round_trip(alg: str) -> None:
    key = generate_private_key(alg)
    assert alg_for_key(key) == alg or alg == "PS256"
    token = sign_jws({"alg": alg, "kid": "k"}, b'{"a":1}', key)
    jws = parse_compact_jws(token)
    verify_jws(jws, key.public_key(), allowed_algs=DEFAULT_ALGS | RSA_ALGS)
    assert jws.payload_json() == {"a": 1}
    # the JWK round trip gives the same key back
    again = public_key_from_jwk(jwk_from_public_key(key.public_key()))
    verify_jws(jws, again, allowed_algs=DEFAULT_ALGS | RSA_ALGS)


def test_rsa_needs_an_explicit_allow() -> None:
    key = generate_private_key("RS256")
    jws = parse_compact_jws(sign_jws({"alg": "RS256"}, b"x", key))
    with pytest.raises(SignatureError) as info:
        verify_jws(jws, key.public_key())
    assert info.value.code == "alg.not_allowed"


def test_sign_refuses_an_alg_that_does_not_fit() -> None:
    with pytest.raises(SignatureError) as info:
        sign_jws({"alg": "ES384"}, b"x", ec.generate_private_key(ec.SECP256R1()))
    assert info.value.code == "alg.key_mismatch"


def test_ecdsa_signature_must_be_raw_r_s_of_exact_length() -> None:
    key = generate_private_key("ES256")
    token = sign_jws({"alg": "ES256"}, b"x", key)
    h, p, _s = token.split(".")
    longer = b64url_encode(bytes(1) + parse_compact_jws(token).signature)
    padded = f"{h}.{p}.{longer}"
    with pytest.raises(SignatureError, match="64 bytes"):
        verify_jws(parse_compact_jws(padded), key.public_key())


@pytest.mark.parametrize("token", [
    "", "a.b", "a.b.c.d", "eyJhbGciOiJFUzI1NiJ9.e30.AA==",  # padding
    "W10.e30.AA",  # header is an array
    "e30.e30.AA",  # no alg
    "eyJhbGciOjF9.e30.AA",  # alg not a string
    "eyJhbGciOiJFUzI1NiIsImFsZyI6Im5vbmUifQ.e30.AA",  # duplicate alg
    "eyJhbGciOiJFUzI1NiIsImNyaXQiOlsiYjY0Il19.e30.AA",  # crit
    "eyJhbGciOiJFUzI1NiJ9.e30.AB",  # non-canonical base64url (stray bits)
    "eyJhbGciOiJFUzI1NiJ9.e30.A+/A",
    "eyJhbGciOiJFUzI1NiJ9.e30.A",  # impossible length
])
def test_malformed_tokens(token: str) -> None:
    with pytest.raises(InputError) as info:
        parse_compact_jws(token)
    assert info.value.code == "jws.malformed"
    assert isinstance(info.value, ValueError)  # generic callers guarding with ValueError


def test_length_cap() -> None:
    with pytest.raises(InputError, match="longer than"):
        parse_compact_jws("a" * 11 + ".b.c", max_len=10)


def test_payload_json_is_strict() -> None:
    for bad in (b"NaN", b'{"a":1,"a":2}', b"[" * 100 + b"]" * 100, b"\xff"):
        jws = parse_compact_jws(f"eyJhbGciOiJFUzI1NiJ9.{b64url_encode(bad)}.AA")
        with pytest.raises(InputError) as info:
            jws.payload_json()
        assert info.value.code == "jws.malformed"
