"""Signed change batches from national registries: the wire format and the pure checks.

A batch is a compact JWS (``typ: trustbridge-registry-batch+jwt``) signed by the
registry's DID with an ``assertionMethod`` key; its payload::

    {"registry": "did:…", "sequence": 7, "issued_at": "2026-05-01T10:00:00Z",
     "changes": [{"op": "add_issuer", "did": "did:…",
                  "attribute": {"jwt": "<accreditation JWT VC>", "issuerType": "TI",
                                "tao": "did:…", "rootTao": "did:…"}},
                 {"op": "revoke_attribute", "did": "did:…", "attribute_id": "<hash>"},
                 {"op": "revoke_issuer", "did": "did:…"}]}

See docs/registry-sync.md. Everything here is pure: the engine (``sync.py``)
fetches the facts (signer keys, existing records) and applies.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trustbridge.registry import jurisdiction as jur
from trustbridge.registry.changelog import SORTED_COMPACT, sha256_hex, sorted_compact_encoder
from trustbridge.registry.model import parse_accreditation

BATCH_TYP = "trustbridge-registry-batch+jwt"
MAX_CHANGES = 200_000
Op = Literal["add_issuer", "update_issuer", "add_attribute", "revoke_attribute", "revoke_issuer"]
ATTRIBUTE_OPS = frozenset({"add_issuer", "update_issuer", "add_attribute"})
UNRESTRICTED = frozenset({"*", "EU"})  # may also act on accreditations without a limit


class AttributeIn(BaseModel):
    """An accreditation as EBSI's TIR carries it: the JWT VC and what it grants."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    jwt: str = Field(min_length=10, max_length=64 * 1024)
    issuer_type: Literal["RootTAO", "TAO", "TI", "Revoked"] = Field(alias="issuerType")
    tao: str | None = Field(default=None, max_length=2048)
    root_tao: str | None = Field(default=None, alias="rootTao", max_length=2048)

    @property
    def hash(self) -> str:
        """EBSI's attribute id: sha256 of the JWT text."""
        return sha256_hex(self.jwt)


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    op: Op
    did: str = Field(min_length=8, max_length=2048, pattern=r"^did:[a-z0-9]+:.+")
    attribute: AttributeIn | None = None
    attribute_id: str | None = Field(default=None, max_length=256)

    def to_json(self) -> dict[str, Any]:
        """``model_dump(by_alias=True, exclude_none=True, mode="json")``, written out: every
        change of a batch is dumped for its log entry (and twice by a mirror), and the
        generic dump cost ~5 us a change (tests/sync/test_known_jcs.py compares the two)."""
        out: dict[str, Any] = {"op": self.op, "did": self.did}
        if (a := self.attribute) is not None:
            attribute: dict[str, Any] = {"jwt": a.jwt, "issuerType": a.issuer_type}
            if a.tao is not None:
                attribute["tao"] = a.tao
            if a.root_tao is not None:
                attribute["rootTao"] = a.root_tao
            out["attribute"] = attribute
        if self.attribute_id is not None:
            out["attribute_id"] = self.attribute_id
        return out


class BatchPayload(BaseModel):
    model_config = ConfigDict(extra="allow", populate_by_name=True)

    registry: str = Field(min_length=8, max_length=2048, pattern=r"^did:[a-z0-9]+:.+")
    sequence: int = Field(ge=1)
    issued_at: str | int | None = None
    changes: list[Change] = Field(min_length=1, max_length=MAX_CHANGES)


@dataclass(frozen=True)
class Rejection:
    """Why one change of a batch was refused (``index`` into ``changes``)."""

    index: int
    code: str
    reason: str

    def to_json(self) -> dict[str, Any]:
        return {"index": self.index, "code": self.code, "reason": self.reason}


class BatchFormatError(Exception):
    def __init__(self, message: str, errors: list[dict[str, Any]]) -> None:
        super().__init__(message)
        self.errors = errors


def parse_batch_payload(payload: Mapping[str, Any]) -> BatchPayload:
    try:
        return BatchPayload.model_validate(payload)
    except ValidationError as exc:
        errors = [{"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"]}
                  for e in exc.errors(include_url=False, include_input=False)][:50]
        raise BatchFormatError("batch payload does not match the batch format", errors) from exc


