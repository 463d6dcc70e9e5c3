"""ADAPTER (temporary): DID dereferencing for proof checks, from ``trustbridge.did`` when it is
installed, else a minimal local resolver for ``did:key`` and ``did:jwk`` only.

The DID package (another engineer's) promises ``trustbridge.did.interface`` with
``DIDError(.error, .transient)``, ``public_key_of(vm)`` and a ``DIDResolver`` whose
``dereference(did_url, *, relationship)`` returns a ``VerificationMethod``. The
fallback exists so JWT verification is testable before it lands; delete it when
``trustbridge.did`` is stable.
"""

from __future__ import annotations

import importlib
import json
from typing import Any

import base58

from trustbridge.formats._jose import b64url, b64url_decode, public_key_from_jwk
from trustbridge.model.did import VerificationMethod


class FallbackDIDError(Exception):
    """Resolution failed; ``error`` is a DID Resolution error string."""

    def __init__(self, message: str, *, error: str = "notFound", transient: bool = False) -> None:
        super().__init__(message)
        self.error = error
        self.transient = transient


def _fallback_public_key_of(vm: Any) -> Any:
    jwk = getattr(vm, "public_key_jwk", None)
    if jwk is None:
        raise ValueError("verification method has no publicKeyJwk")
    return public_key_from_jwk(jwk)


# multicodec varint prefixes (https://github.com/multiformats/multicodec table.csv)
_ED25519 = b"\xed\x01"
_P256 = b"\x80\x24"
_SECP256K1 = b"\xe7\x01"
_JWK_JCS = b"\xd1\xd6\x03"  # jwk_jcs-pub, EBSI natural-person did:key


def _compressed_ec_jwk(data: bytes, crv: str) -> dict[str, Any]:
    from cryptography.hazmat.primitives.asymmetric import ec

    curve: ec.EllipticCurve = ec.SECP256R1() if crv == "P-256" else ec.SECP256K1()
    key = ec.EllipticCurvePublicKey.from_encoded_point(curve, data)
    nums = key.public_numbers()
    return {"kty": "EC", "crv": crv, "x": b64url(nums.x.to_bytes(32, "big")),
            "y": b64url(nums.y.to_bytes(32, "big"))}


def did_key_jwk(did: str) -> dict[str, Any]:
    """The public JWK a ``did:key`` encodes (Ed25519, P-256, secp256k1, EBSI jwk_jcs-pub)."""
    ident = did.removeprefix("did:key:")
    if not ident.startswith("z"):
        raise _did_error("did:key must be base58btc multibase", error="invalidDid")
    try:
        data = base58.b58decode(ident[1:])
    except ValueError as exc:
        raise _did_error("did:key is not base58", error="invalidDid") from exc
    if data.startswith(_ED25519) and len(data) == 34:
        return {"kty": "OKP", "crv": "Ed25519", "x": b64url(data[2:])}
    if data.startswith(_P256):
        return _compressed_ec_jwk(data[2:], "P-256")
    if data.startswith(_SECP256K1):
        return _compressed_ec_jwk(data[2:], "secp256k1")
    if data.startswith(_JWK_JCS):
        jwk = json.loads(data[3:])
        if isinstance(jwk, dict):
            return jwk
    raise _did_error("unsupported did:key multicodec", error="invalidDid")


class FallbackResolver:
    """did:key and did:jwk only; every key is in authentication and assertionMethod."""

    async def dereference(self, did_url: str, *, relationship: str = "assertionMethod"
                          ) -> VerificationMethod:
        did, _, fragment = did_url.partition("#")
        if did.startswith("did:key:"):
            jwk = did_key_jwk(did)
            expected = did.removeprefix("did:key:")
        elif did.startswith("did:jwk:"):
            try:
                jwk = json.loads(b64url_decode(did.removeprefix("did:jwk:")))
            except ValueError as exc:
                raise _did_error("did:jwk is not base64url JSON",
                                       error="invalidDid") from exc
            expected = "0"
        else:
            raise _did_error(f"DID method of {did} is not supported here",
                                   error="methodNotSupported")
        if fragment and fragment != expected:
            raise _did_error(f"{did_url} is not a verification method of {did}",
                                   error="notFound")
        return VerificationMethod.model_validate(
            {"id": f"{did}#{expected}", "type": "JsonWebKey2020", "controller": did,
             "publicKeyJwk": jwk})


def _did_error(message: str, *, error: str = "notFound", transient: bool = False) -> Exception:
    """The DID error class callers catch: the real one once ``trustbridge.did`` exists."""
    error_class: Any = DIDError  # both classes take (message, *, error, transient)
    exc: Exception = error_class(message, error=error, transient=transient)
    return exc


def _real(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name is not None and module.startswith(exc.name):
            return None
        raise


_iface = _real("trustbridge.did.interface")
USING_FALLBACK = _iface is None
DIDError: type[Exception] = _iface.DIDError if _iface else FallbackDIDError
public_key_of: Any = _iface.public_key_of if _iface else _fallback_public_key_of

__all__ = ["USING_FALLBACK", "DIDError", "FallbackResolver", "did_key_jwk", "public_key_of"]
