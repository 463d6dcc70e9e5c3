"""Differential corpus for ``evaluate_microcredential``: inputs, fingerprints, recorder.

The evaluator is optimised for speed; its output must not change by a byte. This module
builds a deterministic corpus (every micro-credential fixture, the benchmark workload's
credentials, the inputs the other microcred tests use, and every fixture with each value
removed or replaced by a wrong type) and fingerprints each result down to types, key
order and pydantic ``model_fields_set``. ``fixtures/microcred/differential-expected.json``
holds the fingerprints recorded from the unoptimised code; re-record (only for an intended
change of output) with ``python -m tests.microcred.differential``.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from pydantic import BaseModel

from tests.microcred.support import FIXTURES, WRONG, paths
from trustbridge.microcred import MicrocredentialResult, evaluate_microcredential

EXPECTED = FIXTURES / "differential-expected.json"
INPUTS = FIXTURES / "differential-inputs.json"
WORKLOAD = FIXTURES / "workload-jwt-vc.json"
AT = (None, datetime.fromisoformat("2026-06-01T00:05:00+00:00"),
      datetime.fromisoformat("2020-01-01T00:00:00"))
"""No time, the workload's verification time, and a naive time before most issue dates."""
VALUES: tuple[Any, ...] = (*WRONG, "http://data.europa.eu/esco/skill/x", "2030-01-01")
"""Replacements for each value in turn: the hostile ones and two near-misses."""
_REMOVED = object()
Case = tuple[str, Any, bool, datetime | None]


def bases() -> dict[str, Any]:
    """Every fixture credential by name (workload ones as ``workload-<n>``)."""
    found: dict[str, Any] = {
        path.stem: json.loads(path.read_text(encoding="utf-8"))
        for path in sorted(FIXTURES.glob("*.json"))
        if path not in (EXPECTED, INPUTS, WORKLOAD)}
    workload = json.loads(WORKLOAD.read_text(encoding="utf-8"))["credentials"]
    found.update({f"workload-{i}": c for i, c in enumerate(workload)})
    return found


def _from_input(case: dict[str, Any], named: dict[str, Any]) -> Any:
    """A recorded input: a raw credential, or a fixture with deletions and replacements."""
    if "credential" in case:
        return case["credential"]
    doc = copy.deepcopy(named[case["base"]])
    for path in case["delete"]:
        node = doc
        for key in path[:-1]:
            node = node[key]
        del node[path[-1]]
    for path, value in case["set"]:
        if not path:
            return value
        node = doc
        for key in path[:-1]:
            node = node[key]
        node[path[-1]] = value
    return doc


def cases() -> Iterator[Case]:
    """The corpus, in a fixed order; mutated documents are yielded before being restored,
    so each must be evaluated before the next is drawn."""
    named = bases()
    for name, credential in named.items():
        for required in (False, True):
            for at in AT:
                yield name, credential, required, at
    recorded = json.loads(INPUTS.read_text(encoding="utf-8"))["cases"]
    for i, case in enumerate(recorded):
        at = datetime.fromisoformat(case["at"]) if case["at"] else None
        credential = _from_input(case, named)
        yield f"input-{i}", credential, case["required"], at
        yield f"input-{i}-flipped", credential, not case["required"], at
    turn = 0
    for name, credential in named.items():
        for path in paths(credential):
            parent = credential
            for key in path[:-1]:
                parent = parent[key]
            original = parent[path[-1]]
            for value in (_REMOVED, *(VALUES[(turn + k) % len(VALUES)] for k in range(4))):
                if value is _REMOVED:
                    if isinstance(parent, list):
                        continue
                    saved = list(parent.items())
                    del parent[path[-1]]
                else:
                    parent[path[-1]] = value
                yield f"{name}:{'/'.join(map(str, path))}={value!r:.20}", credential, True, None
                if value is _REMOVED:  # put the key back in its place
                    parent.clear()
                    parent.update(saved)
                else:
                    parent[path[-1]] = original
            turn += 1


def _shape(value: Any) -> Any:
    """Everything that could tell two results apart: types, key order, set fields."""
    if isinstance(value, BaseModel):
        return (type(value).__name__, sorted(value.model_fields_set),
                [(name, _shape(getattr(value, name))) for name in type(value).model_fields])
    if isinstance(value, dict):
        return ("dict", [(_shape(k), _shape(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return (type(value).__name__, [_shape(v) for v in value])
    return (type(value).__name__, repr(value))


def fingerprint(result: MicrocredentialResult) -> str:
    """Digest of the whole result (check, summary mapping, typed summary)."""
    whole = repr((type(result).__name__, _shape(result.check), _shape(result.summary),
                  _shape(result.model)))
    return hashlib.sha256(whole.encode()).hexdigest()[:16]


def readable(result: MicrocredentialResult) -> dict[str, Any]:
    return {"check": result.check.model_dump(mode="json"), "summary": result.summary}


def record() -> None:
    """Write the expected fingerprints (and the fixtures' full results, for reading)."""
    digests, full = [], {}
    for label, credential, required, at in cases():
        result = evaluate_microcredential(credential, required=required, at=at)
        digests.append(fingerprint(result))
        if not label.startswith("input-") and ":" not in label and at is None:
            full[f"{label} required={required}"] = readable(result)
    EXPECTED.write_text(json.dumps({"fingerprints": digests, "results": full}, indent=1,
                                   ensure_ascii=False) + "\n", encoding="utf-8")


if __name__ == "__main__":
    record()
