"""Strict base64url without padding (RFC 7515 §2, RFC 4648 §5).

Strict means canonical: one encoding per byte string (no padding, no stray
trailing bits), so a signed token cannot be re-encoded into a different string
that still verifies.
"""

from __future__ import annotations

import base64
import binascii

from trustbridge.crypto._errors import MalformedInput

_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_VALUE = {c: i for i, c in enumerate(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
# Unused low bits of the last character: 4 when len % 4 == 2, 2 when len % 4 == 3.
_SPARE_BITS_MASK = {2: 0b1111, 3: 0b11}


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, *, code: str = "base64url.invalid") -> bytes:
    """Bytes of canonical unpadded base64url ``text``; ``MalformedInput(code)`` otherwise.

    The alphabet is enforced in C: the standard alphabet's ``+``, ``/`` and ``=`` are
    refused first, then binascii's strict mode refuses anything else outside it (hot path:
    every JWS part; a regex over a multi-kilobyte payload cost as much as the decoding)."""
    if not isinstance(text, str) or len(text) % 4 == 1:
        raise MalformedInput("not unpadded base64url", code=code)
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        raise MalformedInput("not unpadded base64url", code=code) from None
    if b"+" in raw or b"/" in raw or b"=" in raw:
        raise MalformedInput("not unpadded base64url", code=code)
    mask = _SPARE_BITS_MASK.get(len(raw) % 4)
    if mask is not None and _VALUE.get(text[-1], 0) & mask:
        raise MalformedInput("non-canonical base64url (stray trailing bits)", code=code)
    try:
        return binascii.a2b_base64(raw.translate(_TO_STANDARD) + b"=" * (-len(raw) % 4),
                                   strict_mode=True)
    except binascii.Error:
        raise MalformedInput("not unpadded base64url", code=code) from None


__all__ = ["b64url_decode", "b64url_encode"]
