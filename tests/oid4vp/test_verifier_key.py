"""The verifier key's public JWK is computed once, not per request (issue 8: every request
object signed used to add a copy of the same public key to crypto.jwk's per-object memo)."""

from __future__ import annotations

from cryptography.hazmat.primitives.asymmetric import ec

from trustbridge.crypto import jwk as jwk_module
from trustbridge.crypto.jws import parse_compact_jws, verify_jws
from trustbridge.oid4vp.verifier_key import VerifierKey


def test_signing_many_requests_does_not_fill_the_jwk_memo() -> None:
    key = VerifierKey(ec.generate_private_key(ec.SECP256R1()))
    before = len(jwk_module._JWK_MEMO)
    first = key.sign({"typ": "oauth-authz-req+jwt"}, b'{"n":0}')
    for i in range(200):
        key.sign({"typ": "oauth-authz-req+jwt"}, f'{{"n":{i}}}'.encode())
        assert key.client_id.startswith("decentralized_identifier:did:jwk:")
    assert len(jwk_module._JWK_MEMO) <= before + 1
    jwk = key.jwk
    jwk["x"] = "changed"  # a caller's copy: the key's own JWK is not touched
    assert key.jwk != jwk
    public = jwk_module.public_key_from_jwk(key.jwk)
    verify_jws(parse_compact_jws(first), public)  # raises if the signature is bad
