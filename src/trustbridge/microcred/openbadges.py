"""The 1EdTech Open Badges 3.0 / CLR 2.0 shape (``OpenBadgeCredential``, ``AchievementCredential``).

Native OB 3.0 properties cover part of Annex I: ``achievement.name`` (title),
``issuer``/``achievement.creator`` Profiles (awarding body, ``address.addressCountryCode``),
``awardedDate``/``validFrom`` (issued), ``alignment`` to ESCO (skills) and to EQF/QF-EHEA
(level), ``creditsAvailable`` (workload, unit not stated by OB 3.0: read as ECTS with a
warning), ``credentialSubject.result`` (grade), ``criteria`` (further information). The
rest (assessment type, form of participation, quality assurance …) has no OB 3.0 property;
issuers add them as extension properties on the achievement with the flat names
(``flat.py``), which are read here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from trustbridge.microcred.draft import Draft, RawOutcome, RawSkill
from trustbridge.microcred.flat import apply_properties, first
from trustbridge.microcred.parties import count_identifiers, learner_name, read_organisation
from trustbridge.microcred.values import ident, items, mapping, mappings, text

OB_TYPES = frozenset({"OpenBadgeCredential", "AchievementCredential",
                      "ClrCredential", "EndorsementCredential"})
_EQF_FRAMEWORKS = ("EQF", "EUROPEAN QUALIFICATIONS FRAMEWORK")
_QF_EHEA_FRAMEWORKS = ("QF-EHEA", "QF EHEA", "BOLOGNA")


def ob_achievement(subject: Mapping[str, Any], types: list[Any]) -> Mapping[str, Any] | None:
    """The OB 3.0 achievement: ``credentialSubject.achievement`` with an ``Achievement``
    type, or any achievement of a credential typed as an OB 3.0 credential."""
    node = mapping(subject.get("achievement"))
    if node is None:
        return None
    if "Achievement" in items(node.get("type")) or OB_TYPES.intersection(
            t for t in types if isinstance(t, str)):
        return node
    return None


def _alignments(achievement: Mapping[str, Any], draft: Draft) -> None:
    """ESCO alignments become learning outcomes with skills; EQF/QF-EHEA ones the level."""
    for align in mappings(achievement.get("alignment")):
        url = ident(align.get("targetUrl")) or ""
        name = text(align.get("targetName"))
        framework = (text(align.get("targetFramework")) or "").upper()
        if "data.europa.eu/snb/eqf/" in url or any(f in framework for f in _EQF_FRAMEWORKS):
            if draft.eqf is None:
                draft.eqf = url if "/eqf/" in url else (align.get("targetCode") or name)
            continue
        if any(f in framework for f in _QF_EHEA_FRAMEWORKS):
            if draft.qf_ehea is None:
                draft.qf_ehea = align.get("targetCode") or name
            continue
        esco = "data.europa.eu/esco" in url or "ESCO" in framework
        description = text(align.get("targetDescription"))
        draft.outcomes.append(RawOutcome(
            text=name if not description else f"{name}: {description}" if name else description,
            skills=[RawSkill(uri=url or None, label=name, claimed_esco=esco)] if url else []))


def read_open_badge(credential: Mapping[str, Any], subject: Mapping[str, Any],
                    achievement: Mapping[str, Any]) -> Draft:
    draft = Draft(shape="open_badges_3", learner_id=ident(subject.get("id")),
                  learner_name=learner_name(subject),
                  learner_identifiers=count_identifiers(subject))
    draft.title = text(achievement.get("name")) or text(credential.get("name"))
    draft.description = text(achievement.get("description"))
    issuer = read_organisation(credential.get("issuer"))
    draft.issuer = issuer
    creator = read_organisation(achievement.get("creator"))
    bodies = [b for b in (issuer, creator) if b is not None]
    if len(bodies) == 2 and bodies[0].id and bodies[0].id == bodies[1].id:
        bodies = bodies[:1]
    draft.awarding_bodies = bodies
    draft.issued = first(credential, ("awardedDate", "issuanceDate", "issued", "validFrom"))
    _alignments(achievement, draft)
    credits = first(achievement, ("creditsAvailable",))
    if credits is None:
        credits = first(subject, ("creditsEarned",))
    if credits is not None:
        draft.ects = credits
        draft.notes.append(("credit_unit_assumed", "OB 3.0 creditsAvailable/creditsEarned "
                            "states no unit; read as ECTS credits"))
    results = mappings(subject.get("result"))
    for result in results:
        grade = text(result.get("value")) or ident(result.get("achievedLevel"))
        if grade:
            draft.grade = grade
            break
    criteria = mapping(achievement.get("criteria"))
    if criteria is not None:
        draft.further_information += [t for t in (ident(criteria.get("id")),
                                                  text(criteria.get("narrative"))) if t]
    # Extension properties with the flat names: the rest of Annex I.
    apply_properties(achievement, draft)
    return draft


__all__ = ["OB_TYPES", "ob_achievement", "read_open_badge"]
