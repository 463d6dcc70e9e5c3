"""Facts the checks judge, gathered by the pipeline before any check runs (pure data).

A fact is either present or ``Unavailable`` (timeout, fetch failure, missing
component). Checks turn ``Unavailable`` into an ``error`` result, so a missing
fact can make a verdict ``indeterminate`` but never ``valid``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from trustbridge.formats.base import SchemaRef, StatusEntry
from trustbridge.model.report import CheckResult
from trustbridge.status.statuslist import StatusList
from trustbridge.status.token_status_list import TokenStatusList


@dataclass(frozen=True)
class Unavailable:
    """A fact that could not be obtained; ``code`` becomes the check's error code."""

    code: str
    message: str
    details: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class StatusFact:
    """One ``credentialStatus`` entry with its decoded list, or why there is none.

    ``problem`` is a ready ``CheckResult`` when the list itself failed (bad signature
    -> ``failed``; not fetchable -> ``error``).
    """

    entry: StatusEntry
    status_list: StatusList | TokenStatusList | None = None
    problem: CheckResult | None = None


@dataclass(frozen=True)
class SchemaFact:
    """One ``credentialSchema`` with the schema document and the ``$ref`` registry to use."""

    ref: SchemaRef
    schema: Mapping[str, Any] | None = None
    registry: Any = None
    unavailable: Unavailable | None = None


@dataclass(frozen=True)
class TrustFact:
    """The trust registry's answer (``Accredited`` | ``NotAccredited``) or why there is none."""

    answer: Any = None
    unavailable: Unavailable | None = None


@dataclass(frozen=True)
class CredentialFacts:
    """Everything fetched for one credential."""

    status: tuple[StatusFact, ...] = ()
    schemas: tuple[SchemaFact, ...] = ()
    trust: TrustFact | None = None
    status_ttl_seconds: float | None = None


__all__ = ["CredentialFacts", "SchemaFact", "StatusFact", "TrustFact", "Unavailable"]
