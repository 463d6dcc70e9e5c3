"""Strict JSON for signed data: UTF-8 only, no NaN/Infinity, no duplicate keys, bounded depth.

Kept inside ``crypto`` so the crypto package does not import the HTTP layer.
Duplicate keys are refused because two parsers may pick different values
(a classic JWS header confusion).
"""

from __future__ import annotations

import json
import re
from typing import Any

from trustbridge.crypto._errors import MalformedInput

MAX_DEPTH = 64


# A JSON string literal (valid JSON only; in invalid text an unmatched quote leaves the rest
# in place, which can only over-count depth, and json.loads refuses such text anyway).
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")


def depth_exceeds(text: str | bytes, limit: int) -> bool:
    """True if brackets outside strings nest deeper than ``limit``.

    Hot path (every JWS header and payload, every request body): text with at most
    ``limit`` opening brackets cannot nest deeper, so most documents skip the scan (bytes
    are then not even decoded); the scan itself walks only the brackets left once string
    literals are removed, in C (re), not character by character.
    """
    if isinstance(text, bytes):
        if text.count(b"[") + text.count(b"{") <= limit:
            return False
        text = text.decode("utf-8", "replace")
    elif text.count("[") + text.count("{") <= limit:
        return False
    depth = 0
    for match in _BRACKET.finditer(_STRING.sub("", text)):
        if match.group() in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _no_constants(name: str) -> Any:
    raise ValueError(f"non-standard JSON constant {name}")


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    out = dict(pairs)  # built in C; a duplicate shows as a shorter dict
    if len(out) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise ValueError(f"duplicate member {key!r}")
            seen.add(key)
    return out


# One decoder for every call: ``json.loads`` with hooks builds a new JSONDecoder each time.
_DECODER = json.JSONDecoder(parse_constant=_no_constants, object_pairs_hook=_no_duplicates)


def strict_loads(text: str | bytes) -> Any:
    """``json.loads`` refusing NaN/Infinity and duplicate members (raises ``ValueError``).

    Callers bound the nesting depth first (``depth_exceeds``)."""
    if isinstance(text, bytes | bytearray):  # as json.loads: detect the UTF flavour
        text = text.decode(json.detect_encoding(text), "surrogatepass")
    return _DECODER.decode(text)


def parse_strict_json(raw: bytes, *, code: str, max_depth: int = MAX_DEPTH) -> Any:
    """Parse ``raw`` or raise ``MalformedInput(code=code)``."""
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInput("JSON is not UTF-8", code=code) from exc
    if depth_exceeds(text, max_depth):
        raise MalformedInput(f"JSON nested deeper than {max_depth} levels", code=code)
    try:
        return strict_loads(text)
    except (ValueError, RecursionError) as exc:
        raise MalformedInput(f"not valid JSON: {exc}", code=code) from exc


__all__ = ["depth_exceeds", "parse_strict_json", "strict_loads"]
