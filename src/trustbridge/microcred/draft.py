"""What a shape reader found, still raw: the meeting point of the readers and ``annex``.

Readers (``elm``, ``openbadges``, ``flat``) only locate values; they never judge them.
``annex.assess`` validates a ``Draft`` into a summary (the JSON form of
``MicroCredentialSummary``), so every shape is held to the same rules.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from trustbridge.microcred.summary import Shape


@dataclass
class RawOrganisation:
    id: str | None = None
    name: str | None = None
    country: Any = None
    homepage: str | None = None


@dataclass
class RawSkill:
    uri: str | None = None
    label: str | None = None
    claimed_esco: bool = False
    """Given as an ESCO skill (ELM ``relatedESCOSkill``, an ESCO alignment): its id must be
    an ESCO URI."""


@dataclass
class RawOutcome:
    text: str | None = None
    skills: list[RawSkill] = field(default_factory=list)


@dataclass
class RawQualityAssurance:
    type: str | None = None
    reference: str | None = None
    body: str | None = None


@dataclass
class Draft:
    """Raw Annex I values; ``None``/empty means "not found in this shape"."""

    shape: Shape
    learner_id: str | None = None
    learner_name: str | None = None
    learner_identifiers: int = 0
    title: str | None = None
    description: str | None = None
    awarding_bodies: list[RawOrganisation] = field(default_factory=list)
    issuer: RawOrganisation | None = None
    issued: Any = None
    outcomes: list[RawOutcome] = field(default_factory=list)
    ects: Any = None
    credit_framework: str | None = None
    """Label of a non-ECTS credit framework (then ``other_credits`` holds the points)."""
    other_credits: Any = None
    hours: Any = None
    duration: Any = None
    eqf: Any = None
    qf_ehea: Any = None
    nqf: str | None = None
    assessment_type: str | None = None
    participation_form: str | None = None
    learning_setting: str | None = None
    quality_assurance: list[RawQualityAssurance] = field(default_factory=list)
    prerequisites: list[str] = field(default_factory=list)
    supervision: str | None = None
    grade: str | None = None
    stackability: list[str] = field(default_factory=list)
    further_information: list[str] = field(default_factory=list)
    notes: list[tuple[str, str]] = field(default_factory=list)
    """Warnings the reader wants reported: ``(code suffix, message)``."""


__all__ = ["Draft", "RawOrganisation", "RawOutcome", "RawQualityAssurance", "RawSkill"]
