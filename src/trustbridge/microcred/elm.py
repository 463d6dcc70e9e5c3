"""The European Learning Model (ELM v3, Europass EDC) shape, and its ELM 2 / EBSI ancestor.

Paths follow the EDC application profile (``http://data.europa.eu/snb/model/ap/edc-generic-full``)
as used by the Commission's Annex I sample (fixtures/microcred/elm-annex1-sample.json):

    credentialSubject (Person: fullName, givenName, familyName, nationalID)
      hasClaim (LearningAchievement: title, description, additionalNote)
        awardedBy (AwardingProcess: awardingDate)
          awardingBody (Organisation: legalName, location.address.countryCode, accreditation)
        specifiedBy (Qualification / LearningAchievementSpecification: title, learningOutcome
          [title, relatedESCOSkill, relatedSkill], creditPoint [framework, point],
          volumeOfLearning, eqfLevel, nqfLevel, mode, learningSetting, entryRequirement,
          accreditation, isPartialQualification, isPartOf, homepage, supplementaryDocument)
        provenBy (LearningAssessment: grade, idVerification,
          specifiedBy (LearningAssessmentSpecification: dcType, title))
        influencedBy (LearningActivity: specifiedBy.mode)

ELM 2 / EBSI diplomas use ``achieved`` for ``hasClaim``, ``wasAwardedBy`` for ``awardedBy``,
``wasDerivedFrom`` for ``provenBy``, ``learningOutcomes`` and ``ECTSCreditPoints``; those
are read too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trustbridge.microcred.draft import Draft, RawOrganisation
from trustbridge.microcred.flat import apply_properties, first, outcome, quality, texts
from trustbridge.microcred.parties import (
    concept_or_text,
    count_identifiers,
    learner_name,
    read_organisation,
)
from trustbridge.microcred.values import ident, items, label, mapping, mappings, text

CLAIM_KEYS = ("hasClaim", "achieved")
ELM_TYPES = frozenset({"EuropeanDigitalCredential", "EuropassCredential",
                       "europass:EuropeanDigitalCredential", "europass:EuropassCredential",
                       "EuropassMicroCredential"})
ECTS_FRAMEWORK = "http://data.europa.eu/snb/education-credit/6fcec5c5af"


def elm_claim(subject: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """The first learning achievement claimed about the subject."""
    for key in CLAIM_KEYS:
        value = subject.get(key)
        if value is None:
            continue
        claims = mappings(value)
        achievements = [c for c in claims if "LearningAchievement" in items(c.get("type"))]
        if achievements or claims:
            return (achievements or claims)[0]
    return None


def _credits(spec: Mapping[str, Any], claim: Mapping[str, Any], draft: Draft) -> None:
    """``creditPoint`` (ELM 3: framework + point), ``ECTSCreditPoints`` (ELM 2)."""
    for point in mappings(spec.get("creditPoint")) + mappings(claim.get("creditReceived")):
        framework = mapping(point.get("framework"))
        name = (label(framework) or "") if framework is not None else ""
        if (ident(framework) == ECTS_FRAMEWORK or "ECTS" in name.upper()
                or "EUROPEAN CREDIT TRANSFER" in name.upper()):
            draft.ects = point.get("point")
            return
        if draft.other_credits is None:
            draft.other_credits, draft.credit_framework = point.get("point"), name or None
    legacy = first(spec, ("ECTSCreditPoints", "ectsCreditPoints"))
    if legacy is not None:
        draft.ects = legacy.get("value") if isinstance(legacy, dict) else legacy


def _accreditations(*nodes: Mapping[str, Any] | RawOrganisation | None) -> list[Any]:
    found: list[Any] = []
    for node in nodes:
        if isinstance(node, dict):
            found += items(node.get("accreditation"))
    return found


def _stackability(spec: Mapping[str, Any], claim: Mapping[str, Any]) -> list[str]:
    result: list[str] = []
    for node in mappings(spec.get("isPartOf")) + mappings(claim.get("isPartOf")):
        result.append("part of: " + (text(node.get("title")) or ident(node) or "another "
                                     "learning achievement"))
    for node in mappings(spec.get("hasPart")):
        result.append("includes: " + (text(node.get("title")) or ident(node) or "a part"))
    if spec.get("isPartialQualification") is True:
        result.append("partial qualification")
    return result


def _further(spec: Mapping[str, Any], claim: Mapping[str, Any]) -> list[str]:
    result = texts(claim.get("additionalNote")) + texts(spec.get("additionalNote"))
    for key in ("homepage", "supplementaryDocument"):
        for page in items(spec.get(key)):
            url = text(page.get("contentURL")) if isinstance(page, dict) else text(page)
            if url:
                result.append(url)
    return result


def read_elm(credential: Mapping[str, Any], subject: Mapping[str, Any],
             claim: Mapping[str, Any]) -> Draft:
    spec = mapping(claim.get("specifiedBy")) or {}
    draft = Draft(shape="elm", learner_id=ident(subject.get("id")),
                  learner_name=learner_name(subject),
                  learner_identifiers=count_identifiers(subject))
    draft.title = (text(claim.get("title")) or text(spec.get("title"))
                   or text(credential.get("title")))
    draft.description = text(claim.get("description")) or text(spec.get("description"))

    # 1. Awarding bodies: the awarding process of the claim (ELM 3 awardedBy, ELM 2
    #    wasAwardedBy), else the assessment's.
    assessment = mapping(first(claim, ("provenBy", "wasDerivedFrom"))) or {}
    process = (mapping(first(claim, ("awardedBy", "wasAwardedBy")))
               or mapping(assessment.get("awardedBy")) or {})
    body_nodes = mappings(process.get("awardingBody"))
    draft.awarding_bodies = [org for node in body_nodes if (org := read_organisation(node))]
    draft.issuer = read_organisation(credential.get("issuer"))

    # 2. Date of issuing: the credential's, else the award's.
    draft.issued = first(credential, ("issuanceDate", "issued", "validFrom"))
    if draft.issued is None:
        draft.issued = first(process, ("awardingDate",)) or assessment.get("dateIssued")

    # 3. Learning outcomes with ESCO skills; workload; level.
    draft.outcomes = [o for item in items(first(spec, ("learningOutcome", "learningOutcomes")))
                      if (o := outcome(item))]
    _credits(spec, claim, draft)
    draft.duration = spec.get("volumeOfLearning")
    draft.eqf = spec.get("eqfLevel")
    draft.nqf = concept_or_text(spec.get("nqfLevel"))

    # 4. Assessment (type, grade, supervision and ID verification).
    assessment_spec = mapping(assessment.get("specifiedBy")) or {}
    draft.assessment_type = (label(assessment_spec.get("dcType"))
                             or text(assessment_spec.get("title"))
                             or label(assessment.get("dcType")) or text(assessment.get("title")))
    draft.grade = concept_or_text(first(assessment, ("grade", "shortenedGrading")))
    draft.supervision = concept_or_text(assessment.get("idVerification"))

    # 5. Form of participation: the specification's mode, else its learning activity's.
    activity = mapping(claim.get("influencedBy")) or {}
    draft.participation_form = (label(spec.get("mode"))
                                or label((mapping(activity.get("specifiedBy")) or {})
                                         .get("mode")))
    draft.learning_setting = label(spec.get("learningSetting"))

    # 6. Quality assurance: accreditations of the specification and the awarding bodies.
    draft.quality_assurance = [
        q for item in _accreditations(spec, *body_nodes, mapping(credential.get("issuer")))
        if (q := quality(item))]

    # 7. Optional elements.
    draft.prerequisites = texts(spec.get("entryRequirement"))
    draft.stackability = _stackability(spec, claim)
    draft.further_information = _further(spec, claim)

    # Issuers who add flat Annex I properties to the claim or its specification.
    apply_properties(claim, draft)
    apply_properties(spec, draft)
    return draft


__all__ = ["CLAIM_KEYS", "ELM_TYPES", "elm_claim", "read_elm"]
