"""What a verifier asks a wallet for: DCQL queries and DIF Presentation Exchange definitions.

Wire models for untrusted input from the HR system. OpenID4VP 1.0 (final) only
knows DCQL (section 6); pre-final drafts (≤ 22) carried a DIF Presentation
Exchange v2 ``presentation_definition``, which wallets in the field still use,
so both are accepted. A convenience form (types, schema, accredited issuer)
is translated into DCQL.
"""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")

# Credential Format Identifiers this verifier can check (OpenID4VP 1.0 appendix B and the
# pre-final PE format designations).
DCQL_FORMATS = ("jwt_vc_json", "ldp_vc", "dc+sd-jwt", "vc+sd-jwt")
PE_VP_FORMATS = ("jwt_vp", "jwt_vp_json", "ldp_vp", "vc+sd-jwt", "dc+sd-jwt")
PE_VC_FORMATS = ("jwt_vc", "jwt_vc_json", "ldp_vc", "vc+sd-jwt", "dc+sd-jwt")
SUPPORTED_ALGS = ["EdDSA", "ES256", "ES256K", "ES384"]

ClaimPath = list[str | int | None]
# The JSONPath subset ``paths.parse_json_path`` accepts, as a schema pattern for OpenAPI.
SIMPLE_JSON_PATH = r"^\$(\.[A-Za-z_@$][A-Za-z0-9_@$:-]*|\[-?\d+\]|\['[^']*'\]|\[\*\]|\.\*)*$"


class ClaimsQuery(BaseModel):
    """DCQL 6.3: one claim, by claims path pointer, optionally with expected values."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    path: ClaimPath = Field(min_length=1, max_length=16)
    values: list[str | int | bool] | None = Field(default=None, min_length=1, max_length=64)

    @field_validator("id")
    @classmethod
    def _id(cls, v: str | None) -> str | None:
        if v is not None and not _ID.match(v):
            raise ValueError("claim id must be alphanumeric, '_' or '-'")
        return v


class CredentialQuery(BaseModel):
    """DCQL 6.1: one requested credential (format, meta, claims)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    format: Literal["jwt_vc_json", "ldp_vc", "dc+sd-jwt", "vc+sd-jwt"]
    multiple: bool = False
    meta: dict[str, Any] = Field(default_factory=dict)
    require_cryptographic_holder_binding: bool = True
    claims: list[ClaimsQuery] | None = Field(default=None, min_length=1, max_length=64)
    claim_sets: list[list[str]] | None = Field(default=None, min_length=1, max_length=16)
    trusted_authorities: list[dict[str, Any]] | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, v: str) -> str:
        if not _ID.match(v):
            raise ValueError("credential query id must be alphanumeric, '_' or '-'")
        return v

    @model_validator(mode="after")
    def _claim_sets_refer_to_claims(self) -> CredentialQuery:
        if self.claim_sets is not None:
            ids = {c.id for c in self.claims or [] if c.id}
            for option in self.claim_sets:
                missing = [i for i in option if i not in ids]
                if missing:
                    raise ValueError(f"claim_sets refer to unknown claim ids {missing}")
        return self


class CredentialSetQuery(BaseModel):
    """DCQL 6.2: alternatives of credential query ids satisfying one use case."""

    model_config = ConfigDict(extra="allow")

    options: list[list[str]] = Field(min_length=1, max_length=16)
    required: bool = True


class DcqlQuery(BaseModel):
    """DCQL 6: the query a 1.0 wallet evaluates."""

    model_config = ConfigDict(extra="allow")

    credentials: list[CredentialQuery] = Field(min_length=1, max_length=16)
    credential_sets: list[CredentialSetQuery] | None = Field(default=None, min_length=1)

    @model_validator(mode="after")
    def _ids(self) -> DcqlQuery:
        ids = [c.id for c in self.credentials]
        if len(set(ids)) != len(ids):
            raise ValueError("credential query ids must be unique")
        for cs in self.credential_sets or []:
            for option in cs.options:
                unknown = [i for i in option if i not in ids]
                if unknown:
                    raise ValueError(f"credential_sets refer to unknown ids {unknown}")
        return self


class PexFilterField(BaseModel):
    """DIF PE v2 ``constraints.fields[]``: JSONPath alternatives and a JSON Schema filter."""

    model_config = ConfigDict(extra="allow")

    id: str | None = None
    path: list[Annotated[str, Field(pattern=SIMPLE_JSON_PATH)]] = Field(min_length=1,
                                                                        max_length=16)
    filter: dict[str, Any] | None = None
    optional: bool = False
    purpose: str | None = None
    name: str | None = None


