"""The format-agnostic view of credentials and presentations, and the ``CredentialFormat`` protocol.

Every wire format (JWT VC/VP, JSON-LD with Data Integrity / LD proofs, SD-JWT VC)
is parsed into the same two frozen models so the checks in ``verify/checks.py``
never look at format details. Only proof checking is format-specific; it lives
behind ``CredentialFormat.check_credential_proof`` / ``check_presentation_proof``.

Stability: other engineers implement this protocol (``formats/ldp.py``,
``formats/sd_jwt.py``). Changes here are additive only (new optional fields
with defaults, new helper functions); nothing is renamed or removed.

Conventions an implementation must follow:

* ``parse_*`` raise ``trustbridge.errors.InputError`` (code ``credential.malformed``
  or ``presentation.malformed``) for input that cannot be parsed at all. They do
  **not** check signatures, dates, or required properties beyond what is needed
  to build the model -- the structure check reports missing properties.
* ``check_*_proof`` never raise for a bad proof: they return a ``CheckResult``
  whose ``check`` is ``"credential_proof"`` / ``"presentation_proof"``; ``failed``
  with a stable code (``signature.invalid``, ``kid.did_mismatch`` ... see
  docs/codes.md) for bad data, ``error`` (e.g. ``did.unresolvable``) when a fact
  such as the DID document could not be fetched -- never ``passed`` then.
* JWT claims are mapped into ``credential`` per VCDM 1.1 §6.3.1 (JWT decoding):
  ``iss``→``issuer``, ``sub``→``credentialSubject.id``, ``nbf``→``issuanceDate``
  (1.1) / ``validFrom`` (2.0), ``exp``→``expirationDate`` / ``validUntil``,
  ``jti``→``id`` -- only where the embedded credential lacks them; the original
  values stay in ``validity`` so consistency can be checked.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, Protocol, runtime_checkable

from trustbridge.errors import InputError
from trustbridge.model.report import CheckResult

FormatName = Literal["jwt_vc", "ldp_vc", "sd_jwt_vc"]
"""Which format parsed an input: JWT (VCDM 1.1 JWT or VCDM 2.0 vc+jwt), JSON-LD, SD-JWT VC."""

RawInput = str | Mapping[str, Any]
"""What a caller hands us: a compact JWT/SD-JWT string or a JSON object."""

CREDENTIAL_PROOF = "credential_proof"
PRESENTATION_PROOF = "presentation_proof"


@dataclass(frozen=True)
class StatusEntry:
    """One ``credentialStatus`` entry (StatusList2021Entry, BitstringStatusListEntry, EBSI ...).

    ``index`` is ``None`` when the entry's index is missing or not an integer; the
    status check reports that, parsing does not.
    """

    type: str
    purpose: str | None
    index: int | None
    list_credential: str | None
    id: str | None = None
    raw: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class SchemaRef:
    """One ``credentialSchema`` entry: where the schema is and which validator it asks for."""

    id: str
    type: str


@dataclass(frozen=True)
class ValidityDates:
    """Every date that bounds a credential, kept per source so consistency can be checked.

    ``jwt_*`` come from the JWT claims (absent for JSON-LD); the others from the
    embedded credential (``issuanceDate``/``expirationDate`` in VCDM 1.1,
    ``validFrom``/``validUntil`` in VCDM 2.0). All are timezone-aware UTC.
    """

    jwt_nbf: datetime | None = None
    jwt_exp: datetime | None = None
    jwt_iat: datetime | None = None
    issuance_date: datetime | None = None
    valid_from: datetime | None = None
    expiration_date: datetime | None = None
    valid_until: datetime | None = None

    @property
    def not_before(self) -> datetime | None:
        """The latest of the start bounds (the strictest one applies)."""
        starts = [d for d in (self.jwt_nbf, self.issuance_date, self.valid_from) if d]
        return max(starts) if starts else None

    @property
    def not_after(self) -> datetime | None:
        """The earliest of the end bounds (the strictest one applies)."""
        ends = [d for d in (self.jwt_exp, self.expiration_date, self.valid_until) if d]
        return min(ends) if ends else None


@dataclass(frozen=True)
class ParsedCredential:
    """A credential in any format, reduced to what the checks need.

    ``credential`` is the VC as JSON (claims mapped per the module docstring);
    ``proof_material`` is format-private state the same format's
    ``check_credential_proof`` needs (e.g. the parsed JWS) -- other code must not
    look inside it.
    """

    format: FormatName
    raw: RawInput
    credential: Mapping[str, Any]
    issuer: str | None
    subject_ids: tuple[str, ...] = ()
    types: tuple[str, ...] = ()
    schemas: tuple[SchemaRef, ...] = ()
    status_entries: tuple[StatusEntry, ...] = ()
    validity: ValidityDates = field(default_factory=ValidityDates)
    signer_kid: str | None = None
    holder_binding_key: Mapping[str, Any] | None = None
    vcdm_version: Literal["1.1", "2.0"] = "1.1"
    header: Mapping[str, Any] = field(default_factory=dict)
    proof_material: Any = None
    claim_conflicts: tuple[str, ...] = ()
    """Envelope claims that contradict the embedded document (e.g. ``iss`` != ``issuer``);
    the structure check fails on any (VCDM 1.1 §6.3.1: the claims MUST represent them)."""

    @property
    def schema_ids(self) -> tuple[str, ...]:
        return tuple(s.id for s in self.schemas)

    @property
    def id(self) -> str | None:
        value = self.credential.get("id")
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class ParsedPresentation:
    """A presentation in any format; its credentials are still raw, each parsed by its format.

    ``nonce`` is the JWT ``nonce`` claim or the LD proof's ``challenge``;
    ``audience`` the JWT ``aud`` (string or list) or the proof's ``domain``.
    """

    format: FormatName
    raw: RawInput
    presentation: Mapping[str, Any]
    holder: str | None
    credentials: tuple[RawInput, ...] = ()
    nonce: str | None = None
    audience: tuple[str, ...] = ()
    iat: datetime | None = None
    exp: datetime | None = None
    nbf: datetime | None = None
    types: tuple[str, ...] = ()
    signer_kid: str | None = None
    header: Mapping[str, Any] = field(default_factory=dict)
    proof_material: Any = None
    claim_conflicts: tuple[str, ...] = ()
    """As for ``ParsedCredential`` (e.g. JWT ``iss`` != ``vp.holder``)."""


@runtime_checkable
class CredentialFormat(Protocol):
    """One wire format. Instances are cheap, stateless apart from settings, and reentrant.

    ``resolver`` is a ``trustbridge.did.interface.DIDResolver`` (typed ``Any`` here
    so this module does not depend on the DID package); proof checks dereference
    the signer's ``kid`` with ``relationship="assertionMethod"`` for credentials and
    ``"authentication"`` for presentations.
    """

    name: FormatName

    def detect(self, obj: RawInput) -> bool:
        """True when ``obj`` looks like this format (cheap; no signature work)."""
        ...

    def parse_credential(self, obj: RawInput) -> ParsedCredential:
        """Parse a VC; raise ``InputError`` when ``obj`` cannot be parsed at all."""
        ...

    def parse_presentation(self, obj: RawInput) -> ParsedPresentation:
        """Parse a VP; raise ``InputError`` when ``obj`` cannot be parsed at all."""
        ...

    async def check_credential_proof(
        self, parsed: ParsedCredential, resolver: Any, *, at: datetime
    ) -> CheckResult:
        """Step 5: the credential is signed by a key of its issuer (assertionMethod)."""
        ...

    async def check_presentation_proof(
        self,
        parsed: ParsedPresentation,
        resolver: Any,
        *,
        challenge: str | None,
        domain: str | None,
        at: datetime,
    ) -> CheckResult:
        """Step 2: the presentation is signed by a key of its holder (authentication).

        ``challenge``/``domain`` are what the caller expects; formats whose proof
        covers them (LD proofs) check them here as part of the signature, the
        replay check compares them again format-agnostically.
        """
        ...


def pick_format(obj: RawInput, formats: Sequence[CredentialFormat]) -> CredentialFormat:
    """The first format that recognises ``obj``; ``InputError`` when none does."""
    for fmt in formats:
        if fmt.detect(obj):
            return fmt
    raise InputError("no supported credential format recognises this input",
                     code="format.unsupported")


# -- small helpers shared by format implementations (pure) ------------------------------
# Their inputs are parsed JSON, so objects are tested as ``dict``: isinstance on the Mapping
# ABC is a Python-level check, paid per call on the hot path.

def as_list(value: Any) -> list[Any]:
    """A JSON value that may be a single item or a list, as a list (``None`` -> ``[]``)."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    return [value]


