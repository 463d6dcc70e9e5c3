"""Decode and encode GZIP-compressed bitstrings (StatusList2021 §5, Bitstring Status List §4).

``encodedList`` is base64url (StatusList2021) or multibase base64url with a
leading ``u`` (BitstringStatusList v1.0) of a GZIP stream. Decompression is
capped: a small hostile list must not expand into gigabytes (gzip bomb).
Bit 0 is the left-most (most significant) bit of the first byte.
"""

from __future__ import annotations

import base64
import binascii
import gzip
import zlib

MAX_DECOMPRESSED_BYTES = 16 * 1024 * 1024
"""128 Mi entries; far above the spec's 16 KiB minimum and any real list."""


class StatusListError(ValueError):
    """A status list that cannot be decoded; ``code`` is a stable dotted string."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


def _b64_decode(text: str) -> bytes:
    """base64url as the specs say, or the standard alphabet EBSI's library emits; unpadded ok."""
    normalised = text.replace("-", "+").replace("_", "/").rstrip("=")
    padded = normalised + "=" * (-len(normalised) % 4)
    try:
        return base64.b64decode(padded.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError) as exc:
        raise StatusListError("encodedList is not base64", code="status.list_malformed") \
            from exc


def decode_bitstring(encoded: str, *, max_bytes: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """The raw bitstring of an ``encodedList``; multibase ``u`` prefix accepted.

    Raises ``StatusListError`` (``status.list_malformed`` or ``status.list_too_large``).
    """
    if not isinstance(encoded, str) or not encoded:
        raise StatusListError("encodedList is missing", code="status.list_malformed")
    text = encoded.strip()
    # Multibase: 'u' = base64url without padding. A plain StatusList2021 list of GZIP
    # data starts with "H4sI" (0x1f8b08) so a leading 'u' is unambiguous.
    if text.startswith("u"):
        text = text[1:]
    compressed = _b64_decode(text)
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error as exc:
        raise StatusListError("encodedList is not GZIP data", code="status.list_malformed") \
            from exc
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise StatusListError(f"status list expands beyond {max_bytes} bytes",
                              code="status.list_too_large")
    if not inflater.eof:
        raise StatusListError("status list GZIP stream is truncated",
                              code="status.list_malformed")
    return data


def encode_bitstring(bits: bytes, *, multibase: bool) -> str:
    """``encodedList`` for ``bits`` (used by tests and fixture generators)."""
    text = base64.urlsafe_b64encode(gzip.compress(bits, mtime=0)).decode("ascii").rstrip("=")
    return "u" + text if multibase else text


def bit_length(bits: bytes, status_size: int = 1) -> int:
    """How many entries of ``status_size`` bits the list holds."""
    return (len(bits) * 8) // status_size


def status_value(bits: bytes, index: int, status_size: int = 1) -> int:
    """The ``status_size``-bit value at entry ``index`` (MSB first); ``IndexError`` outside."""
    if index < 0 or status_size < 1 or index >= bit_length(bits, status_size):
        raise IndexError(index)
    value = 0
    start = index * status_size
    for pos in range(start, start + status_size):
        byte = bits[pos // 8]
        value = (value << 1) | ((byte >> (7 - pos % 8)) & 1)
    return value


def set_status(bits: bytearray, index: int, value: int = 1, status_size: int = 1) -> None:
    """Write entry ``index`` (tests and fixture generators)."""
    start = index * status_size
    for offset in range(status_size):
        pos = start + offset
        bit = (value >> (status_size - 1 - offset)) & 1
        mask = 1 << (7 - pos % 8)
        if bit:
            bits[pos // 8] |= mask
        else:
            bits[pos // 8] &= ~mask & 0xFF


__all__ = [
    "MAX_DECOMPRESSED_BYTES",
    "StatusListError",
    "bit_length",
    "decode_bitstring",
    "encode_bitstring",
    "set_status",
    "status_value",
]
