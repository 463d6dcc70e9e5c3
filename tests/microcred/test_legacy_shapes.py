"""Older shapes providers still issue: ELM 2 / Europass (``achieved``) and EBSI diplomas.

Both credentials are written here from the public ELM 2 model and the EBSI
VerifiableDiploma schema (property names only; values are ours).
"""

from __future__ import annotations

from typing import Any

from trustbridge.microcred import evaluate_microcredential

ELM2: dict[str, Any] = {
    "@context": ["https://www.w3.org/2018/credentials/v1"],
    "type": ["VerifiableCredential", "EuropassCredential"],
    "issuer": {"id": "did:example:uni", "preferredName": "Universidad Demo",
               "location": [{"address": [{"countryCode": "ES"}]}]},
    "issuanceDate": "2024-03-01T10:00:00Z",
    "credentialSubject": {
        "id": "did:example:ane", "givenNames": "Ane", "familyName": "Demo",
        "achieved": [{
            "id": "urn:achievement:1", "title": "Battery safety",
            "wasAwardedBy": {"awardingBody": [{"id": "did:example:uni",
                                               "preferredName": "Universidad Demo"}]},
            "wasDerivedFrom": [{"title": "Written test", "grade": "8/10"}],
            "specifiedBy": [{
                "title": "Battery safety", "ECTSCreditPoints": 3, "volumeOfLearning": "PT80H",
                "eqfLevel": "http://data.europa.eu/snb/eqf/5",
                "learningOutcomes": [{"title": "Handle damaged cells",
                                      "relatedESCOSkill": [
                                          "http://data.europa.eu/esco/skill/"
                                          "5fd5c985-eaaa-47aa-8314-62359c54505a"]}],
                "mode": "Online", "qualityAssurance": "Internal QA by the university"}],
        }],
    },
}

EBSI_DIPLOMA: dict[str, Any] = {
    "@context": ["https://www.w3.org/2018/credentials/v1"],
    "type": ["VerifiableCredential", "VerifiableAttestation", "VerifiableDiploma"],
    "issuer": "did:ebsi:zexample", "issuanceDate": "2021-07-01T00:00:00Z",
    "credentialSubject": {
        "id": "did:ebsi:zlearner", "givenNames": "Jane", "familyName": "Doe",
        "awardingOpportunity": {"id": "urn:ao:1", "location": "FRANCE",
                                "awardingBody": {"id": "did:ebsi:zexample",
                                                 "preferredName": "Demo University",
                                                 "registration": "0000000X"}},
        "learningAchievement": {"id": "urn:la:1", "title": "Master in Demo Studies",
                                "description": "Knowledge of demo studies"},
        "learningSpecification": {"id": "urn:ls:1", "ectsCreditPoints": 120, "eqfLevel": 7,
                                  "nqfLevel": ["7"]},
    },
}


def test_elm2_achieved_shape() -> None:
    result = evaluate_microcredential(ELM2, required=True)
    got = result.summary
    assert got["shape"] == "elm"
    assert got["title"] == "Battery safety"
    assert got["learner"]["name"] == "Ane Demo"
    assert [b["name"] for b in got["awarding_bodies"]] == ["Universidad Demo"]
    assert got["countries"] == ["ES"]  # from the issuer: the body names none
    assert got["workload"]["ects"] == 3.0 and got["workload"]["hours"] == 80.0
    assert got["level"]["eqf"] == 5
    assert got["learning_outcomes"][0]["skills"][0]["uri"] == (
        "http://data.europa.eu/esco/skill/5fd5c985-eaaa-47aa-8314-62359c54505a")
    assert got["assessment_type"] == "Written test" and got["grade"] == "8/10"
    assert got["participation_form"] == "Online"
    assert got["quality_assurance"] == [{"type": "Internal QA by the university",
                                         "reference": None, "body": None}]
    assert result.check.status == "passed", got


def test_ebsi_verifiable_diploma_shape() -> None:
    result = evaluate_microcredential(EBSI_DIPLOMA, required=True)
    got = result.summary
    assert got["shape"] == "flat"
    assert got["title"] == "Master in Demo Studies"
    assert got["learner"]["name"] == "Jane Doe"
    assert [b["name"] for b in got["awarding_bodies"]] == ["Demo University"]
    assert got["workload"]["ects"] == 120.0 and got["level"]["eqf"] == 7
    assert got["level"]["nqf"] == "7"
    # "FRANCE" is a name, not an ISO 3166 code; a degree is no micro-credential.
    assert [p["code"] for p in got["invalid"]] == ["microcredential.invalid.country"]
    assert "microcredential.warning.ects_above_60" in [w["code"] for w in got["warnings"]]
    assert got["missing"] == ["learning_outcomes", "assessment_type", "participation_form",
                              "quality_assurance"]
    assert result.check.code == "microcredential.invalid.country"