def has_two_dots(text: str) -> bool:
    """Exactly two ``.`` in ``text`` (the shape of a compact JWS): three ``find`` calls, which
    run at memchr speed, instead of ``count``, which walks every character of a token that
    can be tens of kilobytes."""
    first = text.find(".")
    second = text.find(".", first + 1) if first >= 0 else -1
    return second >= 0 and text.find(".", second + 1) < 0


def parse_datetime(value: Any) -> datetime | None:
    """An XSD dateTime / RFC 3339 string or a NumericDate, as aware UTC; ``None`` if unusable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        try:
            return datetime.fromtimestamp(value, tz=UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if not text.isprintable():  # fromisoformat ignores a trailing NUL
        return None
    if text.endswith(("Z", "z")):
        text = text[:-1] + "+00:00"
    try:
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC)


def issuer_id(credential: Mapping[str, Any]) -> str | None:
    """``issuer`` as a string id, whether given as a string or an object with ``id``."""
    issuer = credential.get("issuer")
    if isinstance(issuer, str):
        return issuer
    if isinstance(issuer, dict) and isinstance(issuer.get("id"), str):
        return str(issuer["id"])
    return None


def subject_ids_of(credential: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``id`` of every ``credentialSubject`` that has one."""
    ids: list[str] = []
    for subject in as_list(credential.get("credentialSubject")):
        if isinstance(subject, dict) and isinstance(subject.get("id"), str):
            ids.append(subject["id"])
    return tuple(ids)


