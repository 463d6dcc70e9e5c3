"""A credential summary HR staff can read: who issued what to whom, when, and why we trust it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trustbridge.formats.base import ParsedCredential, as_list
from trustbridge.verify.checks import trust_details

_TITLE_PATHS: tuple[tuple[str, ...], ...] = (
    ("achievement", "name"),           # Open Badges 3.0 / VCDM 2.0 examples
    ("achievement", "title"),
    ("hasClaim", "title"),             # ELM 3 (EDC)
    ("achieved", "title"),             # EBSI diploma / Europass
    ("hasCredential", "title"),
    ("degree", "name"),                # W3C VCDM examples
    ("title",),
    ("name",),
)


def _text(value: Any) -> str | None:
    """A plain string from a string, a language map ``{"en": …}`` or an ELM ``{"@value"}``."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and value:
        return _text(value[0])
    if isinstance(value, Mapping):
        for key in ("@value", "en", "value"):
            if key in value:
                return _text(value[key])
        if value:
            return _text(next(iter(value.values())))
    return None


def _lookup(node: Any, path: tuple[str, ...]) -> Any:
    for key in path:
        if isinstance(node, list):
            node = node[0] if node else None
        if not isinstance(node, Mapping):
            return None
        node = node.get(key)
    return node


def summary_of(pc: ParsedCredential, trust_answer: Any = None,
               extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """Issuer name & DID, country, title, subject, issuance, expiry, types and trust chain."""
    cred = pc.credential
    issuer = cred.get("issuer")
    subject = next((s for s in as_list(cred.get("credentialSubject")) if isinstance(s, Mapping)),
                   {})
    trust = trust_details(trust_answer) if trust_answer is not None else {}
    attributes = trust.get("attributes")
    if isinstance(attributes, Mapping):  # registry attributes: name, country, ... of the issuer
        trust = {**{k: v for k, v in attributes.items() if isinstance(k, str)}, **trust}
        for key in ("name", "legalName", "issuer_name"):
            if isinstance(attributes.get(key), str):
                trust.setdefault("issuer_name", attributes[key])
    title = None
    for path in _TITLE_PATHS:
        title = _text(_lookup(subject, path))
        if title:
            break
    if title is None:
        title = _text(cred.get("name"))
    names = [_text(subject.get(k)) for k in ("givenName", "firstName", "familyName")]
    person = " ".join(n for n in names if n) or _text(subject.get("name"))
    v = pc.validity
    summary: dict[str, Any] = {
        "issuer": {
            "did": pc.issuer,
            "name": (_text(issuer.get("name")) if isinstance(issuer, Mapping) else None)
            or trust.get("issuer_name") or trust.get("name"),
            "country": trust.get("country") or trust.get("jurisdiction")
            or (_text(_lookup(issuer, ("location", "address", "countryCode")))
                if isinstance(issuer, Mapping) else None),
        },
        "title": title,
        "types": [t for t in pc.types if t != "VerifiableCredential"],
        "subject": {"id": pc.subject_ids[0] if pc.subject_ids else None, "name": person},
        "issued": (v.issuance_date or v.valid_from or v.jwt_nbf or v.jwt_iat),
        "expires": v.not_after,
        "format": pc.format,
        "id": pc.id,
        "chain": trust.get("chain", []),
    }
    for key in ("issued", "expires"):
        if summary[key] is not None:
            summary[key] = summary[key].isoformat()
    if extra:
        summary["microcredential"] = dict(extra)
    return summary


__all__ = ["summary_of"]
