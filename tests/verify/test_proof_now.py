"""Proofs checked on the spot (key already in memory) report exactly what the awaited check
reports: every EBSI and own vector verified twice by one verifier, the first time with a cold
DID memo (awaited path), the second with a warm one (``*_proof_now``), gives the same report."""

from __future__ import annotations

from typing import Any

import pytest

from tests.verify.support import (
    EBSI_SCHEMAS,
    StaticRegistry,
    ebsi_documents,
    ebsi_vectors,
    input_of,
    make_verifier,
    own_status_lists,
    own_vectors,
)
from trustbridge.formats.jwt_vc import JwtVcFormat
from trustbridge.verify.policy import Policy

EBSI = ebsi_vectors()
OWN = own_vectors()


def _comparable(report: Any) -> dict[str, Any]:
    data: dict[str, Any] = report.model_dump(mode="json")
    data.pop("checked_at")
    return data


async def _twice(verifier: Any, inp: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    memo = verifier.resolver._pure_methods
    memo.clear()
    cold = _comparable(await verifier.verify(inp))
    warm = _comparable(await verifier.verify(inp))
    return cold, warm


@pytest.mark.parametrize("vector", EBSI, ids=[v["name"] for v in EBSI])
async def test_ebsi_vector_same_report_cold_and_warm(vector: dict[str, Any]) -> None:
    verifier = make_verifier(docs=ebsi_documents(EBSI), schema_dir=EBSI_SCHEMAS)
    cold, warm = await _twice(verifier, input_of(vector, Policy(require_accredited_issuer=False)))
    assert warm == cold


@pytest.mark.parametrize("vector", OWN, ids=[v["name"] for v in OWN])
async def test_own_vector_same_report_cold_and_warm(vector: dict[str, Any]) -> None:
    registry = StaticRegistry(vector["accredited"], vector.get("accreditation_expired"))
    verifier = make_verifier(docs=own_status_lists(), registry=registry)
    cold, warm = await _twice(verifier, input_of(vector))
    assert warm == cold


async def test_the_warm_run_takes_the_immediate_path() -> None:
    # Otherwise the comparisons above would compare the awaited path with itself.
    vector = next(v for v in EBSI if v["kind"] == "vp" and v["expected"]["valid"]
                  and v["input"].count(".") == 2)
    verifier = make_verifier(docs=ebsi_documents(EBSI), schema_dir=EBSI_SCHEMAS)
    fmt = next(f for f in verifier.formats if isinstance(f, JwtVcFormat))
    pp = fmt.parse_presentation(vector["input"])
    assert fmt.presentation_proof_now(pp, verifier.resolver) is None  # cold: must resolve
    await verifier.verify(input_of(vector, Policy(require_accredited_issuer=False)))
    now = fmt.presentation_proof_now(pp, verifier.resolver)
    assert now is not None and now.status == "passed"
    forged = vector["input"][:-4] + ("AAAA" if not vector["input"].endswith("AAAA") else "BBBB")
    bad = fmt.presentation_proof_now(fmt.parse_presentation(forged), verifier.resolver)
    assert bad is not None and bad.status == "failed" and bad.code == "signature.invalid"


async def test_header_failures_need_no_resolver() -> None:
    vector = next(v for v in EBSI if v["kind"] == "vp" and v["expected"]["valid"]
                  and v["input"].count(".") == 2)
    fmt = JwtVcFormat()
    pp = fmt.parse_presentation(vector["input"])
    pp.header.pop("kid")  # type: ignore[attr-defined]
    result = fmt.presentation_proof_now(pp, None)
    assert result is not None and result.code == "kid.missing"