class PexConstraints(BaseModel):
    model_config = ConfigDict(extra="allow")

    fields: list[PexFilterField] = Field(default_factory=list, max_length=64)
    limit_disclosure: Literal["required", "preferred"] | None = None


class InputDescriptor(BaseModel):
    """DIF PE v2 ``input_descriptors[]``."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=128)
    name: str | None = None
    purpose: str | None = None
    format: dict[str, Any] | None = None
    constraints: PexConstraints = Field(default_factory=PexConstraints)
    group: list[str] | None = None


class PresentationDefinition(BaseModel):
    """DIF Presentation Exchange v2 presentation definition (pre-final OpenID4VP drafts)."""

    model_config = ConfigDict(extra="allow")

    id: str = Field(min_length=1, max_length=128)
    name: str | None = None
    purpose: str | None = None
    format: dict[str, Any] | None = None
    input_descriptors: list[InputDescriptor] = Field(min_length=1, max_length=16)
    submission_requirements: list[dict[str, Any]] | None = None

    @model_validator(mode="after")
    def _unique(self) -> PresentationDefinition:
        ids = [d.id for d in self.input_descriptors]
        if len(set(ids)) != len(ids):
            raise ValueError("input descriptor ids must be unique")
        return self


SimpleFormat = Literal["jwt_vc_json", "ldp_vc"]
_SIMPLE_FORMATS: tuple[SimpleFormat, ...] = ("jwt_vc_json", "ldp_vc")


class SimpleQuery(BaseModel):
    """The convenience form: "credential types X with schema Y from an accredited issuer"."""

    model_config = ConfigDict(extra="forbid")

    types: list[str] = Field(min_length=1, max_length=8)
    schema_id: str | None = Field(default=None, alias="schema", max_length=2048)
    require_accredited_issuer: bool = False
    formats: list[SimpleFormat] = Field(default_factory=lambda: list(_SIMPLE_FORMATS),
                                        min_length=1)


def dcql_from_simple(simple: SimpleQuery) -> DcqlQuery:
    """One credential query per accepted format, offered as alternatives (DCQL 6.2)."""
    credentials: list[dict[str, Any]] = []
    for fmt in dict.fromkeys(simple.formats):  # a repeated format is one alternative
        entry: dict[str, Any] = {
            "id": fmt.replace("+", "_").replace("-", "_"),
            "format": fmt,
            "meta": {"type_values": [list(simple.types)]},
        }
        if simple.schema_id is not None:
            # credentialSchema may be an object or an array of objects: ask for the id
            # claim; the value itself is checked by ``matching`` (which knows both shapes).
            entry["claims"] = [{"id": "schema", "path": ["credentialSchema"]}]
        credentials.append(entry)
    sets = [{"options": [[c["id"]] for c in credentials], "required": True}]
    return DcqlQuery.model_validate({"credentials": credentials, "credential_sets": sets})


def vp_formats_supported() -> dict[str, Any]:
    """Verifier metadata ``vp_formats_supported`` (OpenID4VP 1.0 section 11.1, appendix B)."""
    return {
        "jwt_vc_json": {"alg_values": SUPPORTED_ALGS},
        "ldp_vc": {
            "proof_type_values": ["DataIntegrityProof", "Ed25519Signature2020",
                                  "Ed25519Signature2018", "JsonWebSignature2020"],
            "cryptosuite_values": ["eddsa-rdfc-2022", "ecdsa-rdfc-2019"],
        },
        "dc+sd-jwt": {"sd-jwt_alg_values": SUPPORTED_ALGS, "kb-jwt_alg_values": SUPPORTED_ALGS},
    }


def pex_formats_supported() -> dict[str, Any]:
    """Pre-final ``vp_formats`` for Presentation Exchange requests."""
    algs = {"alg": SUPPORTED_ALGS}
    return {
        "jwt_vp": algs, "jwt_vp_json": algs, "jwt_vc": algs, "jwt_vc_json": algs,
        "ldp_vp": {"proof_type": vp_formats_supported()["ldp_vc"]["proof_type_values"]},
        "ldp_vc": {"proof_type": vp_formats_supported()["ldp_vc"]["proof_type_values"]},
        "vc+sd-jwt": {"sd-jwt_alg_values": SUPPORTED_ALGS, "kb-jwt_alg_values": SUPPORTED_ALGS},
    }


__all__ = [
    "DCQL_FORMATS",
    "PE_VC_FORMATS",
    "PE_VP_FORMATS",
    "ClaimsQuery",
    "CredentialQuery",
    "CredentialSetQuery",
    "DcqlQuery",
    "InputDescriptor",
    "PexConstraints",
    "PexFilterField",
    "PresentationDefinition",
    "SimpleQuery",
    "dcql_from_simple",
    "pex_formats_supported",
    "vp_formats_supported",
]
