"""Checking a DID document that came from the network (did:web, did:ebsi) before use.

Run on every read, including reads from the cache (python-tuf habit): the bytes are
parsed strictly, the document must be a JSON object whose ``id`` is the DID asked for,
and it must fit the DID Core data model we rely on.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from trustbridge.crypto._errors import MalformedInput
from trustbridge.crypto.strict_json import parse_strict_json
from trustbridge.model.did import DIDDocument

MAX_DEPTH = 32


class DocumentRejected(ValueError):
    """The fetched bytes are not an acceptable DID document for the DID."""


def check_did_document(raw: bytes, did: str) -> dict[str, Any]:
    """The document as JSON, or ``DocumentRejected`` with the reason."""
    try:
        doc = parse_strict_json(raw, code="did.document_invalid", max_depth=MAX_DEPTH)
    except MalformedInput as exc:
        raise DocumentRejected(f"not a JSON DID document: {exc.message}") from exc
    if not isinstance(doc, dict):
        raise DocumentRejected("the DID document is not a JSON object")
    if doc.get("id") != did:
        raise DocumentRejected(f"the document's id {str(doc.get('id'))[:200]!r} is not {did}")
    try:
        DIDDocument.model_validate(doc)
    except ValidationError as exc:
        raise DocumentRejected(f"the DID document does not fit DID Core: "
                               f"{exc.error_count()} errors") from exc
    return doc


__all__ = ["DocumentRejected", "check_did_document"]
