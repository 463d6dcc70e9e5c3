"""The awarding country against the accreditation's jurisdiction (a fact the pipeline has)."""

from __future__ import annotations

import pytest

from tests.microcred.support import load
from trustbridge.microcred import check_jurisdiction, evaluate_microcredential
from trustbridge.microcred.jurisdiction import CODE, WARNING


@pytest.mark.parametrize("jurisdiction", ["ES", "ESP", "es", "EU", "EUR",
                                          "http://publications.europa.eu/resource/authority/"
                                          "country/ESP", None, "", "not a country"])
def test_agreeing_or_unknown_jurisdiction_changes_nothing(jurisdiction: str | None) -> None:
    result = evaluate_microcredential(load("ev-hv-safety-elm"), required=True)
    assert check_jurisdiction(result, jurisdiction, required=True) == result


def test_other_jurisdiction_is_a_warning_or_a_failure_when_required() -> None:
    result = evaluate_microcredential(load("ev-hv-safety-elm"), required=True)
    warned = check_jurisdiction(result, "FI")
    assert warned.check.status == "passed"
    assert warned.summary["warnings"][-1]["code"] == WARNING
    assert warned.check.details["warnings"][-1]["code"] == WARNING
    failed = check_jurisdiction(result, "FIN", required=True)
    assert failed.check.status == "failed" and failed.check.code == CODE
    assert failed.summary["invalid"][-1]["code"] == CODE
    assert failed.summary["complete"] is False
    assert failed.check.message == ("awarding country ES is outside the accreditation's "
                                    "jurisdiction FIN")
    assert result.check.status == "passed"  # the input is not changed


def test_non_eu_country_is_outside_eu_jurisdiction() -> None:
    credential = load("ev-hv-safety-flat")
    credential["credentialSubject"]["achievement"]["awardingBody"]["country"] = "NO"
    result = evaluate_microcredential(credential, required=False)
    assert check_jurisdiction(result, "EU").summary["warnings"][-1]["code"] == WARNING


def test_skipped_result_is_returned_as_is() -> None:
    result = evaluate_microcredential({"credentialSubject": {}}, required=False)
    assert check_jurisdiction(result, "ES") is result
