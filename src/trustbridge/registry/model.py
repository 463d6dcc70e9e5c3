"""Trusted Issuers Registry records as EBSI TIR v5 defines them, and parsed accreditations.

Three kinds of model live here (see STYLE.md):

* records -- ``IssuerRecord`` / ``Attribute`` as stored: an attribute is the accreditation
  JWT VC (``body``), its id (``hash``: sha256 of the JWT text), the ``issuerType`` it
  grants (``RootTAO``, ``TAO``, ``TI``, ``Revoked``) and the ``tao``/``rootTao`` DIDs;
* ``Accreditation`` -- what an attribute's JWT *says* (issuer, subject, types,
  ``accreditedFor``, validity, ``termsOfUse``), parsed but NOT verified;
* wire models -- the EBSI TIR v5 JSON shapes and our admin/HR API bodies.
"""

from __future__ import annotations

import base64
import binascii
import functools
import hashlib
import json
from datetime import UTC, datetime
from typing import Any, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field

from trustbridge.errors import InputError
from trustbridge.registry.jurisdiction import JurisdictionError, normalise

IssuerType = Literal["RootTAO", "TAO", "TI", "Revoked", "Undefined"]
ISSUER_TYPES: tuple[str, ...] = ("RootTAO", "TAO", "TI", "Revoked", "Undefined")

# Accreditation credential types (EBSI Trust Chain).
FOR_TRUST_CHAIN = "VerifiableAuthorisationForTrustChain"  # held by a RootTAO
TO_ACCREDIT = "VerifiableAccreditationToAccredit"  # held by a TAO: may accredit others
TO_ATTEST = "VerifiableAccreditationToAttest"  # held by a TI: may issue attestations
TO_ONBOARD = "VerifiableAuthorisationToOnboard"  # may register a DID; grants nothing else
ACCREDITATION_TYPES = (FOR_TRUST_CHAIN, TO_ACCREDIT, TO_ATTEST, TO_ONBOARD)

# termsOfUse types that point a credential at the accreditation it relies on.
TERMS_OF_USE_TYPES = frozenset({"IssuanceCertificate", "AccreditationPolicy"})

MAX_JWT_CHARS = 64 * 1024


def attribute_id(jwt: str) -> str:
    """EBSI's attribute id: the sha256 (hex) of the accreditation JWT text."""
    return hashlib.sha256(jwt.encode("utf-8")).hexdigest()


class AccreditedFor(BaseModel):
    """One grant: a Trusted Schemas Registry schema, the credential types, the jurisdictions.

    ``limit_jurisdiction`` is normalised to alpha-2/``EU``; ``None`` means unlimited.
    """

    model_config = ConfigDict(frozen=True, populate_by_name=True)

    schema_id: str = Field(alias="schemaId")
    types: tuple[str, ...] = ()
    limit_jurisdiction: tuple[str, ...] | None = Field(default=None, alias="limitJurisdiction")

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(by_alias=True, exclude_none=True, mode="json")


class Accreditation(BaseModel):
    """The claims of an accreditation JWT VC (parsed, not verified)."""

    model_config = ConfigDict(frozen=True)

    id: str | None
    issuer: str
    subject: str
    types: tuple[str, ...]
    accredited_for: tuple[AccreditedFor, ...]
    valid_from: datetime | None
    valid_until: datetime | None
    terms_of_use: tuple[dict[str, Any], ...] = ()
    reserved_attribute_id: str | None = None
    kid: str | None = None
    alg: str | None = None

    @property
    def kind(self) -> str | None:
        """The most specific accreditation type it carries (``TO_ATTEST`` …), if any."""
        return next((t for t in ACCREDITATION_TYPES if t in self.types), None)


class Attribute(BaseModel):
    """A TIR attribute: the accreditation JWT and what the registry records about it."""

    model_config = ConfigDict(frozen=True)

    id: str  # EBSI "hash"
    did: str
    body: str  # the JWT VC
    issuer_type: str = "Undefined"
    tao: str | None = None
    root_tao: str | None = None

    @property
    def revoked(self) -> bool:
        return self.issuer_type == "Revoked"

    def to_tir(self) -> dict[str, Any]:
        """The EBSI TIR v5 ``attribute`` object."""
        return {"hash": self.id, "body": self.body, "issuerType": self.issuer_type,
                "tao": self.tao or "", "rootTao": self.root_tao or ""}


class IssuerRecord(BaseModel):
    """An issuer DID, its display data and its attributes (in insertion order)."""

    model_config = ConfigDict(frozen=True)

    did: str
    name: str | None = None
    country: str | None = None
    revoked: bool = False
    attributes: tuple[Attribute, ...] = ()

    def attribute(self, attr_id: str) -> Attribute | None:
        return next((a for a in self.attributes if a.id == attr_id), None)


