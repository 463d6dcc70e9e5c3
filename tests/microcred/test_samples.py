"""Third-party samples (fixtures/microcred/SOURCE.md) read as their publishers wrote them."""

from __future__ import annotations

from tests.microcred.support import load
from trustbridge.microcred import evaluate_microcredential


def test_commission_annex1_elm_sample() -> None:
    result = evaluate_microcredential(load("elm-annex1-sample"), required=True)
    got = result.summary
    assert got["shape"] == "elm"
    assert got["title"] == "Digital micro-credential creation"
    assert got["learner"] == {"id": "urn:epass:person:1", "name": "Ana Andromeda",
                              "identifiers": 1}
    assert [b["name"] for b in got["awarding_bodies"]] == ["University of Zed"]
    assert got["countries"] == ["IE"]
    assert got["issued"] == "2023-09-27T13:54:17+02:00"
    assert [o["text"] for o in got["learning_outcomes"]] == [
        "Communication, collaboration and creativity", "Developing digital content"]
    esco = [s["uri"] for o in got["learning_outcomes"] for s in o["skills"] if s["uri"]]
    assert esco == [
        "http://data.europa.eu/esco/skill/ccdf3597-5c80-410f-896d-e1bdfa223de9",
        "http://data.europa.eu/esco/skill/80f308e6-0e09-404a-80cd-ec5f50f6f304",
        "http://data.europa.eu/esco/skill/326809fc-238d-40c2-881e-40042f7f2f0d",
        "http://data.europa.eu/esco/skill/5fd5c985-eaaa-47aa-8314-62359c54505a"]
    digcomp = [s for o in got["learning_outcomes"] for s in o["skills"] if not s["uri"]]
    assert [s["source_id"] for s in digcomp] == ["http://data.europa.eu/snb/dcf/u69o196gu6",
                                                 "http://data.europa.eu/snb/dcf/3ol5wi3605"]
    assert got["workload"]["ects"] == 2.0 and got["workload"]["hours"] == 60.0
    assert got["level"] == {"eqf": 6, "qf_ehea": None, "nqf": "RQF Level 6"}
    assert got["assessment_type"] == "artefact assessment"
    assert got["participation_form"] == "Blended"
    assert got["learning_setting"] == "non-formal learning"
    assert got["supervision"] == {"label": "Unsupervised without ID Verification",
                                  "category": "unsupervised_without_id_verification"}
    assert got["grade"] == "Pass"
    assert got["prerequisites"] == ["The learner needs to have an EDC Online Credential "
                                    "Builder account, that requires an EU Login ID."]
    # The Commission's sample names no quality assurance: the one missing element.
    assert got["missing"] == ["quality_assurance"]
    assert result.check.code == "microcredential.missing.quality_assurance"
    assert got["warnings"] == []


def test_mynextid_edc_sample() -> None:
    result = evaluate_microcredential(load("mynextid-edc-mc-example"), required=False)
    got = result.summary
    assert got["title"] == "Title of your learning achievement"
    assert [(b["name"], b["country"]) for b in got["awarding_bodies"]] == [("NETIS d.o.o.", "SI")]
    assert got["issuer"]["name"] == "Velocert OÜ" and got["issuer"]["country"] == "EE"
    assert got["countries"] == ["SI"]  # the awarding body's, not the signing platform's
    assert got["workload"]["ects"] == 5.0 and got["workload"]["hours"] == 45.0
    assert got["supervision"]["category"] == "supervised_with_id_verification"
    assert got["grade"] == "19"
    assert got["missing"] == ["quality_assurance"]
    codes = [w["code"] for w in got["warnings"]]
    assert codes.count("microcredential.warning.skill_not_esco_uri") == 4
    assert "microcredential.warning.workload_inconsistent" in codes
    assert result.check.status == "passed" and result.check.code == "microcredential.incomplete"


def test_mynextid_open_badge_sample() -> None:
    got = evaluate_microcredential(load("mynextid-ob3-mc-example"), required=True).summary
    assert got["shape"] == "open_badges_3"
    assert got["title"] == "Data Science Fundamentals"
    assert [b["name"] for b in got["awarding_bodies"]] == ["NETIS d.o.o."]
    assert got["issued"] == "2026-01-12T07:04:19+00:00"
    assert [s["uri"] for o in got["learning_outcomes"] for s in o["skills"]] == [
        "http://data.europa.eu/esco/skill/f10142ce-d522-49c3-9fd1-054fb63529d4",
        "http://data.europa.eu/esco/skill/81a2db2c-7e55-44d0-9cd9-74c25147d7cd"]
    assert got["workload"]["ects"] == 5.0
    assert got["missing"] == ["country", "level", "assessment_type", "participation_form",
                              "quality_assurance"]
