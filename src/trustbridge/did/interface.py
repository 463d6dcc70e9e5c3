"""What the rest of TrustBridge asks of DID resolution, and the key behind a verification method.

``resolve`` never raises for a bad DID: errors are data in ``didResolutionMetadata.error``
(DID Resolution §"DID Resolution Metadata"). ``dereference`` is what signature checks call;
it raises ``DIDError`` whose ``transient`` flag keeps the two error families apart:
``True`` means the facts could not be had (timeout, upstream down, not found, too large →
the caller reports *indeterminate*), ``False`` means the data is bad (→ *invalid*).
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import base58

from trustbridge.crypto._errors import MalformedInput
from trustbridge.crypto.jwk import (
    ED25519_PUB,
    SECP256K1_PUB,
    PublicKey,
    public_key_from_jwk,
    public_key_from_multicodec,
)
from trustbridge.crypto.multibase import decode_multibase, read_multicodec
from trustbridge.errors import InputError
from trustbridge.model.did import ResolutionResult, VerificationMethod

INVALID_DID = "invalidDid"
INVALID_DID_URL = "invalidDidUrl"
NOT_FOUND = "notFound"
METHOD_NOT_SUPPORTED = "methodNotSupported"
REPRESENTATION_NOT_SUPPORTED = "representationNotSupported"
INTERNAL_ERROR = "internalError"
VERIFICATION_METHOD_NOT_FOUND = "verificationMethodNotFound"
RELATIONSHIP_NOT_AUTHORIZED = "relationshipNotAuthorized"

RELATIONSHIPS = ("authentication", "assertionMethod", "keyAgreement", "capabilityInvocation",
                 "capabilityDelegation")

_CODES = {
    INVALID_DID: "did.invalid", INVALID_DID_URL: "did.invalid_url", NOT_FOUND: "did.not_found",
    METHOD_NOT_SUPPORTED: "did.method_not_supported",
    REPRESENTATION_NOT_SUPPORTED: "did.representation_not_supported",
    INTERNAL_ERROR: "did.unresolvable",
    VERIFICATION_METHOD_NOT_FOUND: "did.verification_method_not_found",
    RELATIONSHIP_NOT_AUTHORIZED: "did.relationship_not_authorized",
}


class DIDError(InputError):
    """A DID or DID URL could not be resolved/dereferenced; ``error`` is the DID error value."""

    def __init__(self, message: str, *, error: str, transient: bool = False) -> None:
        super().__init__(message, code=_CODES.get(error, "did.unresolvable"),
                         details={"error": error, "transient": transient})
        self.error = error
        self.transient = transient


@runtime_checkable
class DIDResolver(Protocol):
    async def resolve(self, did: str) -> ResolutionResult:
        """The resolution result; never raises for a bad or unknown DID."""
        ...

    async def dereference(self, did_url: str, *,
                          relationship: str | None = None) -> VerificationMethod:
        """The verification method ``did_url`` names, authorised for ``relationship``."""
        ...


KEY_CODE = "key.unsupported"


def public_key_of(vm: VerificationMethod) -> PublicKey:
    """The signing key of a verification method: ``publicKeyJwk`` (JsonWebKey2020/JsonWebKey),
    ``publicKeyMultibase`` (Multikey, Ed25519VerificationKey2020) or ``publicKeyBase58``
    (Ed25519VerificationKey2018, EcdsaSecp256k1VerificationKey2019)."""
    if vm.public_key_jwk is not None:
        return public_key_from_jwk(vm.public_key_jwk)
    if vm.public_key_multibase is not None:
        code, raw = read_multicodec(decode_multibase(vm.public_key_multibase))
        return public_key_from_multicodec(code, raw)
    extra = vm.model_extra or {}
    b58 = extra.get("publicKeyBase58")
    if isinstance(b58, str) and len(b58) < 128:
        try:
            raw = base58.b58decode(b58)
        except ValueError as exc:
            raise MalformedInput("publicKeyBase58 is not base58", code=KEY_CODE) from exc
        if vm.type == "Ed25519VerificationKey2018":
            return public_key_from_multicodec(ED25519_PUB, raw)
        if vm.type == "EcdsaSecp256k1VerificationKey2019":
            return public_key_from_multicodec(SECP256K1_PUB, raw)
    raise MalformedInput(f"verification method type {vm.type!r} carries no usable signing key",
                         code=KEY_CODE)


__all__ = [
    "INTERNAL_ERROR",
    "INVALID_DID",
    "INVALID_DID_URL",
    "METHOD_NOT_SUPPORTED",
    "NOT_FOUND",
    "RELATIONSHIPS",
    "RELATIONSHIP_NOT_AUTHORIZED",
    "REPRESENTATION_NOT_SUPPORTED",
    "VERIFICATION_METHOD_NOT_FOUND",
    "DIDError",
    "DIDResolver",
    "public_key_of",
]