# -- parsing an accreditation JWT ------------------------------------------------------------

@functools.lru_cache(maxsize=256)
def _header(part: str) -> dict[str, Any]:
    """A JWT header segment decoded (read, never changed: the TIs a TAO accredits share it)."""
    return _b64json(part, "header")


def _b64json(part: str, what: str) -> dict[str, Any]:
    """JSON decoded from a base64url segment (parsed JSON: objects are plain dicts)."""
    try:
        raw = base64.urlsafe_b64decode(part + "=" * (-len(part) % 4))
        value = json.loads(raw)
    except (binascii.Error, ValueError) as exc:
        raise InputError(f"accreditation JWT {what} is not base64url JSON",
                         code="accreditation.malformed") from exc
    if not isinstance(value, dict):
        raise InputError(f"accreditation JWT {what} is not a JSON object",
                         code="accreditation.malformed")
    return value


def _time(value: Any) -> datetime | None:
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | float):
        return datetime.fromtimestamp(value, UTC)
    if isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError as exc:
            raise InputError(f"accreditation date {value!r} is not RFC 3339",
                             code="accreditation.malformed") from exc
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise InputError("accreditation dates must be strings or numbers",
                     code="accreditation.malformed")


def _strings(value: Any) -> tuple[str, ...]:
    items = value if isinstance(value, list) else [value] if value is not None else []
    return tuple(str(v) for v in items if isinstance(v, str))


def _grant(entry: Any) -> AccreditedFor:
    if not isinstance(entry, dict) or not isinstance(entry.get("schemaId"), str):
        raise InputError("accreditedFor entries need a schemaId",
                         code="accreditation.malformed")
    limit = entry.get("limitJurisdiction")
    jurisdictions: tuple[str, ...] | None = None
    if limit not in (None, "", []):
        try:
            jurisdictions = tuple(sorted({normalise(j) for j in _strings(limit)}))
        except JurisdictionError as exc:
            raise InputError(str(exc), code="accreditation.malformed") from exc
        if not jurisdictions:
            raise InputError("limitJurisdiction must be strings", code="accreditation.malformed")
    return AccreditedFor(schema_id=entry["schemaId"], types=_strings(entry.get("types")),
                         limit_jurisdiction=jurisdictions)


def parse_accreditation(jwt: str) -> Accreditation:
    """The claims of an accreditation JWT VC (``vc`` claim, JWT claims win for iss/sub/nbf/exp).

    Raises ``InputError`` (``accreditation.malformed``) for anything unusable. The signature
    is NOT checked here (``registry.facts`` does that). Parsed results are immutable and
    memoised by JWT text (chains share TAO/RootTAO accreditations).
    """
    if not isinstance(jwt, str):
        raise InputError("an accreditation must be a compact JWS (JWT VC)",
                         code="accreditation.malformed")
    return _parse_accreditation(jwt)


@functools.lru_cache(maxsize=8192)
def _parse_accreditation(jwt: str) -> Accreditation:
    if not isinstance(jwt, str) or len(jwt) > MAX_JWT_CHARS or jwt.count(".") != 2:
        raise InputError("an accreditation must be a compact JWS (JWT VC)",
                         code="accreditation.malformed")
    head, payload_part, _ = jwt.strip().split(".")
    header = _header(head)
    payload = _b64json(payload_part, "payload")
    vc = payload.get("vc", payload)
    if not isinstance(vc, dict):
        raise InputError("the vc claim is not an object", code="accreditation.malformed")
    issuer_claim = vc.get("issuer")
    if isinstance(issuer_claim, dict):
        issuer_claim = issuer_claim.get("id")
    issuer = payload.get("iss") or issuer_claim
    subject_claim = vc.get("credentialSubject")
    subject_obj = subject_claim[0] if isinstance(subject_claim, list) and subject_claim \
        else subject_claim
    if not isinstance(subject_obj, dict):
        raise InputError("the accreditation has no credentialSubject",
                         code="accreditation.malformed")
    subject = payload.get("sub") or subject_obj.get("id")
    if not isinstance(issuer, str) or not issuer.startswith("did:"):
        raise InputError("the accreditation issuer is not a DID", code="accreditation.malformed")
    if not isinstance(subject, str) or not subject.startswith("did:"):
        raise InputError("the accreditation subject is not a DID",
                         code="accreditation.malformed")
    if isinstance(issuer_claim, str) and issuer_claim != issuer:
        raise InputError("iss and vc.issuer disagree", code="accreditation.malformed")
    grants_raw = subject_obj.get("accreditedFor")
    grants = grants_raw if isinstance(grants_raw, list) else [grants_raw] if grants_raw else []
    terms = vc.get("termsOfUse")
    terms_list = terms if isinstance(terms, list) else [terms] if terms else []
    valid_from = _time(payload.get("nbf")) or _time(vc.get("validFrom")) or _time(
        vc.get("issuanceDate"))
    valid_until = _time(payload.get("exp")) or _time(vc.get("validUntil")) or _time(
        vc.get("expirationDate"))
    reserved = subject_obj.get("reservedAttributeId")
    return Accreditation(
        id=vc.get("id") if isinstance(vc.get("id"), str) else payload.get("jti"),
        issuer=issuer, subject=subject, types=_strings(vc.get("type")),
        accredited_for=tuple(_grant(g) for g in grants),
        valid_from=valid_from, valid_until=valid_until,
        terms_of_use=tuple(dict(t) for t in terms_list if isinstance(t, dict)),
        reserved_attribute_id=reserved if isinstance(reserved, str) else None,
        kid=header.get("kid") if isinstance(header.get("kid"), str) else None,
        alg=header.get("alg") if isinstance(header.get("alg"), str) else None,
    )


