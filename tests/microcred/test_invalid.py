"""Malformed values are reported with stable codes; implausible ones are warned about."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.microcred.support import load, replaced
from trustbridge.microcred import evaluate_microcredential

ACH = "credentialSubject.achievement"
SPEC = "credentialSubject.hasClaim.specifiedBy"


def problems(credential: dict[str, Any]) -> list[str]:
    result = evaluate_microcredential(credential, required=True)
    return [p["code"] for p in result.summary["invalid"]]


def warnings(credential: dict[str, Any], **kwargs: Any) -> list[str]:
    result = evaluate_microcredential(credential, required=True, **kwargs)
    return [w["code"] for w in result.summary["warnings"]]


@pytest.mark.parametrize(("value", "code"), [
    (9, "microcredential.invalid.eqf_level"),
    (0, "microcredential.invalid.eqf_level"),
    ("http://data.europa.eu/snb/eqf/9", "microcredential.invalid.eqf_level"),
    ("level four", "microcredential.invalid.eqf_level"),
    (True, "microcredential.invalid.eqf_level"),
    (4.5, "microcredential.invalid.eqf_level"),
    ({"prefLabel": {"en": "Level 12"}}, "microcredential.invalid.eqf_level"),
])
def test_bad_eqf_level(value: Any, code: str) -> None:
    credential = replaced(load("ev-hv-safety-flat"), f"{ACH}.eqfLevel", value)
    result = evaluate_microcredential(credential, required=True)
    assert result.check.status == "failed"
    assert result.check.code == code
    assert result.summary["missing"] == []  # present, but malformed
    assert [(p["element"], p["code"]) for p in result.summary["invalid"]] == [("level", code)]
    assert evaluate_microcredential(credential, required=False).check.status == "passed"


@pytest.mark.parametrize("value", [4, "4", "EQF 4", "Level 4", "http://data.europa.eu/snb/eqf/4",
                                   "https://data.europa.eu/snb/eqf/4", 4.0,
                                   {"id": "http://data.europa.eu/snb/eqf/4"}])
def test_eqf_level_spellings(value: Any) -> None:
    credential = replaced(load("ev-hv-safety-flat"), f"{ACH}.eqfLevel", value)
    assert evaluate_microcredential(credential, required=True).summary["level"]["eqf"] == 4


@pytest.mark.parametrize("value", [-1, "-3", "three", True, [], {"x": 1}, float("inf")])
def test_bad_ects(value: Any) -> None:
    credential = replaced(load("ev-hv-safety-flat"), f"{ACH}.ects", value)
    assert problems(credential) == ["microcredential.invalid.ects"]


def test_ects_in_elm_credit_point_string() -> None:
    credential = replaced(load("ev-hv-safety-elm"), f"{SPEC}.creditPoint.point", "1,5")
    summary = evaluate_microcredential(credential, required=True).summary
    assert summary["workload"]["ects"] == 1.5  # 50 h per credit
    assert "microcredential.warning.workload_inconsistent" in [w["code"] for w in
                                                               summary["warnings"]]


def test_more_than_60_ects_is_a_warning_not_a_failure() -> None:
    credential = replaced(load("ev-hv-safety-flat"), f"{ACH}.ects", 90)
    credential = replaced(credential, f"{ACH}.workloadHours", 2400)
    result = evaluate_microcredential(credential, required=True)
    assert result.check.status == "passed"
    assert [w["code"] for w in result.summary["warnings"]] == [
        "microcredential.warning.ects_above_60"]


def test_zero_ects_and_inconsistent_hours_are_warned() -> None:
    credential = replaced(load("ev-hv-safety-flat"), f"{ACH}.ects", 0)
    assert warnings(credential) == ["microcredential.warning.ects_zero"]
    credential = replaced(load("ev-hv-safety-flat"), f"{ACH}.workloadHours", 500)
    assert warnings(credential) == ["microcredential.warning.workload_inconsistent"]


def test_non_ects_credits_are_shown_not_counted_as_ects() -> None:
    credential = replaced(load("ev-hv-safety-elm"), f"{SPEC}.creditPoint.framework",
                          {"id": "urn:example:credits", "prefLabel": {"en": "US credit hours"}})
    summary = evaluate_microcredential(credential, required=True).summary
    assert summary["workload"]["ects"] is None
    assert summary["workload"]["other_credits"] == 3.0
    assert summary["workload"]["other_credit_framework"] == "US credit hours"
    assert summary["workload"]["hours"] == 75.0  # still a workload
    assert "microcredential.warning.credits_not_ects" in [w["code"] for w in summary["warnings"]]


@pytest.mark.parametrize("duration", ["75 hours", "P", "PT", "PTH", "P1Y2", 75])
def test_bad_volume_of_learning(duration: Any) -> None:
    credential = replaced(load("ev-hv-safety-elm"), f"{SPEC}.volumeOfLearning", duration)
    assert problems(credential) == ["microcredential.invalid.workload_hours"]


def test_volume_of_learning_in_calendar_units_is_warned() -> None:
    credential = replaced(load("ev-hv-safety-elm"), f"{SPEC}.volumeOfLearning", "P2W")
    summary = evaluate_microcredential(credential, required=True).summary
    assert summary["workload"]["hours"] is None and summary["workload"]["duration"] == "P2W"
    assert [w["code"] for w in summary["warnings"]] == [
        "microcredential.warning.workload_calendar_units"]


@pytest.mark.parametrize("value", ["XX", "Spain", "ZZZ", "E", 724, "http://example.org/ESP"])
def test_bad_country(value: Any) -> None:
    credential = replaced(load("ev-hv-safety-flat"), f"{ACH}.awardingBody.country", value)
    result = evaluate_microcredential(credential, required=True)
    assert [p["code"] for p in result.summary["invalid"]] == ["microcredential.invalid.country"]
    assert result.summary["missing"] == []
    assert result.check.code == "microcredential.invalid.country"


@pytest.mark.parametrize(("value", "alpha2"), [
    ("ES", "ES"), ("es", "ES"), ("ESP", "ES"), ("EL", "GR"), ("ES-NA", "ES"),
    ("http://publications.europa.eu/resource/authority/country/FIN", "FI"),
    ({"id": "http://publications.europa.eu/resource/authority/country/PRT"}, "PT"),
])
def test_country_spellings(value: Any, alpha2: str) -> None:
    credential = replaced(load("ev-hv-safety-flat"), f"{ACH}.awardingBody.country", value)
    assert evaluate_microcredential(credential, required=True).summary["countries"] == [alpha2]


@pytest.mark.parametrize("uri", ["http://data.europa.eu/esco/skill/not-a-uuid",
                                 "http://data.europa.eu/esco/skil/3c2b6e7c-9d61-4c2b-9a5e-"
                                 "1f0c8e2d4a11",
                                 "http://data.europa.eu/esco/skill/3C2B6E7C-9D61-4C2B-9A5E-"
                                 "1F0C8E2D4A11 "])
def test_malformed_esco_uri(uri: str) -> None:
    credential = replaced(load("ev-hv-safety-flat"),
                          f"{ACH}.learningOutcomes.0.escoSkills.0.id", uri)
    result = evaluate_microcredential(credential, required=True)
    assert [(p["element"], p["code"]) for p in result.summary["invalid"]] == [
        ("learning_outcomes", "microcredential.invalid.esco_uri")]
    assert result.summary["learning_outcomes"][0]["skills"][0]["uri"] is None


def test_esco_uri_with_https_is_normalised_and_warned() -> None:
    uri = "https://data.europa.eu/esco/skill/3c2b6e7c-9d61-4c2b-9a5e-1f0c8e2d4a11"
    credential = replaced(load("ev-hv-safety-flat"),
                          f"{ACH}.learningOutcomes.0.escoSkills.0.id", uri)
    summary = evaluate_microcredential(credential, required=True).summary
    assert summary["learning_outcomes"][0]["skills"][0]["uri"] == uri.replace("https", "http")
    assert [w["code"] for w in summary["warnings"]] == ["microcredential.warning.esco_uri_https"]


@pytest.mark.parametrize("value", ["01/06/2025", "2025-13-01T00:00:00Z", "yesterday", 1748768400,
                                   "2025-06-01T09:00:00+25:00", "2025-06-01 09:00:00Z"])
def test_bad_issue_date(value: Any) -> None:
    credential = replaced(load("ev-hv-safety-flat"), "issuanceDate", value)
    assert problems(credential) == ["microcredential.invalid.issued"]


def test_issue_date_without_offset_is_read_as_utc_with_a_warning() -> None:
    credential = replaced(load("ev-hv-safety-flat"), "issuanceDate", "2025-06-01T09:00:00")
    summary = evaluate_microcredential(credential, required=True).summary
    assert summary["issued"] == "2025-06-01T09:00:00+00:00"
    assert [w["code"] for w in summary["warnings"]] == [
        "microcredential.warning.issued_without_offset"]


def test_issue_date_after_verification_time_is_warned() -> None:
    at = datetime(2025, 1, 1, tzinfo=UTC)
    assert warnings(load("ev-hv-safety-flat"), at=at) == [
        "microcredential.warning.issued_in_future"]
    assert warnings(load("ev-hv-safety-flat"), at=datetime(2026, 1, 1)) == []  # naive = UTC


def test_bad_and_inconsistent_qf_ehea_cycle() -> None:
    base = load("uni-battery-qfehea-elm")
    credential = replaced(base, f"{SPEC}.qfEheaLevel", "fourth")
    assert problems(credential) == ["microcredential.invalid.qf_ehea_level"]
    credential = replaced(base, f"{SPEC}.qfEheaLevel", "Second cycle")
    assert warnings(credential) == ["microcredential.warning.level_inconsistent"]


def test_qf_ehea_cycle_alone_is_a_level() -> None:
    credential = load("uni-battery-qfehea-elm")
    del credential["credentialSubject"]["hasClaim"]["specifiedBy"]["eqfLevel"]
    result = evaluate_microcredential(credential, required=True)
    assert result.check.status == "passed"
    assert result.summary["level"] == {"eqf": None, "qf_ehea": "first", "nqf": None}
