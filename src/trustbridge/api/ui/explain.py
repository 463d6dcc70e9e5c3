"""Plain-language explanations of check codes, read from the one table the UI ships.

The table (``static/ui/explanations.json``) maps exact codes or dotted prefixes to a
sentence saying what went wrong and one saying what to do; the longest matching key
wins, then ``check:<name>``, then a generic fallback, so a new code is never unexplained.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources


@dataclass(frozen=True)
class Explanation:
    what: str
    todo: str


@cache
def _table() -> tuple[dict[str, tuple[str, str]], tuple[str, str]]:
    raw = json.loads(resources.files("trustbridge.api").joinpath(
        "static/ui/explanations.json").read_text("utf-8"))
    codes = {key: (pair[0], pair[1]) for key, pair in raw["codes"].items()}
    return codes, (raw["fallback"][0], raw["fallback"][1])


def explain(code: str, check: str) -> Explanation:
    """The explanation for ``code`` (exact, else longest prefix, else per check)."""
    codes, fallback = _table()
    if code in codes:
        return Explanation(*codes[code])
    prefixes = [k for k in codes if k.endswith((".", "_")) and code.startswith(k)]
    if prefixes:
        return Explanation(*codes[max(prefixes, key=len)])
    return Explanation(*codes.get(f"check:{check}", fallback))


__all__ = ["Explanation", "explain"]
