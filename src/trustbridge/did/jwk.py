"""did:jwk (github.com/quartzjer/did-jwk spec): the DID is base64url(UTF-8 JSON of a JWK).

Read (spec §Read): 1. strip the prefix; 2. base64url-decode; 3. parse as UTF-8 JSON;
4. validate the JWK (a public key on a supported curve; private members are refused, as the
spec's security section requires); 5. build the document: one method ``#0``; ``use: sig``
drops ``keyAgreement``, ``use: enc`` keeps only ``keyAgreement``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import lru_cache
from typing import Any

from cryptography.hazmat.primitives.asymmetric import x25519

from trustbridge.crypto._errors import MalformedInput
from trustbridge.crypto.base64url import b64url_decode, b64url_encode
from trustbridge.crypto.jwk import public_key_from_jwk
from trustbridge.crypto.strict_json import parse_strict_json
from trustbridge.did.interface import INVALID_DID, DIDError
from trustbridge.did.key import DID_V1, SIGNING_RELATIONSHIPS
from trustbridge.did.syntax import parse_did

PREFIX = "did:jwk:"
JWS_2020 = "https://w3id.org/security/suites/jws-2020/v1"
PRIVATE_MEMBERS = frozenset({"d", "p", "q", "dp", "dq", "qi", "oth", "k"})


def validate_public_jwk(jwk: Mapping[str, Any]) -> None:
    """Step 4: a public key we can use (signing keys, or X25519 for key agreement)."""
    if PRIVATE_MEMBERS & set(jwk):
        raise MalformedInput("the JWK carries private key material", code="key.invalid")
    if jwk.get("kty") == "OKP" and jwk.get("crv") == "X25519":
        x = jwk.get("x")
        raw = b64url_decode(x if isinstance(x, str) else "", code="key.invalid")
        if len(raw) != 32:
            raise MalformedInput("X25519 keys are 32 bytes", code="key.invalid")
        x25519.X25519PublicKey.from_public_bytes(raw)
        return
    public_key_from_jwk(jwk)


def decode_did_jwk(did: str) -> dict[str, Any]:
    """Steps 1-4: the JWK of a did:jwk, or ``DIDError(invalidDid)``."""
    parsed = parse_did(did)
    if parsed.method != "jwk":
        raise DIDError("not a did:jwk", error=INVALID_DID)
    try:
        jwk = parse_strict_json(b64url_decode(parsed.method_specific_id, code="did.invalid"),
                                code="did.invalid", max_depth=4)
        if not isinstance(jwk, dict):
            raise MalformedInput("did:jwk does not encode a JSON object", code="did.invalid")
        validate_public_jwk(jwk)
    except MalformedInput as exc:
        raise DIDError(f"invalid did:jwk: {exc.message}", error=INVALID_DID) from exc
    return jwk


def build_did_jwk_document(did: str, *, with_context: bool = True) -> dict[str, Any]:
    """Step 5."""
    jwk = decode_did_jwk(did)
    vm_id = f"{did}#0"
    doc: dict[str, Any] = {}
    if with_context:
        doc["@context"] = [DID_V1, JWS_2020]
    doc["id"] = did
    doc["verificationMethod"] = [{"id": vm_id, "type": "JsonWebKey2020", "controller": did,
                                  "publicKeyJwk": jwk}]
    use = jwk.get("use")
    if use != "enc":
        for rel in SIGNING_RELATIONSHIPS:
            doc[rel] = [vm_id]
    if use != "sig":
        doc["keyAgreement"] = [vm_id]
    return doc


@lru_cache(maxsize=4096)
def _document_json(did: str, with_context: bool) -> str:
    return json.dumps(build_did_jwk_document(did, with_context=with_context))


def resolve_did_jwk(did: str, *, with_context: bool = True) -> dict[str, Any]:
    """``build_did_jwk_document`` memoised (a pure function of the DID): a fresh copy."""
    result: dict[str, Any] = json.loads(_document_json(did, with_context))
    return result


def clear_memo() -> None:
    _document_json.cache_clear()


def did_jwk_from_jwk(jwk: Mapping[str, Any]) -> str:
    """did:jwk of a public JWK, serialised compactly with sorted members (stable)."""
    validate_public_jwk(jwk)
    text = json.dumps(dict(jwk), separators=(",", ":"), sort_keys=True, ensure_ascii=False)
    return PREFIX + b64url_encode(text.encode("utf-8"))


__all__ = ["build_did_jwk_document", "clear_memo", "decode_did_jwk", "did_jwk_from_jwk",
           "resolve_did_jwk", "validate_public_jwk"]
