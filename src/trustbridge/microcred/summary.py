"""The normalised micro-credential summary: the same fields whatever shape the issuer used.

These are result models (frozen); ``MicroCredentialSummary.model_dump(mode="json")`` is the
``summary`` dict the report carries, so HR systems get structured, comparable data.
``annex.assess`` builds that dict directly (the field order and types here are its
contract) and ``MicrocredentialResult.model`` validates it only when asked.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

Shape = Literal["elm", "open_badges_3", "flat"]

PROFILE = "EU Council Recommendation of 16 June 2022 on micro-credentials (2022/C 243/02), Annex I"


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True)


class Learner(_Frozen):
    id: str | None = None
    name: str | None = None
    identifiers: int = 0
    """How many further identifiers (ELM ``nationalID``, OB 3.0 ``identifier``) were given."""


class Organisation(_Frozen):
    id: str | None = None
    name: str | None = None
    country: str | None = None
    """ISO 3166-1 alpha-2."""
    country_alpha3: str | None = None
    homepage: str | None = None


class Skill(_Frozen):
    uri: str | None = None
    """A well-formed ESCO URI (``http://data.europa.eu/esco/skill/…``), else ``None``."""
    label: str | None = None
    kind: str | None = None
    """``skill``, ``occupation`` or ``isco`` for ESCO; ``other`` for other frameworks."""
    source_id: str | None = None
    """The identifier as written, when it is not an ESCO URI (e.g. a DigComp concept)."""


class LearningOutcome(_Frozen):
    text: str | None = None
    skills: list[Skill] = Field(default_factory=list)


class Workload(_Frozen):
    ects: float | None = None
    hours: float | None = None
    duration: str | None = None
    """ISO 8601 ``volumeOfLearning`` as written."""
    other_credits: float | None = None
    other_credit_framework: str | None = None


class Level(_Frozen):
    eqf: int | None = None
    qf_ehea: str | None = None
    """QF-EHEA cycle: ``short``, ``first``, ``second`` or ``third``."""
    nqf: str | None = None
    """National framework level, as labelled (shown, not validated)."""


class QualityAssurance(_Frozen):
    type: str | None = None
    reference: str | None = None
    body: str | None = None


class Supervision(_Frozen):
    label: str | None = None
    category: str | None = None
    """Annex I category: ``unsupervised_without_id_verification``,
    ``supervised_without_id_verification``, ``supervised_online_with_id_verification``,
    ``supervised_onsite_with_id_verification``, ``supervised_with_id_verification`` (online
    or onsite not said), or ``None`` when the label fits none."""


class Problem(_Frozen):
    code: str
    element: str
    message: str


class Warning_(_Frozen):
    code: str
    message: str


class MicroCredentialSummary(_Frozen):
    """Annex I elements read from one credential, plus what is missing or malformed."""

    profile: str = PROFILE
    shape: Shape
    complete: bool
    """Every mandatory element is present and well-formed."""
    title: str | None = None
    description: str | None = None
    learner: Learner = Field(default_factory=Learner)
    awarding_bodies: list[Organisation] = Field(default_factory=list)
    issuer: Organisation | None = None
    countries: list[str] = Field(default_factory=list)
    issued: str | None = None
    learning_outcomes: list[LearningOutcome] = Field(default_factory=list)
    workload: Workload = Field(default_factory=Workload)
    level: Level = Field(default_factory=Level)
    assessment_type: str | None = None
    participation_form: str | None = None
    learning_setting: str | None = None
    quality_assurance: list[QualityAssurance] = Field(default_factory=list)
    prerequisites: list[str] = Field(default_factory=list)
    supervision: Supervision | None = None
    grade: str | None = None
    stackability: list[str] = Field(default_factory=list)
    further_information: list[str] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    """Mandatory Annex I elements not found (names as in ``MANDATORY_ELEMENTS``)."""
    invalid: list[Problem] = Field(default_factory=list)
    warnings: list[Warning_] = Field(default_factory=list)


__all__ = [
    "PROFILE",
    "Learner",
    "LearningOutcome",
    "Level",
    "MicroCredentialSummary",
    "Organisation",
    "Problem",
    "QualityAssurance",
    "Shape",
    "Skill",
    "Supervision",
    "Warning_",
    "Workload",
]
