"""``CheckResult.passed/failed/skipped/error`` skip pydantic validation for values of the
declared types; the results must be the models the validating constructor builds.

Differential: every result the verifier builds for the EBSI and own vectors (four policies)
is rebuilt with the validating constructor from the same arguments, and the two must
render byte for byte alike, compare equal and carry the same fields set; so must the
whole reports.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from pydantic import ValidationError

from tests.verify.support import (
    EBSI_SCHEMAS,
    StaticRegistry,
    ebsi_vectors,
    input_of,
    make_verifier,
    own_status_lists,
    own_vectors,
)
from trustbridge.model.report import CheckResult, CheckStatus, VerificationReport
from trustbridge.verify.policy import Policy, UnsafeNoOp

Call = tuple[str, CheckStatus, str, str, dict[str, Any]]


def validated(call: Call) -> CheckResult:
    """The construction the classmethods used before: pydantic's validating constructor."""
    check, status, code, message, details = call
    return CheckResult(check=check, status=status, code=code, message=message,
                       details=dict(details))


def assert_same(fast: CheckResult, slow: CheckResult) -> None:
    assert type(fast) is type(slow)
    assert fast.model_dump_json() == slow.model_dump_json()
    assert fast == slow
    assert fast.model_fields_set == slow.model_fields_set
    assert fast.__dict__ == slow.__dict__
    assert [type(v) for v in fast.__dict__.values()] == [type(v) for v in slow.__dict__.values()]
    assert fast.__pydantic_extra__ == slow.__pydantic_extra__
    assert fast.__pydantic_private__ == slow.__pydantic_private__


def revalidated(report: VerificationReport) -> VerificationReport:
    """The report with every check rebuilt by the validating constructor."""
    def again(checks: list[CheckResult]) -> list[CheckResult]:
        return [validated((c.check, c.status, c.code, c.message, c.details)) for c in checks]

    creds = [c.model_copy(update={"checks": again(c.checks)}) for c in report.credentials]
    return report.model_copy(update={"checks": again(report.checks), "credentials": creds})


async def test_every_result_of_the_vectors_matches_the_validating_constructor(
        monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple[Call, CheckResult]] = []
    fast_of = CheckResult._of.__func__  # type: ignore[attr-defined]

    def recording(cls: type[CheckResult], *call: Any) -> CheckResult:
        result: CheckResult = fast_of(cls, *call)
        calls.append((call, result))  # type: ignore[arg-type]
        return result

    monkeypatch.setattr(CheckResult, "_of", classmethod(recording))
    reports: list[VerificationReport] = []
    ebsi = ebsi_vectors()
    ebsi_docs: dict[str, str] = {}
    for v in ebsi:
        ebsi_docs.update(v.get("offline_documents") or {})
        if v.get("status_list"):
            ebsi_docs[v["status_list"]["url"]] = v["status_list"]["jwt"]
    policies = [Policy(), Policy(require_accredited_issuer=False),
                Policy(require_microcredential_profile=True), UnsafeNoOp()]
    for policy in policies:
        verifier = make_verifier(docs=ebsi_docs, schema_dir=EBSI_SCHEMAS)
        for vector in ebsi:
            reports.append(await verifier.verify(input_of(vector, policy)))
        for vector in own_vectors():
            registry = StaticRegistry(vector["accredited"], vector.get("accreditation_expired"))
            verifier = make_verifier(docs=own_status_lists(), registry=registry)
            reports.append(await verifier.verify(input_of(vector, policy)))
    statuses = {result.status for _, result in calls}
    assert statuses == set(CheckStatus), statuses  # all four constructors were exercised
    assert len(calls) > 1000
    for call, result in calls:
        assert_same(result, validated(call))
    for report in reports:
        assert report.model_dump_json() == revalidated(report).model_dump_json()
        assert report.json_bytes() == report.model_dump_json().encode("utf-8")


@pytest.mark.parametrize("details", [
    {},
    {"kid": "did:key:z6Mk#z6Mk", "alg": "ES256", "n": 3, "ok": True, "none": None},
    {"nested": {"list": [1, 2.5, "ü", {"deep": [None]}]}, "tuple": (1, "a")},
    {"when": datetime(2026, 6, 1, tzinfo=UTC), "codes": ["a.b", "c.d"]},
    {"unicode": "Zürich \u2028 \U0001f600", "big": 10**30},
])
def test_each_constructor_matches_the_validating_constructor(details: dict[str, Any]) -> None:
    assert_same(CheckResult.passed("structure", "fine", **details),
                validated(("structure", CheckStatus.PASSED, "structure.ok", "fine", details)))
    assert_same(CheckResult.failed("validity", "credential.expired", "expired", **details),
                validated(("validity", CheckStatus.FAILED, "credential.expired", "expired",
                           details)))
    assert_same(CheckResult.skipped("status", "off", **details),
                validated(("status", CheckStatus.SKIPPED, "status.skipped", "off", details)))
    assert_same(CheckResult.error("status", "status.list_unavailable", "down", **details),
                validated(("status", CheckStatus.ERROR, "status.list_unavailable", "down",
                           details)))


def test_values_of_other_types_are_still_validated() -> None:
    with pytest.raises(ValidationError):
        CheckResult.failed("validity", None, "no code")  # type: ignore[arg-type]
    with pytest.raises(ValidationError):
        CheckResult.passed("structure", 42)  # type: ignore[arg-type]


def test_results_stay_frozen_and_copyable() -> None:
    result = CheckResult.passed("structure", "fine", format="jwt_vc")
    with pytest.raises(ValidationError):
        result.message = "changed"  # type: ignore[misc]
    copy = result.model_copy(update={"details": {"other": 1}})
    assert copy.details == {"other": 1} and result.details == {"format": "jwt_vc"}
    assert copy.model_fields_set == result.model_fields_set
