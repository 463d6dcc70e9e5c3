"""The evaluator's output is unchanged by optimisation: every corpus case (see
``differential.py``) gives the fingerprint recorded from the unoptimised code."""

from __future__ import annotations

import json

from tests.microcred.differential import EXPECTED, bases, cases, fingerprint, readable
from trustbridge.microcred import evaluate_microcredential


def test_every_case_matches_the_recorded_fingerprint() -> None:
    expected = json.loads(EXPECTED.read_text(encoding="utf-8"))
    full = expected["results"]
    got, changed = [], []
    for label, credential, required, at in cases():
        result = evaluate_microcredential(credential, required=required, at=at)
        got.append(fingerprint(result))
        if len(got) > len(expected["fingerprints"]) or \
                got[-1] != expected["fingerprints"][len(got) - 1]:
            changed.append(label)
        if result.model is not None:  # the JSON form, key order included
            assert json.dumps(result.model.model_dump(mode="json")) == json.dumps(
                result.summary), label
        key = f"{label} required={required}"
        if at is None and key in full:
            assert readable(result) == full[key], key
    assert changed == []
    assert len(got) == len(expected["fingerprints"])


def test_the_corpus_leaves_its_documents_as_they_were() -> None:
    before = bases()
    named = {label: credential for label, credential, _, _ in cases() if label in before}
    assert json.dumps(named) == json.dumps(before)
