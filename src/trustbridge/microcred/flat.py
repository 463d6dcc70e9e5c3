"""The "flat" shape: Annex I elements as plain properties of an achievement object.

EBSI-style and home-grown micro-credentials put ``title``, ``ects``, ``eqfLevel``,
``learningOutcomes`` … directly on ``credentialSubject.achievement`` (our demo
credentials), ``credentialSubject.microCredential`` or on the subject itself. The same
property names are read as extensions on OB 3.0 achievements (``openbadges``), so an
issuer using OB 3.0 can still carry every Annex I element. The accepted names are listed
in docs/microcredentials.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trustbridge.microcred.draft import Draft, RawOutcome, RawQualityAssurance, RawSkill
from trustbridge.microcred.parties import (
    concept_or_text,
    count_identifiers,
    learner_name,
    read_organisation,
)
from trustbridge.microcred.values import ident, items, label, mapping, text

ACHIEVEMENT_KEYS = ("microCredential", "microcredential", "achievement", "learningAchievement")
"""Where on ``credentialSubject`` a flat achievement may sit (first found wins)."""

TITLE = ("title", "name")
OUTCOMES = ("learningOutcomes", "learningOutcome", "outcomes")
SKILLS = ("escoSkills", "skills", "relatedESCOSkill")
ECTS = ("ects", "ECTS", "ectsCredits", "ECTSCreditPoints", "ectsCreditPoints", "creditPoints")
HOURS = ("workloadHours", "notionalWorkloadHours", "hours", "notionalWorkload")
DURATION = ("volumeOfLearning",)
EQF = ("eqfLevel", "EQFLevel", "eqf")
QF_EHEA = ("qfEheaLevel", "qfEhea", "qfEheaCycle")
NQF = ("nqfLevel",)
ASSESSMENT = ("assessmentType", "typeOfAssessment", "assessment")
PARTICIPATION = ("formOfParticipation", "participationForm", "learningMode", "mode")
QUALITY = ("qualityAssurance", "qualityAssuranceType", "accreditation")
AWARDING = ("awardingBody", "awardingBodies", "provider")
PREREQUISITES = ("prerequisites", "entryRequirements", "entryRequirement")
SUPERVISION = ("supervisionAndIdentityVerification", "supervision", "idVerification",
               "identityVerification")
GRADE = ("grade", "gradeAchieved")
STACKABILITY = ("integrationStackability", "stackability", "stackable")
FURTHER = ("furtherInformation", "additionalInformation", "moreInformation")
ISSUED = ("dateIssued", "awardingDate", "issued")
DESCRIPTION = ("description",)
WORKLOAD = ("workload",)
LEVEL = ("level",)
SETTING = ("learningSetting",)
_RANK: dict[str, tuple[tuple[str, ...], int]] = {
    key: (keys, rank)
    for keys in (TITLE, DESCRIPTION, OUTCOMES, SKILLS, WORKLOAD, ECTS, HOURS, DURATION, LEVEL,
                 EQF, QF_EHEA, NQF, ASSESSMENT, PARTICIPATION, SETTING, QUALITY, AWARDING,
                 PREREQUISITES, SUPERVISION, GRADE, STACKABILITY, FURTHER, ISSUED)
    for rank, key in enumerate(keys)}
"""Each flat property name: its group (no name is in two) and its place in the group."""


def first(node: Mapping[str, Any], keys: tuple[str, ...]) -> Any:
    """The first of ``keys`` present (not ``None``) on ``node``."""
    for key in keys:
        value = node.get(key)
        if value is not None:
            return value
    return None


def _properties(node: Mapping[str, Any]) -> dict[tuple[str, ...], Any]:
    """``first(node, keys)`` for every flat property group at once, keyed by the group:
    one pass over the node's keys instead of a lookup of each of ~60 names."""
    found: dict[tuple[str, ...], Any] = {}
    ranks: dict[tuple[str, ...], int] = {}
    for key, value in node.items():
        hit = _RANK.get(key)
        if hit is not None and value is not None:
            keys, rank = hit
            if keys not in found or rank < ranks[keys]:
                found[keys] = value
                ranks[keys] = rank
    return found


