"""JSON-LD credentials and presentations go through the same pipeline and report.

The LD proof itself is the ``formats/ldp`` engineer's (tested there); this checks the
pipeline wiring: detection, proof check, challenge/domain as nonce/audience, holder binding.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.verify.support import failing_codes
from trustbridge.did.resolver import offline_resolver
from trustbridge.formats.jwt_vc import JwtVcFormat
from trustbridge.verify.pipeline import VerificationInput, Verifier
from trustbridge.verify.policy import Policy

ldp = pytest.importorskip("trustbridge.formats.ldp")

LDP = Path(__file__).resolve().parents[2] / "fixtures" / "ldp" / "own"
AT = datetime(2025, 1, 1, 0, 6, tzinfo=UTC)
RELAXED = Policy(require_accredited_issuer=False, check_schema=False, check_status=False)


def doc(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((LDP / f"{name}.json").read_text())
    return data


def verifier() -> Verifier:
    return Verifier(formats=[ldp.LdpFormat(), JwtVcFormat()], resolver=offline_resolver(),
                    clock=lambda: AT)


@pytest.mark.parametrize(("name", "verdict", "code"), [
    ("vc-eddsa-rdfc-2022", "valid", None),
    ("vc-eddsa-rdfc-2022-claim-changed", "invalid", "signature.invalid"),
    ("vc-eddsa-rdfc-2022-unknown-context", "invalid", "context.unknown"),
])
async def test_ldp_credential(name: str, verdict: str, code: str | None) -> None:
    report = await verifier().verify(VerificationInput(credential=doc(name), at=AT,
                                                       policy=RELAXED))
    assert report.verdict == verdict, failing_codes(report)
    if code:
        assert code in failing_codes(report)


async def test_ldp_presentation_challenge_and_domain() -> None:
    vp = doc("vp-eddsa-rdfc-2022")
    ok = await verifier().verify(VerificationInput(
        presentation=vp, nonce="tb-challenge-1", audience="verifier.example", at=AT,
        policy=RELAXED))
    assert ok.verdict == "valid", failing_codes(ok)
    wrong = await verifier().verify(VerificationInput(
        presentation=vp, nonce="another", audience="verifier.example", at=AT, policy=RELAXED))
    assert wrong.verdict == "invalid"
    assert {"nonce.mismatch", "proof.challenge_mismatch"} & set(failing_codes(wrong))
