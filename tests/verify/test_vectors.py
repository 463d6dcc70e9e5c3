"""External and own test vectors verify as their authors say, with the right code.

EBSI vectors come from ``@cef-ebsi/verifiable-credential`` / ``-presentation``
(fixtures/ebsi/SOURCE); they carry no accreditation, so they run with
``require_accredited_issuer`` off; their ``credentialSchema`` (EBSI Trusted Schemas
Registry ids) is validated against EBSI's own published schemas (fixtures/ebsi/schemas).
Own vectors (fixtures/verify/make_vectors.py) are named after the defect they show and
run under the default policy with a registry accrediting their issuer unless the vector
says otherwise.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.verify.support import (
    EBSI_SCHEMAS,
    StaticRegistry,
    ebsi_documents,
    ebsi_vectors,
    failing_codes,
    input_of,
    make_verifier,
    own_status_lists,
    own_vectors,
)
from trustbridge.verify.policy import Policy

# The EBSI oracle labels reasons in its own words; these are our stable codes for them.
EBSI_REASON_TO_CODE = {
    "alg.unsupported": {"alg.not_allowed"},
    "signature.invalid": {"signature.invalid"},
    "time.expired": {"credential.expired", "presentation.expired"},
    "time.not_yet_valid": {"credential.not_yet_valid"},
    "kid.not_issuer": {"kid.did_mismatch"},
    "kid.not_holder": {"kid.did_mismatch"},
    "status.revoked": {"status.revoked"},
    "vp.holder_not_subject": {"holder.mismatch"},
    "vp.audience_mismatch": {"audience.mismatch"},
    "vp.nonce_mismatch": {"nonce.mismatch"},
}


EBSI = ebsi_vectors()


@pytest.mark.parametrize("vector", EBSI, ids=[v["name"] for v in EBSI])
async def test_ebsi_vector(vector: dict[str, Any]) -> None:
    verifier = make_verifier(docs=ebsi_documents(EBSI), schema_dir=EBSI_SCHEMAS)
    policy = Policy(require_accredited_issuer=False)
    report = await verifier.verify(input_of(vector, policy))
    expected = vector["expected"]
    assert (report.verdict == "valid") == expected["valid"], failing_codes(report)
    if not expected["valid"]:
        wanted = EBSI_REASON_TO_CODE[expected["reason"]]
        assert wanted & set(failing_codes(report)), (expected["reason"], failing_codes(report))


OWN = own_vectors()


@pytest.mark.parametrize("vector", OWN, ids=[v["name"] for v in OWN])
async def test_own_vector(vector: dict[str, Any]) -> None:
    registry = StaticRegistry(vector["accredited"], vector.get("accreditation_expired"))
    verifier = make_verifier(docs=own_status_lists(), registry=registry)
    report = await verifier.verify(input_of(vector))
    expected = vector["expected"]
    assert report.verdict == expected["verdict"], failing_codes(report)
    codes = failing_codes(report)
    if expected["code"] is not None:
        assert expected["code"] in codes, codes
    elif expected["verdict"] == "invalid":
        assert {"signature.invalid", "credential.malformed", "presentation.malformed"} & set(codes)


async def test_valid_vp_report_has_summary_and_chain() -> None:
    vector = next(v for v in OWN if v["name"] == "vp-valid-es256")
    verifier = make_verifier(docs=own_status_lists(), registry=StaticRegistry(vector["accredited"]))
    report = await verifier.verify(input_of(vector))
    assert report.verdict == "valid"
    assert report.holder == vector["holder_did"]
    summary = report.credentials[0].summary
    assert summary["issuer"] == {"did": vector["issuer_did"], "name": "Hochschule Teststadt",
                                 "country": "DE"}
    assert summary["title"] == "Battery safety for EV technicians"
    assert summary["subject"] == {"id": vector["holder_did"], "name": "Ada Muster"}
    assert summary["issued"].startswith("2025-01-01")
    assert summary["expires"].startswith("2030-01-01")
    assert [link["role"] for link in summary["chain"]] == ["RootTAO", "TI"]
    checks = {c.check: c.status for c in report.credentials[0].checks}
    assert checks == {"structure": "passed", "credential_proof": "passed",
                      "holder_binding": "passed", "validity": "passed", "status": "passed",
                      "schema": "passed", "issuer_trust": "passed"}


async def test_single_credential_says_holder_checks_skipped() -> None:
    vector = next(v for v in OWN if v["name"] == "vc-valid-eddsa")
    verifier = make_verifier(docs=own_status_lists(), registry=StaticRegistry(vector["accredited"]))
    report = await verifier.verify(input_of(vector))
    assert report.verdict == "valid"
    skipped = [c for c in report.checks if c.status == "skipped"]
    assert {c.check for c in skipped} == {"presentation_proof", "replay"}
    binding = next(c for c in report.credentials[0].checks if c.check == "holder_binding")
    assert binding.status == "skipped" and "without a presentation" in binding.message


async def test_unreachable_status_list_is_indeterminate_never_valid() -> None:
    vector = next(v for v in OWN if v["name"] == "vc-valid-eddsa")
    verifier = make_verifier(docs={}, registry=StaticRegistry(vector["accredited"]))
    report = await verifier.verify(input_of(vector))
    assert report.verdict == "indeterminate"
    assert "status.list_unavailable" in failing_codes(report)


async def test_missing_registry_is_indeterminate() -> None:
    vector = next(v for v in OWN if v["name"] == "vc-valid-eddsa")
    report = await make_verifier(docs=own_status_lists()).verify(input_of(vector))
    assert report.verdict == "indeterminate"
    assert "issuer.registry_unavailable" in failing_codes(report)


async def test_relaxed_holder_binding_is_skipped_not_passed() -> None:
    vector = next(v for v in OWN if v["name"] == "vp-holder-not-subject")
    verifier = make_verifier(docs=own_status_lists(), registry=StaticRegistry(vector["accredited"]))
    report = await verifier.verify(input_of(vector, Policy(require_holder_binding=False)))
    binding = next(c for c in report.credentials[0].checks if c.check == "holder_binding")
    assert binding.status == "skipped"
    assert report.verdict == "valid"


async def test_status_list_fetched_once_per_run() -> None:
    vector = next(v for v in OWN if v["name"] == "vp-valid-es256")
    from tests.verify.support import MemoryFetcher

    fetcher = MemoryFetcher(own_status_lists())
    verifier = make_verifier(fetcher=fetcher, registry=StaticRegistry(vector["accredited"]))
    await verifier.verify(input_of(vector))
    await verifier.verify(input_of(vector))
    assert len(fetcher.requests) == 1  # second run served from the raw-list cache
