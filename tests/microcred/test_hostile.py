"""Hostile input never raises and costs bounded work: huge strings, deep nesting, wrong types."""

from __future__ import annotations

import copy
import time
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.microcred.support import OURS, SHAPES, WRONG, load, paths
from trustbridge.microcred import evaluate_microcredential
from trustbridge.microcred.values import MAX_TEXT


def deep(levels: int, leaf: Any = "x") -> Any:
    node: Any = leaf
    for i in range(levels):
        node = [node] if i % 2 else {"id": node, "en": node, "noteLiteral": node}
    return node


def _set(doc: Any, path: tuple[Any, ...], value: Any) -> None:
    for key in path[:-1]:
        doc = doc[key]
    doc[path[-1]] = value


def _assert_sane(credential: Any, required: bool) -> None:
    result = evaluate_microcredential(credential, required=required)
    assert result.check.status in {"passed", "failed", "skipped"}
    assert result.check.code.startswith("microcredential.")


@pytest.mark.parametrize("shape", SHAPES)
def test_every_value_replaced_by_every_wrong_type(shape: str) -> None:
    base = load(f"{OURS[0]}-{shape}")
    for path in paths(base):
        for value in WRONG:
            doc = copy.deepcopy(base)
            _set(doc, path, value)
            _assert_sane(doc, required=True)


def test_huge_strings_are_cut_and_flagged() -> None:
    credential = load("ev-hv-safety-flat")
    achievement = credential["credentialSubject"]["achievement"]
    achievement["title"] = "A" * 5_000_000
    achievement["learningOutcomes"] = ["B" * 1_000_000] * 10_000
    achievement["eqfLevel"] = "4" * 1_000_000
    achievement["awardingBody"]["country"] = "E" * 1_000_000
    credential["issuanceDate"] = "2" * 1_000_000
    started = time.perf_counter()
    result = evaluate_microcredential(credential, required=True)
    assert time.perf_counter() - started < 2
    summary = result.summary
    assert len(summary["title"]) == MAX_TEXT and summary["title"].endswith("…")
    assert len(summary["learning_outcomes"]) == 50  # capped
    assert {p["code"] for p in summary["invalid"]} == {
        "microcredential.invalid.eqf_level", "microcredential.invalid.country",
        "microcredential.invalid.issued"}
    assert all(len(p["message"]) < 300 for p in summary["invalid"])
    assert "microcredential.warning.truncated" in [w["code"] for w in summary["warnings"]]


@pytest.mark.parametrize("levels", [50, 5000])
def test_deep_nesting_everywhere(levels: int) -> None:
    for shape in SHAPES:
        base = load(f"{OURS[1]}-{shape}")
        for path in paths(base)[:: max(1, len(paths(base)) // 40)]:
            doc = copy.deepcopy(base)
            _set(doc, path, deep(levels))
            _assert_sane(doc, required=True)
    _assert_sane({"credentialSubject": deep(levels)}, required=True)
    _assert_sane({"credentialSubject": {"achievement": deep(levels)}}, required=False)
    _assert_sane({"credentialSubject": {"hasClaim": deep(levels)}}, required=True)


def test_non_mapping_credentials() -> None:
    for value in WRONG:
        _assert_sane(value, required=True)
        _assert_sane(value, required=False)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.sampled_from(["id", "type", "title", "name", "en", "achievement",
                                       "hasClaim", "specifiedBy", "learningOutcome",
                                       "eqfLevel", "ects", "creditPoint", "point",
                                       "awardedBy", "awardingBody", "location", "address",
                                       "countryCode", "provenBy", "alignment", "targetUrl",
                                       "issuer", "issuanceDate", "mode", "accreditation"]),
                      children, max_size=5),
    max_leaves=40)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(subject=JSON, issuer=JSON, types=JSON, required=st.booleans())
def test_random_json_never_raises(subject: Any, issuer: Any, types: Any,
                                  required: bool) -> None:
    _assert_sane({"type": types, "issuer": issuer, "credentialSubject": subject,
                  "issuanceDate": subject}, required=required)
    _assert_sane({"type": ["OpenBadgeCredential"], "credentialSubject": {"achievement": subject}},
                 required=required)
    _assert_sane({"credentialSubject": {"hasClaim": subject}}, required=required)
