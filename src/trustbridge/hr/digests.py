"""Digests that stand in for personal data: what was presented and what was answered.

``sha-256`` over a canonical form (a compact JWT as its ASCII text; a JSON object as
sorted-key compact JSON), so the HR system can later show that a stored digest
matches the credential it still holds without TrustBridge keeping the credential.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from trustbridge.crypto.base64url import b64url_encode


def canonical_json(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      default=str).encode("utf-8")


def sha256_b64url(data: bytes) -> str:
    return b64url_encode(hashlib.sha256(data).digest())


def input_digest(presented: str | Any) -> str:
    """Digest of a presentation or credential as it was presented."""
    if isinstance(presented, str):
        return sha256_b64url(presented.strip().encode("utf-8"))
    return sha256_b64url(canonical_json(presented))


def report_digest(report: Any) -> str:
    """Digest of a report as returned (its JSON object)."""
    return sha256_b64url(canonical_json(report))


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


__all__ = ["body_digest", "canonical_json", "input_digest", "report_digest", "sha256_b64url"]
