"""DID documents and W3C DID Resolution results (DID Core, DID Resolution)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

DID_JSON_LD = "application/did+ld+json"
DID_JSON = "application/did+json"


class VerificationMethod(BaseModel):
    """A key in a DID document: JsonWebKey2020/JsonWebKey (``publicKeyJwk``) or Multikey."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    id: str
    type: str
    controller: str
    public_key_jwk: dict[str, Any] | None = Field(default=None, alias="publicKeyJwk")
    public_key_multibase: str | None = Field(default=None, alias="publicKeyMultibase")


class DIDDocument(BaseModel):
    """The subset of DID Core the verifier relies on; other properties are kept verbatim."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)

    context: Any = Field(default=None, alias="@context")
    id: str
    controller: str | list[str] | None = None
    verification_method: list[VerificationMethod] = Field(
        default_factory=list, alias="verificationMethod"
    )
    authentication: list[str | VerificationMethod] = Field(default_factory=list)
    assertion_method: list[str | VerificationMethod] = Field(
        default_factory=list, alias="assertionMethod"
    )
    key_agreement: list[str | VerificationMethod] = Field(
        default_factory=list, alias="keyAgreement"
    )
    capability_invocation: list[str | VerificationMethod] = Field(
        default_factory=list, alias="capabilityInvocation"
    )
    capability_delegation: list[str | VerificationMethod] = Field(
        default_factory=list, alias="capabilityDelegation"
    )
    service: list[dict[str, Any]] | None = None

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class ResolutionMetadata(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    content_type: str | None = Field(default=None, alias="contentType")
    error: str | None = None
    error_message: str | None = Field(default=None, alias="errorMessage")


class ResolutionResult(BaseModel):
    """``{didDocument, didResolutionMetadata, didDocumentMetadata}``; errors are data."""

    model_config = ConfigDict(populate_by_name=True)

    did_document: DIDDocument | None = Field(default=None, alias="didDocument")
    did_resolution_metadata: ResolutionMetadata = Field(
        default_factory=ResolutionMetadata, alias="didResolutionMetadata"
    )
    did_document_metadata: dict[str, Any] = Field(
        default_factory=dict, alias="didDocumentMetadata"
    )

    @property
    def ok(self) -> bool:
        return self.did_document is not None and self.did_resolution_metadata.error is None


__all__ = [
    "DID_JSON",
    "DID_JSON_LD",
    "DIDDocument",
    "ResolutionMetadata",
    "ResolutionResult",
    "VerificationMethod",
]
