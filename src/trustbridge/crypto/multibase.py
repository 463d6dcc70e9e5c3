"""Multibase (base58btc ``z``, base64url ``u``) and unsigned-varint multicodec prefixes.

did:key identifiers are ``z`` + base58btc(varint(codec) + key bytes)
(did:key spec §3.1.1; multiformats/multicodec table.csv).
"""

from __future__ import annotations

import base64
import re

import base58

from trustbridge.crypto._errors import MalformedInput

CODE = "multibase.invalid"
_B58 = re.compile(r"^[1-9A-HJ-NP-Za-km-z]+$")
_B64URL = re.compile(r"^[A-Za-z0-9_-]+$")
MAX_VARINT_BYTES = 9  # unsigned-varint spec: at most 9 bytes (63 bits)


def decode_multibase(s: str) -> bytes:
    """Bytes of a ``z`` (base58btc) or ``u`` (base64url, no padding) multibase string."""
    if not isinstance(s, str) or len(s) < 2:
        raise MalformedInput("multibase value is empty", code=CODE)
    prefix, body = s[0], s[1:]
    if prefix == "z":
        if not _B58.match(body):
            raise MalformedInput("not base58btc", code=CODE)
        return base58.b58decode(body)
    if prefix == "u":
        if not _B64URL.match(body) or len(body) % 4 == 1:
            raise MalformedInput("not base64url", code=CODE)
        return base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    raise MalformedInput(f"unsupported multibase prefix {prefix!r}", code=CODE)


def encode_multibase_b58(data: bytes) -> str:
    return "z" + base58.b58encode(data).decode("ascii")


def read_multicodec(data: bytes) -> tuple[int, bytes]:
    """Split an unsigned-varint prefix from ``data``: ``(code, rest)``; minimal encoding only."""
    code = 0
    for i, byte in enumerate(data[:MAX_VARINT_BYTES]):
        code |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if byte == 0 and i > 0:
                raise MalformedInput("varint is not minimally encoded", code=CODE)
            return code, data[i + 1:]
    raise MalformedInput("truncated or overlong multicodec varint", code=CODE)


def encode_varint(code: int) -> bytes:
    if code < 0:
        raise ValueError("multicodec codes are unsigned")
    out = bytearray()
    while True:
        low = code & 0x7F
        code >>= 7
        if code:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)


def add_multicodec(code: int, data: bytes) -> bytes:
    return encode_varint(code) + data


__all__ = ["add_multicodec", "decode_multibase", "encode_multibase_b58", "encode_varint",
           "read_multicodec"]
