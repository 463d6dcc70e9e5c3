"""VC Data Model 2.0 conformance rules that a JSON parse alone does not catch: pure, no I/O.

Each rule cites the VCDM 2.0 section it implements and yields a ``Violation`` with a
stable code. Used by the demo issuer (it refuses to sign a non-conformant
credential) and by the VC-API endpoints (a verifier MUST reject them, §4 and §7.1);
the verify pipeline's structure check can call ``credential_violations`` too.
Only documents whose first ``@context`` is the VCDM 2.0 one are held to these rules.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from trustbridge.formats.base import VCDM2_CONTEXT, as_list

_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.\-]*:[^\s]+$")
"""RFC 3986 absolute URI (scheme ":" non-blank rest); VCDM 2.0 §4.4 says "URL"."""

_DATE_TIME_STAMP = re.compile(
    r"^-?\d{4,}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])T([01]\d|2[0-3]):[0-5]\d:([0-5]\d|60)"
    r"(\.\d+)?(Z|[+-]((0\d|1[0-3]):[0-5]\d|14:00))$")
"""XML Schema 1.1 ``dateTimeStamp``: a dateTime with a mandatory time zone (§4.9)."""

TYPED_PROPERTIES = ("credentialStatus", "credentialSchema", "termsOfUse", "evidence",
                    "refreshService")


@dataclass(frozen=True)
class Violation:
    code: str
    message: str
    path: str


def is_url(value: Any) -> bool:
    return isinstance(value, str) and bool(_URL.match(value))


def _has_type(obj: Mapping[str, Any]) -> bool:
    types = obj.get("type")
    items = as_list(types)
    return bool(items) and all(isinstance(t, str) and t for t in items)


def _id_rule(value: Any, path: str) -> Iterator[Violation]:
    """§4.4 Identifiers: if present, ``id`` is a single URL."""
    if not is_url(value):
        yield Violation("vcdm.id_invalid", f"{path} must be a single URL", path)


def _typed_objects(doc: Mapping[str, Any]) -> Iterator[Violation]:
    """§4.5 Types: credentialStatus, credentialSchema, termsOfUse, evidence and refreshService
    objects MUST have a type; §4.10/§4.11: status and schema ids are URLs (schema id required)."""
    for prop in TYPED_PROPERTIES:
        if prop not in doc:
            continue
        for i, item in enumerate(as_list(doc[prop])):
            path = f"{prop}[{i}]"
            if not isinstance(item, Mapping):
                yield Violation("vcdm.object_expected", f"{path} must be an object", path)
                continue
            if not _has_type(item):
                yield Violation("vcdm.type_missing", f"{path} must have a type", path)
            if prop == "credentialSchema" and "id" not in item:
                yield Violation("vcdm.id_invalid", f"{path}.id is required", path)
            if "id" in item:
                yield from _id_rule(item["id"], f"{path}.id")


def _related_resources(doc: Mapping[str, Any]) -> Iterator[Violation]:
    """§5.3 Integrity of related resources: objects with a unique URL ``id`` and a digest."""
    if "relatedResource" not in doc:
        return
    seen: set[str] = set()
    for i, item in enumerate(as_list(doc["relatedResource"])):
        path = f"relatedResource[{i}]"
        if not isinstance(item, Mapping):
            yield Violation("vcdm.object_expected", f"{path} must be an object", path)
            continue
        ident = item.get("id")
        if ident is None:
            yield Violation("vcdm.id_invalid", f"{path}.id is required", path)
        else:
            yield from _id_rule(ident, f"{path}.id")
            if isinstance(ident, str):
                if ident in seen:
                    yield Violation("vcdm.related_resource_duplicate",
                                    f"{path}.id repeats another related resource", path)
                seen.add(ident)
        if "digestSRI" not in item and "digestMultibase" not in item:
            yield Violation("vcdm.related_resource_digest_missing",
                            f"{path} needs digestSRI or digestMultibase", path)


def _dates(doc: Mapping[str, Any]) -> Iterator[Violation]:
    """§4.9 Validity Period: validFrom/validUntil are dateTimeStamp strings."""
    for prop in ("validFrom", "validUntil"):
        if prop in doc:
            value = doc[prop]
            if not isinstance(value, str) or not _DATE_TIME_STAMP.match(value):
                yield Violation("vcdm.date_invalid",
                                f"{prop} must be an XML Schema dateTimeStamp", prop)


def _subjects(doc: Mapping[str, Any]) -> Iterator[Violation]:
    """§4.8 Credential Subject: one or more non-empty objects; an ``id`` is a URL."""
    subjects = as_list(doc.get("credentialSubject"))
    for i, subject in enumerate(subjects):
        path = f"credentialSubject[{i}]"
        if not isinstance(subject, Mapping) or not subject:
            yield Violation("vcdm.subject_empty", f"{path} must be an object with claims", path)
            continue
        if "id" in subject:
            yield from _id_rule(subject["id"], f"{path}.id")


def _party(doc: Mapping[str, Any], prop: str) -> Iterator[Violation]:
    """§4.7 Issuer / §4.13 holder: a URL, or an object whose ``id`` is a URL."""
    if prop not in doc:
        return
    value = doc[prop]
    ident = value.get("id") if isinstance(value, Mapping) else value
    if not is_url(ident):
        yield Violation(f"vcdm.{prop}_invalid",
                        f"{prop} must be a URL or an object with a URL id", prop)


def _common(doc: Mapping[str, Any]) -> list[Violation] | None:
    """``None`` for documents that are not VCDM 2.0; else the §4.4 ``id`` violations."""
    contexts = as_list(doc.get("@context"))
    if not contexts or contexts[0] != VCDM2_CONTEXT:
        return None
    return list(_id_rule(doc["id"], "id")) if "id" in doc else []


def credential_violations(doc: Mapping[str, Any]) -> list[Violation]:
    """Every VCDM 2.0 rule a credential breaks (empty for VCDM 1.1 documents)."""
    found = _common(doc)
    if found is None:
        return []
    found.extend(_party(doc, "issuer"))
    found.extend(_subjects(doc))
    found.extend(_dates(doc))
    found.extend(_typed_objects(doc))
    found.extend(_related_resources(doc))
    return found


def presentation_violations(doc: Mapping[str, Any]) -> list[Violation]:
    """§4.13 Verifiable Presentations: ``id`` a URL; ``holder`` a URL or object with one;
    every embedded credential an object (a bare string is not a VCDM 2.0 credential)."""
    found = _common(doc)
    if found is None:
        return []
    found.extend(_party(doc, "holder"))
    for i, item in enumerate(as_list(doc.get("verifiableCredential"))):
        if not isinstance(item, Mapping):
            found.append(Violation("vcdm.object_expected",
                                   f"verifiableCredential[{i}] must be an object",
                                   f"verifiableCredential[{i}]"))
    return found


__all__ = ["Violation", "credential_violations", "is_url", "presentation_violations"]
