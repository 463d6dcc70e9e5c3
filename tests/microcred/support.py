"""Fixture loading and credential surgery for the micro-credential tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "microcred"
OURS = ("ev-hv-safety", "adas-calibration")
SHAPES = ("elm", "ob3", "flat")
WRONG: list[Any] = [None, True, 0, -1, 1e308, 10**400, float("nan"), "", "x" * 100, [], [None],
                    {}, {"id": []},
                    [[[[]]]], {"en": {"en": {"en": 1}}}]
"""Values of the wrong type or range, put in place of any value by the hostile tests."""


def load(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text(encoding="utf-8"))
    return data


def without(credential: dict[str, Any], *paths: str) -> dict[str, Any]:
    """A deep copy with each dotted path removed (``a.b.c``; list items by index)."""
    doc = copy.deepcopy(credential)
    for path in paths:
        *parents, last = path.split(".")
        node: Any = doc
        for key in parents:
            node = node[int(key)] if isinstance(node, list) else node.get(key)
            if node is None:
                break
        if isinstance(node, dict):
            node.pop(last, None)
    return doc


def replaced(credential: dict[str, Any], path: str, value: Any) -> dict[str, Any]:
    """A deep copy with the value at a dotted path replaced."""
    doc = copy.deepcopy(credential)
    *parents, last = path.split(".")
    node: Any = doc
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return doc


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Every key/index path into a JSON document, parents before children."""
    found = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            found += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            found += paths(value, (*prefix, index))
    return found
