"""Organisations (awarding bodies, issuers) and learners, in whichever shape they come.

One reader for ELM ``Organisation`` (``legalName``, ``location.address.countryCode``,
``registration.spatial``), OB 3.0 ``Profile`` (``name``, ``address.addressCountryCode``)
and flat objects (``name``, ``country``), because issuers mix them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trustbridge.microcred.draft import RawOrganisation
from trustbridge.microcred.values import ident, items, label, mapping, text

_NAME_KEYS = ("legalName", "name", "preferredName", "prefLabel", "title", "altLabel")
_COUNTRY_KEYS = ("country", "countryCode", "addressCountryCode", "addressCountry")
_NAME_PARTS = ("givenName", "givenNames", "firstName", "familyName", "lastName")


def _country(node: Mapping[str, Any]) -> Any:
    """The raw country of an organisation: direct keys, then its address, then the
    jurisdiction of its legal identifiers."""
    for key in _COUNTRY_KEYS:
        if node.get(key) is not None:
            return node[key]
    for location in items(node.get("location"), 5):
        if isinstance(location, dict):
            address = mapping(location.get("address"))
            if address is not None:
                for key in _COUNTRY_KEYS:
                    if address.get(key) is not None:
                        return address[key]
    address = mapping(node.get("address"))
    if address is not None:
        for key in _COUNTRY_KEYS:
            if address.get(key) is not None:
                return address[key]
    for key in ("registration", "eIDASIdentifier", "vatIdentifier", "taxIdentifier"):
        legal = mapping(node.get(key))
        if legal is not None and legal.get("spatial") is not None:
            return legal["spatial"]
    return None


def read_organisation(value: Any) -> RawOrganisation | None:
    """An organisation from an object, or from a bare identifier (e.g. an issuer DID)."""
    if isinstance(value, str):
        return RawOrganisation(id=ident(value))
    node = mapping(value)
    if node is None:
        return None
    name = None
    for key in _NAME_KEYS:
        name = text(node.get(key))
        if name:
            break
    homepage = node.get("homepage") or node.get("url")
    page_node = mapping(homepage)
    page = text(homepage) if isinstance(homepage, str) else (
        text(page_node.get("contentURL")) if page_node is not None else None)
    return RawOrganisation(id=ident(node.get("id")), name=name, country=_country(node),
                           homepage=page)


def learner_name(subject: Mapping[str, Any]) -> str | None:
    """``fullName``, else given + family names, else ``name``."""
    full = text(subject.get("fullName"))
    if full:
        return full
    joined = " ".join([part for key in _NAME_PARTS if (part := text(subject.get(key)))])
    return joined or text(subject.get("name"))


def count_identifiers(subject: Mapping[str, Any]) -> int:
    """Further learner identifiers: ELM ``nationalID``/``identifier``, OB ``identifier``."""
    count = 0
    for key in ("nationalID", "identifier", "studentId", "email"):
        value = subject.get(key)
        if value is not None:
            count += len(value[:10]) if isinstance(value, list) else 1
    return count


def concept_or_text(value: Any) -> str | None:
    """A label for a concept, a note or a string."""
    return text(value) if not isinstance(value, dict) or "noteLiteral" in value else \
        label(value)


__all__ = ["concept_or_text", "count_identifiers", "learner_name", "read_organisation"]
