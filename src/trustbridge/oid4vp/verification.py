"""Verifying presented VPs through the verification pipeline, bound to this session.

The pipeline (``trustbridge.verify``) checks signatures, holder binding to
``nonce`` and ``audience`` (= our ``client_id``), validity, status, schema
and issuer accreditation, and returns a report; this module only supplies the
session's binding values and folds several presentations into one report.
When the pipeline is not installed the outcome is ``indeterminate`` with
``verification.unavailable``: never ``valid``.
"""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from typing import Any, Protocol

from trustbridge.model.report import (
    CheckResult,
    CredentialReport,
    VerificationReport,
    combine,
    verdict_of,
)
from trustbridge.services import Services


class PresentationVerifier(Protocol):
    """Verifies one presentation for one transaction (nonce, audience) under a policy."""

    async def verify_presentation(self, presentation: Any, *, nonce: str, audience: str,
                                  policy: dict[str, Any]) -> VerificationReport: ...


class PipelineVerifier:
    """``trustbridge.verify.service.verifier_of(services).verify(VerificationInput(...))``."""

    def __init__(self, services: Services) -> None:
        self._services = services

    async def verify_presentation(self, presentation: Any, *, nonce: str, audience: str,
                                  policy: dict[str, Any]) -> VerificationReport:
        try:
            service = importlib.import_module("trustbridge.verify.service")
            pipeline = importlib.import_module("trustbridge.verify.pipeline")
            policy_mod = importlib.import_module("trustbridge.verify.policy")
        except ModuleNotFoundError as exc:
            return unavailable(self._services, f"verification pipeline not installed: {exc.name}")
        verifier = service.verifier_of(self._services)
        request = pipeline.VerificationInput(
            presentation=presentation, credential=None, nonce=nonce, audience=audience,
            at=None, policy=policy_mod.Policy(**policy),
        )
        report = await verifier.verify(request)
        if not isinstance(report, VerificationReport):
            report = VerificationReport.model_validate(report, from_attributes=True)
        return report


def unavailable(services: Services, why: str) -> VerificationReport:
    check = CheckResult.error("verification", "verification.unavailable", why)
    return VerificationReport(verdict=verdict_of([check]), checks=[check],
                              checked_at=services.clock())


def merge_reports(reports: Sequence[VerificationReport], protocol_checks: list[CheckResult],
                  checked_at: Any) -> VerificationReport:
    """One report for the whole response: the worst verdict, every check, every credential."""
    checks = list(protocol_checks)
    credentials: list[CredentialReport] = []
    holders = {r.holder for r in reports if r.holder}
    for r in reports:
        checks.extend(r.checks)
        credentials.extend(r.credentials)
    verdict = combine([verdict_of(protocol_checks), *(r.verdict for r in reports)])
    return VerificationReport(
        verdict=verdict, checks=checks, credentials=credentials,
        holder=holders.pop() if len(holders) == 1 else None, checked_at=checked_at,
    )


__all__ = ["PipelineVerifier", "PresentationVerifier", "merge_reports", "unavailable"]