# -- wire models: EBSI TIR v5 ---------------------------------------------------------------

class TirLinks(BaseModel):
    first: str
    prev: str
    next: str
    last: str


class TirItem(BaseModel):
    did: str
    href: str


class TirAttributeItem(BaseModel):
    id: str
    href: str


class TirIssuersPage(BaseModel):
    """``GET /trusted-issuers-registry/v5/issuers`` (EBSI pagination shape)."""

    model_config = ConfigDict(populate_by_name=True)

    self_: str = Field(alias="self")
    items: list[TirItem]
    total: int
    page_size: int = Field(alias="pageSize")
    links: TirLinks


class TirAttributesPage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    self_: str = Field(alias="self")
    items: list[TirAttributeItem]
    total: int
    page_size: int = Field(alias="pageSize")
    links: TirLinks


class TirAttribute(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    hash: str
    body: str
    issuer_type: str = Field(alias="issuerType")
    tao: str
    root_tao: str = Field(alias="rootTao")


class TirIssuer(BaseModel):
    did: str
    attributes: list[TirAttribute]


class TirAttributeDetails(BaseModel):
    did: str
    attribute: TirAttribute


# -- wire models: our admin and HR API ------------------------------------------------------

class AttributeIn(BaseModel):
    """An accreditation to register: the JWT VC and what it grants in the registry."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    jwt: str = Field(min_length=10, max_length=MAX_JWT_CHARS,
                     validation_alias=AliasChoices("jwt", "body"),
                     description="The accreditation as a JWT VC (EBSI calls it ``body``).")
    issuer_type: Literal["RootTAO", "TAO", "TI"] = Field(alias="issuerType")
    tao: str | None = Field(default=None, max_length=2048)
    root_tao: str | None = Field(default=None, alias="rootTao", max_length=2048)


class IssuerIn(BaseModel):
    """``POST /v1/registry/issuers``: a new issuer with its accreditations."""

    model_config = ConfigDict(extra="forbid")

    did: str = Field(min_length=8, max_length=2048, pattern=r"^did:[a-z0-9]+:\S+$")
    name: str | None = Field(default=None, max_length=512)
    country: str | None = Field(default=None, max_length=64)
    attributes: list[AttributeIn] = Field(min_length=1, max_length=64)


class AttributesIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    attributes: list[AttributeIn] = Field(min_length=1, max_length=64)


class RevokeIn(BaseModel):
    """Revoke one attribute (``attributeId``) or, without it, the whole issuer."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    attribute_id: str | None = Field(default=None, alias="attributeId", max_length=128)
    reason: str | None = Field(default=None, max_length=1024)


__all__ = [
    "ACCREDITATION_TYPES",
    "FOR_TRUST_CHAIN",
    "ISSUER_TYPES",
    "TERMS_OF_USE_TYPES",
    "TO_ACCREDIT",
    "TO_ATTEST",
    "TO_ONBOARD",
    "Accreditation",
    "AccreditedFor",
    "Attribute",
    "AttributeIn",
    "AttributesIn",
    "IssuerIn",
    "IssuerRecord",
    "IssuerType",
    "RevokeIn",
    "TirAttribute",
    "TirAttributeDetails",
    "TirAttributeItem",
    "TirAttributesPage",
    "TirIssuer",
    "TirIssuersPage",
    "TirItem",
    "TirLinks",
    "attribute_id",
    "parse_accreditation",
]
