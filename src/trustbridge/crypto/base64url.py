"""Strict base64url without padding (RFC 7515 §2, RFC 4648 §5).

Strict means canonical: one encoding per byte string (no padding, no stray
trailing bits), so a signed token cannot be re-encoded into a different string
that still verifies.
"""

from __future__ import annotations

import base64
import re

from trustbridge.crypto._errors import MalformedInput

_ALPHABET = re.compile(r"[A-Za-z0-9_-]*")
_VALUE = {c: i for i, c in enumerate(
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")}
# Unused low bits of the last character: 4 when len % 4 == 2, 2 when len % 4 == 3.
_SPARE_BITS_MASK = {2: 0b1111, 3: 0b11}


def b64url_encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def b64url_decode(text: str, *, code: str = "base64url.invalid") -> bytes:
    """Bytes of canonical unpadded base64url ``text``; ``MalformedInput(code)`` otherwise."""
    if not isinstance(text, str) or not _ALPHABET.fullmatch(text) or len(text) % 4 == 1:
        raise MalformedInput("not unpadded base64url", code=code)
    mask = _SPARE_BITS_MASK.get(len(text) % 4)
    if mask is not None and _VALUE[text[-1]] & mask:
        raise MalformedInput("non-canonical base64url (stray trailing bits)", code=code)
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


__all__ = ["b64url_decode", "b64url_encode"]
