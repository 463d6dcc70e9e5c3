"""``required`` decides whether an incomplete or unrecognised credential fails."""

from __future__ import annotations

from typing import Any

import pytest

from tests.microcred.support import load
from trustbridge.microcred import (
    MANDATORY_ELEMENTS,
    MicrocredentialResult,
    evaluate_microcredential,
)
from trustbridge.model.report import CheckResult

NOT_MICRO: list[Any] = [
    {"@context": ["https://www.w3.org/2018/credentials/v1"],
     "type": ["VerifiableCredential", "VerifiableId"], "issuer": "did:example:gov",
     "issuanceDate": "2025-01-01T00:00:00Z",
     "credentialSubject": {"id": "did:example:ane", "familyName": "Demo",
                           "dateOfBirth": "2000-01-01"}},
    {"type": ["VerifiableCredential"], "credentialSubject": "did:example:ane"},
    {},
]


@pytest.mark.parametrize("credential", NOT_MICRO)
def test_not_a_micro_credential_is_skipped_unless_required(credential: Any) -> None:
    skipped = evaluate_microcredential(credential, required=False)
    assert skipped.check.status == "skipped"
    assert skipped.check.code == "microcredential.skipped"
    assert skipped.summary == {}
    failed = evaluate_microcredential(credential, required=True)
    assert failed.check.status == "failed"
    assert failed.check.code == "microcredential.not_recognised"
    assert failed.check.details["missing"] == list(MANDATORY_ELEMENTS)


def test_an_edc_without_a_claim_is_recognised_with_everything_missing() -> None:
    credential = load("ev-hv-safety-elm")
    del credential["credentialSubject"]["hasClaim"]
    result = evaluate_microcredential(credential, required=True)
    assert result.summary["shape"] == "elm"
    assert result.summary["missing"] == ["learner", "title", "country", "awarding_body",
                                         "issued", "learning_outcomes", "workload", "level",
                                         "assessment_type", "participation_form",
                                         "quality_assurance"]


def test_complete_credential_passes_either_way() -> None:
    for required in (True, False):
        result = evaluate_microcredential(load("adas-calibration-elm"), required=required)
        assert result.check.status == "passed"
        assert result.check.code == "microcredential.ok"
        assert result.check.details["complete"] is True


def test_result_shape_for_the_pipeline() -> None:
    result = evaluate_microcredential(load("adas-calibration-flat"), required=False)
    assert isinstance(result, MicrocredentialResult)
    assert isinstance(result.check, CheckResult)
    assert result.model is not None
    assert result.summary == result.model.model_dump(mode="json")
    assert set(result.check.details) == {"shape", "complete", "missing", "problems", "warnings"}
    with pytest.raises(AttributeError):
        result.summary = {}  # type: ignore[misc]  # frozen


def test_existing_demo_credential_is_summarised_but_incomplete() -> None:
    """registry/generate.py's EV demo credential (flat, issuer is a bare DID)."""
    vc = {"@context": ["https://www.w3.org/2018/credentials/v1"],
          "type": ["VerifiableCredential", "VerifiableAttestation",
                   "EVHighVoltageSafetyCredential"],
          "issuer": "did:key:zDnaehsJ5ZGDM8PeBSUWBn2SvghR1ptuj5tJLRPbfMzZFNHmz",
          "issuanceDate": "2025-06-01T09:00:00Z",
          "credentialSubject": {"id": "did:key:z6Mkn", "givenName": "Ane", "familyName": "Demo",
                                "achievement": {
                                    "title": "EV high-voltage safety", "ects": 2, "eqfLevel": 4,
                                    "learningOutcomes": ["Verify the absence of voltage"]}}}
    result = evaluate_microcredential(vc, required=False)
    assert result.check.status == "passed" and result.check.code == "microcredential.incomplete"
    assert result.summary["missing"] == ["country", "assessment_type", "participation_form",
                                         "quality_assurance"]
    assert result.summary["learning_outcomes"] == [{"text": "Verify the absence of voltage",
                                                    "skills": []}]
