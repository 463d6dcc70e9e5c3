"""Each supported shape is read out to the same normalised summary."""

from __future__ import annotations

from typing import Any

import pytest

from tests.microcred.support import OURS, SHAPES, load
from trustbridge.microcred import MANDATORY_ELEMENTS, evaluate_microcredential

EXPECTED: dict[str, dict[str, Any]] = {
    "ev-hv-safety": {
        "title": "EV high-voltage safety: work on de-energised systems",
        "countries": ["ES"], "eqf": 4, "ects": 3.0, "hours": 75.0, "outcomes": 3,
        "assessment_type": "Practical examination on a training vehicle",
        "participation_form": "Blended",
        "qa_body": "Servicio Navarro de Empleo (DEMO)",
        "supervision": "supervised_onsite_with_id_verification", "grade": "Pass",
        "issued": "2025-06-01T09:00:00+00:00",
        "first_skill": "http://data.europa.eu/esco/skill/3c2b6e7c-9d61-4c2b-9a5e-1f0c8e2d4a11",
    },
    "adas-calibration": {
        "title": "ADAS sensor calibration after windscreen and bumper repair",
        "countries": ["FI"], "eqf": 5, "ects": 2.0, "hours": 50.0, "outcomes": 2,
        "assessment_type": "Practical assessment with a calibration report",
        "participation_form": "In person", "qa_body": "Opetushallitus (DEMO)",
        "supervision": "supervised_online_with_id_verification", "grade": "4/5",
        "issued": "2025-09-15T14:30:00+03:00",
        "first_skill": "http://data.europa.eu/esco/skill/b1c2d3e4-f5a6-4b7c-8d9e-0f1a2b3c4d55",
    },
}
SHAPE_NAMES = {"elm": "elm", "ob3": "open_badges_3", "flat": "flat"}


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("course", OURS)
def test_every_annex_element_is_read(course: str, shape: str) -> None:
    result = evaluate_microcredential(load(f"{course}-{shape}"), required=True)
    want, got = EXPECTED[course], result.summary
    assert result.check.status == "passed", result.check
    assert result.check.code == "microcredential.ok"
    assert result.check.check == "microcredential"
    assert got["shape"] == SHAPE_NAMES[shape]
    assert got["complete"] is True and got["missing"] == [] and got["invalid"] == []
    assert got["title"] == want["title"]
    assert got["learner"]["id"] == "did:example:learner-ane"
    assert got["countries"] == want["countries"]
    assert got["awarding_bodies"][0]["country_alpha3"] in {"ESP", "FIN"}
    assert got["issued"] == want["issued"]
    assert len(got["learning_outcomes"]) == want["outcomes"]
    first = got["learning_outcomes"][0]
    assert first["text"]
    assert first["skills"][0]["uri"] == want["first_skill"]
    assert first["skills"][0]["kind"] == "skill" and first["skills"][0]["label"]
    assert got["workload"]["ects"] == want["ects"]
    assert got["workload"]["hours"] == want["hours"]
    assert got["level"]["eqf"] == want["eqf"]
    assert got["assessment_type"] == want["assessment_type"]
    assert got["participation_form"] == want["participation_form"]
    assert [q["body"] for q in got["quality_assurance"]] == [want["qa_body"]]
    assert got["supervision"]["category"] == want["supervision"]
    assert got["grade"] == want["grade"]
    assert got["prerequisites"] and got["stackability"]


def test_ob3_credit_unit_is_flagged_as_assumed() -> None:
    result = evaluate_microcredential(load("ev-hv-safety-ob3"), required=True)
    codes = [w["code"] for w in result.summary["warnings"]]
    assert codes == ["microcredential.warning.credit_unit_assumed"]
    assert result.check.details["warnings"] == result.summary["warnings"]


def test_university_micro_credential_with_qf_ehea_cycle() -> None:
    result = evaluate_microcredential(load("uni-battery-qfehea-elm"), required=True)
    got = result.summary
    assert result.check.status == "passed", result.check
    assert got["level"] == {"eqf": 6, "qf_ehea": "first", "nqf": None}
    assert got["countries"] == ["PT"]
    assert got["workload"] == {"ects": 6.0, "hours": 160.0, "duration": "PT160H",
                               "other_credits": None, "other_credit_framework": None}
    assert got["warnings"] == []


def test_elm_reads_optional_elements_from_their_elm_properties() -> None:
    got = evaluate_microcredential(load("ev-hv-safety-elm"), required=False).summary
    assert got["prerequisites"] == ["Basic automotive electrics (EQF 3) or equivalent "
                                    "experience"]
    assert got["stackability"] == ["part of: Counts towards the Navarre EV technician "
                                   "certificate of professionalism"]
    assert got["further_information"] == ["https://navarra-ev.example/courses/1"]
    assert got["learning_setting"] == "non-formal learning"
    assert got["quality_assurance"] == [{
        "type": "External quality assurance: accredited vocational training centre",
        "reference": "urn:epass:accreditation:navarra-vet",
        "body": "Servicio Navarro de Empleo (DEMO)"}]


def test_summary_lists_every_mandatory_element_key() -> None:
    got = evaluate_microcredential(load("ev-hv-safety-elm"), required=True).summary
    keys = {"learner": "learner", "title": "title", "country": "countries",
            "awarding_body": "awarding_bodies", "issued": "issued",
            "learning_outcomes": "learning_outcomes", "workload": "workload",
            "level": "level", "assessment_type": "assessment_type",
            "participation_form": "participation_form",
            "quality_assurance": "quality_assurance"}
    assert set(keys) == set(MANDATORY_ELEMENTS)
    for element, key in keys.items():
        assert got[key], element


def test_the_same_course_reads_the_same_in_every_shape() -> None:
    fields = ("title", "countries", "issued", "level", "assessment_type",
              "participation_form", "grade")
    summaries = [evaluate_microcredential(load(f"ev-hv-safety-{s}"), required=True).summary
                 for s in SHAPES]
    for field in fields:
        assert len({repr(s[field]) for s in summaries}) == 1, field
    assert len({s["workload"]["ects"] for s in summaries}) == 1
    assert len({tuple(sk["uri"] for o in s["learning_outcomes"] for sk in o["skills"])
                for s in summaries}) == 1


def test_ob3_qf_ehea_alignment_and_elm_parts() -> None:
    credential = load("ev-hv-safety-ob3")
    credential["credentialSubject"]["achievement"]["alignment"].append(
        {"type": ["Alignment"], "targetName": "Short cycle", "targetFramework": "QF-EHEA",
         "targetUrl": "https://example.org/qf-ehea"})
    level = evaluate_microcredential(credential, required=True).summary["level"]
    assert level["qf_ehea"] == "short" and level["eqf"] == 4
    credential = load("uni-battery-qfehea-elm")
    spec = credential["credentialSubject"]["hasClaim"]["specifiedBy"]
    spec["hasPart"] = [{"title": {"en": "Lab safety"}}]
    spec["isPartialQualification"] = True
    assert evaluate_microcredential(credential, required=True).summary["stackability"] == [
        "part of: Recognised as 6 ECTS in the BSc in Electrical Engineering",
        "includes: Lab safety", "partial qualification"]
