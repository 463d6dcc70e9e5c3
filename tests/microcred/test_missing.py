"""Each mandatory Annex I element, removed from each shape, is reported exactly."""

from __future__ import annotations

import pytest

from tests.microcred.support import load, without
from trustbridge.microcred import MANDATORY_ELEMENTS, evaluate_microcredential

CLAIM = "credentialSubject.hasClaim"
SPEC = f"{CLAIM}.specifiedBy"
BODY = f"{CLAIM}.awardedBy.awardingBody"
ASSESS = f"{CLAIM}.provenBy"
ACH = "credentialSubject.achievement"

# (shape, element) -> paths to remove, and the exact ``missing`` list expected.
REMOVALS: dict[tuple[str, str], tuple[tuple[str, ...], list[str]]] = {
    ("elm", "learner"): (("credentialSubject.id", "credentialSubject.fullName",
                          "credentialSubject.givenName", "credentialSubject.familyName"),
                         ["learner"]),
    ("elm", "title"): ((f"{CLAIM}.title", f"{SPEC}.title"), ["title"]),
    ("elm", "country"): ((f"{BODY}.location", "issuer.location"), ["country"]),
    # The issuer's country still names the country (Annex I: "country of the issuer").
    ("elm", "awarding_body"): ((f"{CLAIM}.awardedBy", f"{ASSESS}.awardedBy"),
                               ["awarding_body"]),
    ("elm", "issued"): (("issuanceDate", "validFrom", f"{CLAIM}.awardedBy.awardingDate"),
                        ["issued"]),
    ("elm", "learning_outcomes"): ((f"{SPEC}.learningOutcome",), ["learning_outcomes"]),
    ("elm", "workload"): ((f"{SPEC}.creditPoint", f"{SPEC}.volumeOfLearning"), ["workload"]),
    ("elm", "level"): ((f"{SPEC}.eqfLevel",), ["level"]),
    ("elm", "assessment_type"): ((f"{ASSESS}.specifiedBy", f"{ASSESS}.title"),
                                ["assessment_type"]),
    ("elm", "participation_form"): ((f"{SPEC}.mode",), ["participation_form"]),
    ("elm", "quality_assurance"): ((f"{BODY}.accreditation", "issuer.accreditation"),
                                   ["quality_assurance"]),
    ("ob3", "learner"): (("credentialSubject.id", "credentialSubject.identifier"),
                         ["learner"]),
    ("ob3", "title"): ((f"{ACH}.name", "name"), ["title"]),
    ("ob3", "country"): (("issuer.address", f"{ACH}.creator.address"), ["country"]),
    ("ob3", "awarding_body"): (("issuer", f"{ACH}.creator"), ["country", "awarding_body"]),
    ("ob3", "issued"): (("validFrom", "awardedDate"), ["issued"]),
    ("ob3", "workload"): ((f"{ACH}.creditsAvailable", f"{ACH}.workloadHours"), ["workload"]),
    ("ob3", "assessment_type"): ((f"{ACH}.assessmentType",), ["assessment_type"]),
    ("ob3", "participation_form"): ((f"{ACH}.formOfParticipation",), ["participation_form"]),
    ("ob3", "quality_assurance"): ((f"{ACH}.qualityAssurance",), ["quality_assurance"]),
    ("flat", "learner"): (("credentialSubject.id", "credentialSubject.givenName",
                           "credentialSubject.familyName"), ["learner"]),
    ("flat", "title"): ((f"{ACH}.title",), ["title"]),
    ("flat", "country"): ((f"{ACH}.awardingBody.country",), ["country"]),
    ("flat", "awarding_body"): ((f"{ACH}.awardingBody", "issuer"),
                                ["country", "awarding_body"]),
    ("flat", "issued"): (("issuanceDate",), ["issued"]),
    ("flat", "learning_outcomes"): ((f"{ACH}.learningOutcomes",), ["learning_outcomes"]),
    ("flat", "workload"): ((f"{ACH}.ects", f"{ACH}.workloadHours"), ["workload"]),
    ("flat", "level"): ((f"{ACH}.eqfLevel",), ["level"]),
    ("flat", "assessment_type"): ((f"{ACH}.assessmentType",), ["assessment_type"]),
    ("flat", "participation_form"): ((f"{ACH}.formOfParticipation",), ["participation_form"]),
    ("flat", "quality_assurance"): ((f"{ACH}.qualityAssurance",), ["quality_assurance"]),
}