def content_digest(payload: Mapping[str, Any]) -> str:
    """Identity of a batch's content (idempotent replays compare this, not the signature).

    Only ever compared by this node, so key-sorted compact JSON suffices (JCS, which the log
    hashes use for interoperability, is several times slower on a 100,000-change batch).
    """
    return sha256_hex(json.dumps(payload, sort_keys=True, separators=(",", ":"),
                                 ensure_ascii=False))


def content_digest_parts(payload: Mapping[str, Any]) -> tuple[str, list[str] | None]:
    """``content_digest(payload)`` and the text of each of its ``changes`` inside the digested
    text (``None`` where the payload is not a plain object with a list of changes: then only
    the digest). A JSON object with sorted keys is its members in order, each value
    serialised on its own, so the text is put together from the changes' texts; a push
    keeps them for its log entries (``changelog.known_jcs``) instead of serialising every
    change twice."""
    changes = payload.get("changes") if type(payload) is dict else None
    if type(changes) is not list or any(type(key) is not str for key in payload):
        return content_digest(payload), None
    encode = sorted_compact_encoder()  # one per batch: it keeps the circular check
    texts = [encode(change) for change in changes]
    members = [f"{SORTED_COMPACT(key)}:"
               f"{'[' + ','.join(texts) + ']' if key == 'changes' else SORTED_COMPACT(value)}"
               for key, value in sorted(payload.items(), key=lambda item: item[0])]
    return sha256_hex("{" + ",".join(members) + "}"), texts


def check_shape(index: int, change: Change) -> Rejection | None:
    """Each op carries exactly what it needs."""
    if change.op in ATTRIBUTE_OPS and change.attribute is None:
        return Rejection(index, "change.attribute_missing", f"{change.op} needs an attribute")
    if change.op == "revoke_attribute" and not change.attribute_id:
        return Rejection(index, "change.attribute_id_missing",
                         "revoke_attribute needs attribute_id")
    if change.op == "revoke_issuer" and (change.attribute or change.attribute_id):
        return Rejection(index, "change.unexpected_member",
                         "revoke_issuer takes only a did")
    return None


def normalise_jurisdiction(value: str) -> str:
    """``ES``, ``ESP``, ``ES-NA``, EU authority URIs -> ``ES`` (``registry.jurisdiction``);
    anything unrecognisable is kept upper-cased, so it matches nothing but itself."""
    try:
        return jur.normalise(value)
    except jur.JurisdictionError:
        return value.strip().upper()


def covers(allowed: Iterable[str], wanted: Iterable[str]) -> list[str]:
    """The wanted jurisdictions ``allowed`` does not cover. ``*`` covers everything; ``EU``
    covers itself and every member state (``registry.jurisdiction.contains``)."""
    allowed_set = {a if a == "*" else normalise_jurisdiction(a) for a in allowed}
    if "*" in allowed_set:
        return []
    wanted_set = {w if w == "*" else normalise_jurisdiction(w) for w in wanted}
    return sorted(w for w in wanted_set
                  if not any(w != "*" and jur.contains(a, w) for a in allowed_set))


def accredited_jurisdictions(jwt: str) -> set[str] | None:
    """The ``limitJurisdiction`` of an accreditation JWT's grants; ``None`` = unlimited (a grant
    without a limit, or no grant). ``InputError`` (``accreditation.malformed``) if unusable."""
    grants = parse_accreditation(jwt).accredited_for
    if not grants or any(g.limit_jurisdiction is None for g in grants):
        return None
    return {j for g in grants for j in g.limit_jurisdiction or ()}


def check_jurisdiction(index: int, wanted: set[str] | None, allowed: Iterable[str],
                       what: str) -> Rejection | None:
    """Refuse a change touching jurisdictions the signing registry is not authorised for."""
    allowed_list = list(allowed)
    if wanted is None:
        if set(allowed_list) & UNRESTRICTED:
            return None
        return Rejection(index, "change.jurisdiction",
                         f"{what} is not limited to a jurisdiction; the registry may only act "
                         f"for {sorted(allowed_list)}")
    outside = covers(allowed_list, wanted)
    if outside:
        return Rejection(index, "change.jurisdiction",
                         f"{what} covers {outside}, outside the registry's jurisdictions "
                         f"{sorted(allowed_list)}")
    return None


__all__ = ["ATTRIBUTE_OPS", "BATCH_TYP", "AttributeIn", "BatchFormatError", "BatchPayload",
           "Change", "Rejection", "accredited_jurisdictions", "check_jurisdiction",
           "check_shape", "content_digest", "content_digest_parts", "covers",
           "normalise_jurisdiction", "parse_batch_payload"]