def status_entries_of(credential: Mapping[str, Any]) -> tuple[StatusEntry, ...]:
    """Every ``credentialStatus`` entry (VCDM 2.0 allows a list)."""
    entries: list[StatusEntry] = []
    for item in as_list(credential.get("credentialStatus")):
        if not isinstance(item, dict):
            continue
        index: int | None = None
        raw_index = item.get("statusListIndex")
        if isinstance(raw_index, int) and not isinstance(raw_index, bool):
            index = raw_index
        elif isinstance(raw_index, str) and raw_index.isdigit():
            index = int(raw_index)
        purpose = item.get("statusPurpose")
        list_cred = item.get("statusListCredential")
        entries.append(StatusEntry(
            type=str(item.get("type", "")),
            purpose=purpose if isinstance(purpose, str) else None,
            index=index,
            list_credential=list_cred if isinstance(list_cred, str) else None,
            id=item.get("id") if isinstance(item.get("id"), str) else None,
            raw=dict(item),
        ))
    return tuple(entries)


def schemas_of(credential: Mapping[str, Any]) -> tuple[SchemaRef, ...]:
    """Every ``credentialSchema`` entry with a string ``id``."""
    refs: list[SchemaRef] = []
    for item in as_list(credential.get("credentialSchema")):
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            refs.append(SchemaRef(id=item["id"], type=str(item.get("type", ""))))
    return tuple(refs)


def types_of(document: Mapping[str, Any]) -> tuple[str, ...]:
    """The ``type`` list as strings."""
    return tuple(t for t in as_list(document.get("type")) if isinstance(t, str))


def embedded_validity(credential: Mapping[str, Any], **jwt: datetime | None) -> ValidityDates:
    """``ValidityDates`` from the embedded credential plus optional ``jwt_nbf/jwt_exp/jwt_iat``."""
    return ValidityDates(
        jwt_nbf=jwt.get("jwt_nbf"),
        jwt_exp=jwt.get("jwt_exp"),
        jwt_iat=jwt.get("jwt_iat"),
        issuance_date=parse_datetime(credential.get("issuanceDate")),
        valid_from=parse_datetime(credential.get("validFrom")),
        expiration_date=parse_datetime(credential.get("expirationDate")),
        valid_until=parse_datetime(credential.get("validUntil")),
    )


VCDM2_CONTEXT = "https://www.w3.org/ns/credentials/v2"
VCDM1_CONTEXT = "https://www.w3.org/2018/credentials/v1"


def vcdm_version_of(document: Mapping[str, Any]) -> Literal["1.1", "2.0"]:
    """``"2.0"`` when the first ``@context`` is the VCDM 2.0 one, else ``"1.1"``."""
    contexts = as_list(document.get("@context"))
    return "2.0" if contexts and contexts[0] == VCDM2_CONTEXT else "1.1"


__all__ = [
    "CREDENTIAL_PROOF",
    "PRESENTATION_PROOF",
    "VCDM1_CONTEXT",
    "VCDM2_CONTEXT",
    "CredentialFormat",
    "FormatName",
    "ParsedCredential",
    "ParsedPresentation",
    "RawInput",
    "SchemaRef",
    "StatusEntry",
    "ValidityDates",
    "as_list",
    "embedded_validity",
    "has_two_dots",
    "issuer_id",
    "parse_datetime",
    "pick_format",
    "schemas_of",
    "status_entries_of",
    "subject_ids_of",
    "types_of",
    "vcdm_version_of",
]