@pytest.mark.parametrize(("shape", "element"), sorted(REMOVALS))
@pytest.mark.parametrize("course", ["ev-hv-safety", "adas-calibration"])
def test_missing_element_is_named(course: str, shape: str, element: str) -> None:
    paths, expected = REMOVALS[(shape, element)]
    credential = without(load(f"{course}-{shape}"), *paths)

    required = evaluate_microcredential(credential, required=True)
    assert required.summary["missing"] == expected
    assert required.summary["complete"] is False
    assert required.check.status == "failed"
    assert required.check.code == f"microcredential.missing.{expected[0]}"
    assert required.check.details["missing"] == expected
    assert [p["code"] for p in required.check.details["problems"]] == [
        f"microcredential.missing.{e}" for e in expected]

    optional = evaluate_microcredential(credential, required=False)
    assert optional.check.status == "passed"
    assert optional.check.code == "microcredential.incomplete"
    assert optional.summary["missing"] == expected


def test_ob3_outcomes_and_level_come_from_alignments() -> None:
    credential = load("ev-hv-safety-ob3")
    alignment = credential["credentialSubject"]["achievement"]["alignment"]
    credential["credentialSubject"]["achievement"]["alignment"] = [
        a for a in alignment if a["targetFramework"] != "ESCO"]
    assert evaluate_microcredential(credential, required=True).summary["missing"] == [
        "learning_outcomes"]
    credential["credentialSubject"]["achievement"]["alignment"] = [
        a for a in alignment if a["targetFramework"] == "ESCO"]
    assert evaluate_microcredential(credential, required=True).summary["missing"] == ["level"]


def test_every_mandatory_element_has_a_removal_in_elm_and_flat() -> None:
    for shape in ("elm", "flat"):
        assert {e for s, e in REMOVALS if s == shape} == set(MANDATORY_ELEMENTS)


def test_several_missing_elements_are_listed_in_annex_order() -> None:
    credential = without(load("ev-hv-safety-flat"), f"{ACH}.qualityAssurance",
                         f"{ACH}.eqfLevel", f"{ACH}.title")
    result = evaluate_microcredential(credential, required=True)
    assert result.summary["missing"] == ["title", "level", "quality_assurance"]
    assert result.check.code == "microcredential.missing.title"
    assert result.check.message == ("not a complete EU micro-credential: missing title, level, "
                                    "quality assurance")


def test_issuer_does_not_stand_in_for_the_awarding_body_in_elm() -> None:
    credential = without(load("ev-hv-safety-elm"), f"{CLAIM}.awardedBy", f"{ASSESS}.awardedBy")
    summary = evaluate_microcredential(credential, required=False).summary
    assert summary["awarding_bodies"] == []
    assert summary["issuer"]["name"] == "Centro de Formación Profesional Navarra Motor (DEMO)"
    assert summary["countries"] == ["ES"]  # from the issuer


def test_flat_issuer_did_stands_in_for_the_awarding_body_with_a_warning() -> None:
    credential = without(load("ev-hv-safety-flat"), f"{ACH}.awardingBody")
    summary = evaluate_microcredential(credential, required=True).summary
    assert summary["awarding_bodies"] == [{"id": "did:example:navarra-ev", "name": None,
                                           "country": None, "country_alpha3": None,
                                           "homepage": None}]
    assert summary["missing"] == ["country"]
    assert "microcredential.warning.awarding_body_is_issuer" in [
        w["code"] for w in summary["warnings"]]
