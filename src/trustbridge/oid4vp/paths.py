"""Locating values inside presentations: a bounded JSONPath subset and DCQL claims path pointers.

Presentation Exchange uses JSONPath (RFC 9535) in ``descriptor_map[].path`` and
``constraints.fields[].path``; in practice only the simple forms occur
(``$``, ``$.a.b``, ``$['a']``, ``$[0]``, ``$.a[*]``). Only those are accepted,
so a hostile definition cannot ask for filter expressions or recursive
descent. DCQL uses claims path pointers (OpenID4VP 1.0 section 7).
"""

from __future__ import annotations

import re
from typing import Any

from trustbridge.errors import InputError

_MISSING = object()
Segment = str | int | None  # None = every array element ("[*]")

_TOKEN = re.compile(
    r"""\.(?P<name>[A-Za-z_@$][A-Za-z0-9_@$:-]*)     # .name
      | \[\s*(?P<index>-?\d+)\s*\]                   # [0]
      | \[\s*(?P<q>'|")(?P<quoted>(?:(?!(?P=q)).){0,256})(?P=q)\s*\]  # ['name']
      | (?P<wild>\[\s*\*\s*\]|\.\*)                  # [*] or .*
    """,
    re.VERBOSE,
)
MAX_SEGMENTS = 16


def parse_json_path(path: str) -> list[Segment]:
    """``$.vc.type`` -> ``["vc", "type"]``; anything beyond the simple subset is refused."""
    if not path.startswith("$") or len(path) > 512:
        raise InputError(f"unsupported JSONPath {path!r}", code="oid4vp.path_unsupported")
    pos = 1
    segments: list[Segment] = []
    while pos < len(path):
        m = _TOKEN.match(path, pos)
        if m is None:
            raise InputError(f"unsupported JSONPath {path!r} at offset {pos}",
                             code="oid4vp.path_unsupported")
        if m.group("name") is not None:
            segments.append(m.group("name"))
        elif m.group("index") is not None:
            segments.append(int(m.group("index")))
        elif m.group("quoted") is not None:
            segments.append(m.group("quoted"))
        else:
            segments.append(None)
        pos = m.end()
        if len(segments) > MAX_SEGMENTS:
            raise InputError("JSONPath too long", code="oid4vp.path_unsupported")
    return segments


def select(document: Any, segments: list[Segment]) -> list[Any]:
    """Every value ``segments`` reaches in ``document`` (empty when nothing matches).

    The same walk serves JSONPath (``None`` = ``[*]``) and DCQL claims path pointers
    (``None`` = all array elements; a string on an array selects nothing).
    """
    current: list[Any] = [document]
    for seg in segments:
        nxt: list[Any] = []
        for node in current:
            if seg is None:
                if isinstance(node, list):
                    nxt.extend(node)
                elif isinstance(node, dict):
                    nxt.extend(node.values())
            elif isinstance(seg, int) and not isinstance(seg, bool):
                if isinstance(node, list) and -len(node) <= seg < len(node):
                    nxt.append(node[seg])
            elif isinstance(seg, str) and isinstance(node, dict) and seg in node:
                nxt.append(node[seg])
        current = nxt
        if not current:
            break
    return current


def select_path(document: Any, path: str) -> list[Any]:
    return select(document, parse_json_path(path))


def select_claim(document: Any, pointer: list[str | int | None]) -> list[Any]:
    """DCQL claims path pointer (section 7.1): strings = keys, ints = indexes, null = all."""
    for seg in pointer:
        if isinstance(seg, int) and not isinstance(seg, bool) and seg < 0:
            return []
    return select(document, list(pointer))


__all__ = ["parse_json_path", "select", "select_claim", "select_path"]