def outcome(value: Any) -> RawOutcome | None:
    """One learning outcome: a string, or ``{title|text|description, skills…}``."""
    if isinstance(value, str):
        return RawOutcome(text=text(value))
    node = mapping(value)
    if node is None:
        return None
    statement = text(first(node, ("title", "text", "description", "name", "noteLiteral")))
    skills = [s for item in items(first(node, SKILLS)) if (s := skill(item, esco=True))]
    skills += [s for item in items(node.get("relatedSkill")) if (s := skill(item, esco=False))]
    return RawOutcome(text=statement, skills=skills) if statement or skills else None


def skill(value: Any, *, esco: bool) -> RawSkill | None:
    """A skill: an ESCO URI string, or a concept ``{id, prefLabel}`` / ``{uri, label}``."""
    if isinstance(value, str):
        return RawSkill(uri=ident(value), claimed_esco=esco)
    node = mapping(value)
    if node is None:
        return None
    uri = ident(node.get("id")) or ident(node.get("uri"))
    scheme = ident(node.get("inScheme")) or ""
    claimed = esco or "data.europa.eu/esco" in scheme
    return RawSkill(uri=uri, label=label({k: v for k, v in node.items() if k != "id"}),
                    claimed_esco=claimed)


def quality(value: Any) -> RawQualityAssurance | None:
    """Quality assurance: a string (its type) or ``{type, reference|id, body}``, or an ELM
    ``Accreditation`` (``dcType``, ``title``, ``accreditingAgent``)."""
    if isinstance(value, str):
        return RawQualityAssurance(type=text(value))
    node = mapping(value)
    if node is None:
        return None
    kind = concept_or_text(first(node, ("dcType", "qualityAssuranceType", "title", "name",
                                        "description")))
    if kind is None and isinstance(node.get("type"), str) and node["type"] != "Accreditation":
        kind = text(node["type"])  # flat {"type": "external accreditation", …}
    agent = read_organisation(first(node, ("accreditingAgent", "body", "organisation")))
    reference = ident(first(node, ("reference", "url", "homepage", "report", "id")))
    if kind is None and reference is None and agent is None:
        return None
    return RawQualityAssurance(type=kind, reference=reference,
                               body=(agent.name or agent.id) if agent else None)


def texts(value: Any) -> list[str]:
    return [t for item in items(value) if (t := concept_or_text(item))]


def apply_properties(node: Mapping[str, Any], draft: Draft) -> None:
    """Fill the draft's still-empty elements from flat Annex I properties on ``node``.

    Only the properties the node has are read: a reader of an absent value gives
    ``None`` or ``[]``, which is what an empty draft element already holds (readers never
    give ``""``), and most nodes carry few of the ~60 names."""
    got = _properties(node)
    if TITLE in got and not draft.title:
        draft.title = text(got[TITLE])
    if DESCRIPTION in got and not draft.description:
        draft.description = text(got[DESCRIPTION])
    if (OUTCOMES in got or SKILLS in got) and not draft.outcomes:
        draft.outcomes = [o for item in items(got.get(OUTCOMES)) if (o := outcome(item))]
        loose = [s for item in items(got.get(SKILLS)) if (s := skill(item, esco=True))]
        if loose:
            draft.outcomes.append(RawOutcome(skills=loose))
    raw_workload = got.get(WORKLOAD)
    workload = mapping(raw_workload)
    if draft.ects is None:
        draft.ects = got.get(ECTS)
        if draft.ects is None and workload is not None:
            draft.ects = first(workload, ECTS)
    if draft.hours is None:
        raw_hours = got.get(HOURS)
        if raw_hours is None and workload is not None:
            raw_hours = first(workload, HOURS)
        if raw_hours is None and isinstance(raw_workload, int | float | str):
            raw_hours = raw_workload
        draft.hours = raw_hours
    if draft.duration is None:
        draft.duration = got.get(DURATION)
    level = mapping(got.get(LEVEL))
    if draft.eqf is None:
        draft.eqf = got.get(EQF) if level is None else first(level, (*EQF, "EQF"))
    if draft.qf_ehea is None:
        draft.qf_ehea = got.get(QF_EHEA) if level is None else first(
            level, (*QF_EHEA, "qf_ehea", "QF-EHEA"))
    if NQF in got and not draft.nqf:
        draft.nqf = concept_or_text(got[NQF])
    assessment = got.get(ASSESSMENT)
    if isinstance(assessment, dict) and not draft.assessment_type:
        draft.assessment_type = concept_or_text(first(assessment, ("type", "dcType", "title")))
        draft.grade = draft.grade or concept_or_text(assessment.get("grade"))
        draft.supervision = draft.supervision or concept_or_text(first(assessment, SUPERVISION))
    elif assessment is not None and not draft.assessment_type:
        draft.assessment_type = concept_or_text(assessment)
    if PARTICIPATION in got and not draft.participation_form:
        draft.participation_form = concept_or_text(got[PARTICIPATION])
    if SETTING in got and not draft.learning_setting:
        draft.learning_setting = concept_or_text(got[SETTING])
    if QUALITY in got and not draft.quality_assurance:
        draft.quality_assurance = [q for item in items(got[QUALITY]) if (q := quality(item))]
    if AWARDING in got and not draft.awarding_bodies:
        draft.awarding_bodies = [org for item in items(got[AWARDING])
                                 if (org := read_organisation(item))]
    if PREREQUISITES in got and not draft.prerequisites:
        draft.prerequisites = texts(got[PREREQUISITES])
    if SUPERVISION in got and not draft.supervision:
        draft.supervision = concept_or_text(got[SUPERVISION])
    if GRADE in got and not draft.grade:
        draft.grade = concept_or_text(got[GRADE])
    if STACKABILITY in got and not draft.stackability:
        stack = got[STACKABILITY]
        if isinstance(stack, bool):
            stack = "stackable" if stack else "not stackable"
        draft.stackability = texts(stack)
    if FURTHER in got and not draft.further_information:
        draft.further_information = texts(got[FURTHER])
    if draft.issued is None:
        draft.issued = got.get(ISSUED)


def flat_achievement(subject: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The flat achievement object, or the subject itself when it carries the elements."""
    for key in ACHIEVEMENT_KEYS:
        node = mapping(subject.get(key))
        if node is not None:
            return node
    if first(subject, TITLE) is not None and any(
            first(subject, keys) is not None for keys in (ECTS, EQF, OUTCOMES, HOURS)):
        return subject
    return None


def read_flat(credential: Mapping[str, Any], subject: Mapping[str, Any],
              achievement: Mapping[str, Any]) -> Draft:
    draft = Draft(shape="flat", learner_id=ident(subject.get("id")),
                  learner_name=learner_name(subject),
                  learner_identifiers=count_identifiers(subject))
    apply_properties(achievement, draft)
    # EBSI VerifiableDiploma: learningAchievement, learningSpecification and
    # awardingOpportunity are siblings on the subject.
    specification = mapping(subject.get("learningSpecification"))
    if specification is not None:
        apply_properties(specification, draft)
    opportunity = mapping(subject.get("awardingOpportunity"))
    if opportunity is not None and not draft.awarding_bodies:
        for item in items(opportunity.get("awardingBody")):
            body = read_organisation(item)
            if body is not None:
                if body.country is None:
                    body.country = opportunity.get("location")
                draft.awarding_bodies.append(body)
    draft.issuer = read_organisation(credential.get("issuer"))
    if draft.issued is None:
        draft.issued = first(credential, ("issuanceDate", "issued", "validFrom"))
    return draft


__all__ = ["ACHIEVEMENT_KEYS", "apply_properties", "first", "flat_achievement", "outcome",
           "quality", "read_flat", "skill", "texts"]
