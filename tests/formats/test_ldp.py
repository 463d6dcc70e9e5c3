"""JSON-LD proofs: own didkit/Data Integrity fixtures named after their defect, W3C spec vectors,
and the bundled-context loader that never fetches."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import base58
import pytest
from cryptography.hazmat.primitives.asymmetric import ed25519

from trustbridge.did.resolver import offline_resolver
from trustbridge.formats import _data_integrity as di
from trustbridge.formats._jsonld_loader import (
    JsonLdError,
    bundled_contexts,
    canonize,
    context_urls,
    document_loader,
)
from trustbridge.formats.ldp import LdpFormat
from trustbridge.model.report import CheckStatus

ROOT = Path(__file__).resolve().parents[2]
OWN = ROOT / "fixtures" / "ldp" / "own"
W3C = ROOT / "fixtures" / "ldp" / "w3c"
KEYS = json.loads((OWN / "keys.json").read_text())
AT = datetime(2025, 1, 1, 0, 6, tzinfo=UTC)
FMT = LdpFormat()


def fixture(name: str) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((OWN / f"{name}.json").read_text())
    return doc


# name -> expected code of the proof check (".ok" = passed)
CREDENTIALS = {
    "vc-ed25519-2018": "credential_proof.ok",
    "vc-ed25519-2020": "credential_proof.ok",
    "vc-jws-2020": "credential_proof.ok",
    "vc-eddsa-rdfc-2022": "credential_proof.ok",
    "vc-ecdsa-rdfc-2019": "credential_proof.ok",
    **{f"{s}-claim-changed": "signature.invalid"
       for s in ("vc-ed25519-2018", "vc-ed25519-2020", "vc-jws-2020", "vc-eddsa-rdfc-2022",
                 "vc-ecdsa-rdfc-2019")},
    **{f"{s}-proofvalue-changed": "signature.invalid"
       for s in ("vc-ed25519-2018", "vc-ed25519-2020", "vc-jws-2020", "vc-eddsa-rdfc-2022",
                 "vc-ecdsa-rdfc-2019")},
    "vc-eddsa-rdfc-2022-proof-moved": "signature.invalid",
    "vc-ed25519-2018-unknown-context": "context.unknown",
    "vc-eddsa-rdfc-2022-unknown-context": "context.unknown",
    "vc-eddsa-rdfc-2022-unknown-embedded-context": "context.unknown",
    "vc-ed25519-2018-vm-other-did": "proof.controller_mismatch",
    "vc-eddsa-rdfc-2022-vm-other-did": "proof.controller_mismatch",
    "vc-eddsa-rdfc-2022-signed-by-other-did": "proof.controller_mismatch",
    "vc-eddsa-rdfc-2022-purpose-authentication": "proof.purpose_mismatch",
}

PRESENTATIONS = {
    "vp-ed25519-2018": "presentation_proof.ok",
    "vp-eddsa-rdfc-2022": "presentation_proof.ok",
    "vp-eddsa-rdfc-2022-challenge-changed": "proof.challenge_mismatch",
    "vp-eddsa-rdfc-2022-signed-by-other-did": "proof.controller_mismatch",
    # the VP's own proof is fine; the pipeline fails the credential inside
    "vp-eddsa-rdfc-2022-credential-claim-changed": "presentation_proof.ok",
}


def test_every_fixture_has_an_expectation() -> None:
    names = {p.stem for p in OWN.glob("v*.json")}
    assert names == set(CREDENTIALS) | set(PRESENTATIONS)


@pytest.mark.parametrize("name", sorted(CREDENTIALS))
async def test_credential_proof(name: str) -> None:
    parsed = FMT.parse_credential(fixture(name))
    result = await FMT.check_credential_proof(parsed, offline_resolver(), at=AT)
    assert result.code == CREDENTIALS[name], result.message
    if result.code.endswith(".ok"):
        assert result.status == CheckStatus.PASSED
        assert result.details["signer_jwk"]["kty"] in ("OKP", "EC")
    else:
        assert result.status == CheckStatus.FAILED


@pytest.mark.parametrize("name", sorted(PRESENTATIONS))
async def test_presentation_proof(name: str) -> None:
    parsed = FMT.parse_presentation(fixture(name))
    assert parsed.nonce is not None and parsed.audience == (KEYS["domain"],)
    result = await FMT.check_presentation_proof(
        parsed, offline_resolver(), challenge=KEYS["challenge"], domain=KEYS["domain"], at=AT)
    assert result.code == PRESENTATIONS[name], result.message


@pytest.mark.parametrize("name", ["vp-ed25519-2018", "vp-eddsa-rdfc-2022"])
@pytest.mark.parametrize(("challenge", "domain", "code"), [
    ("another-challenge", KEYS["domain"], "proof.challenge_mismatch"),
    (KEYS["challenge"], "other.example", "proof.domain_mismatch"),
])
async def test_presentation_expectations_are_enforced(name: str, challenge: str, domain: str,
                                                      code: str) -> None:
    parsed = FMT.parse_presentation(fixture(name))
    result = await FMT.check_presentation_proof(parsed, offline_resolver(), challenge=challenge,
                                                domain=domain, at=AT)
    assert result.code == code


async def test_presentation_of_ld_vp_maps_holder_nonce_and_credentials() -> None:
    parsed = FMT.parse_presentation(fixture("vp-eddsa-rdfc-2022"))
    assert parsed.holder == KEYS["holder"]
    assert parsed.iat == datetime(2025, 1, 1, 0, 5, tzinfo=UTC)
    assert len(parsed.credentials) == 1
    cred = FMT.parse_credential(parsed.credentials[0])
    assert cred.issuer == KEYS["issuer"] and cred.subject_ids == (KEYS["holder"],)
    assert cred.vcdm_version == "2.0"


async def test_missing_proof_and_unsupported_type() -> None:
    doc = fixture("vc-eddsa-rdfc-2022")
    del doc["proof"]
    result = await FMT.check_credential_proof(FMT.parse_credential(doc), offline_resolver(),
                                              at=AT)
    assert result.code == "proof.missing"
    doc = fixture("vc-eddsa-rdfc-2022")
    doc["proof"]["cryptosuite"] = "bbs-2023"
    result = await FMT.check_credential_proof(FMT.parse_credential(doc), offline_resolver(),
                                              at=AT)
    assert result.code == "proof.type_unsupported"


async def test_proof_set_needs_every_member() -> None:
    good = fixture("vc-eddsa-rdfc-2022")
    bad = fixture("vc-eddsa-rdfc-2022-proofvalue-changed")
    doc = {**good, "proof": [good["proof"], bad["proof"]]}
    result = await FMT.check_credential_proof(FMT.parse_credential(doc), offline_resolver(),
                                              at=AT)
    assert result.code == "signature.invalid"


async def test_expired_proof() -> None:
    doc = fixture("vc-eddsa-rdfc-2022")
    doc["proof"]["expires"] = "2024-01-01T00:00:00Z"
    result = await FMT.check_credential_proof(FMT.parse_credential(doc), offline_resolver(),
                                              at=AT)
    assert result.code == "proof.expired"


# -- W3C vc-di-eddsa test vectors ------------------------------------------------------------

def _spec_key() -> ed25519.Ed25519PublicKey:
    multibase = json.loads((W3C / "vc-di-eddsa-keypair.json").read_text())["publicKeyMultibase"]
    raw = base58.b58decode(multibase[1:])
    assert raw[:2] == b"\xed\x01"
    return ed25519.Ed25519PublicKey.from_public_bytes(raw[2:])


@pytest.mark.parametrize("name", ["vc-di-eddsa-rdfc-2022-signed",
                                  "vc-di-eddsa-ed25519signature2020-signed"])
def test_w3c_vectors_verify_with_the_published_key(name: str) -> None:
    doc = json.loads((W3C / f"{name}.json").read_text())
    di.verify_proof(doc, doc["proof"], _spec_key())
    doc["credentialSubject"]["alumniOf"] = "Another School"
    with pytest.raises(di.ProofError) as err:
        di.verify_proof(doc, doc["proof"], _spec_key())
    assert err.value.code == "signature.invalid"


def test_w3c_intermediate_values_match() -> None:
    doc = json.loads((W3C / "vc-di-eddsa-rdfc-2022-signed.json").read_text())
    unsecured, options = di.split_secured(doc, doc["proof"])
    expected_nq = (W3C / "vc-di-eddsa-rdfc-2022-canonical-document.nq").read_text()
    assert canonize(unsecured) == expected_nq
    expected_hash = (W3C / "vc-di-eddsa-rdfc-2022-combined-hash.txt").read_text().strip()
    assert di.hash_data(unsecured, options).hex() == expected_hash


async def test_w3c_vector_issuer_does_not_control_the_key() -> None:
    """The spec's issuer is an https URL, not the did:key that signed: the format says so."""
    doc = json.loads((W3C / "vc-di-eddsa-rdfc-2022-signed.json").read_text())
    result = await FMT.check_credential_proof(FMT.parse_credential(doc), offline_resolver(),
                                              at=datetime.now(UTC))
    assert result.code == "proof.controller_mismatch"


# -- the loader: bundled and pinned, never the network ----------------------------------------

def test_loader_serves_only_bundled_contexts() -> None:
    assert "https://www.w3.org/ns/credentials/v2" in bundled_contexts()
    served = document_loader("https://www.w3.org/2018/credentials/v1")
    assert served["document"]["@context"]
    for url in ("https://contexts.example/unknown/v1", "http://127.0.0.1:1/ctx",
                "https://www.w3.org/ns/credentials/v3", "file:///etc/passwd"):
        with pytest.raises(JsonLdError) as err:
            document_loader(url)
        assert err.value.code == "context.unknown"


def test_canonize_refuses_unknown_contexts_without_fetching(monkeypatch: pytest.MonkeyPatch
                                                            ) -> None:
    import socket

    def no_network(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("the JSON-LD loader tried to open a connection")

    monkeypatch.setattr(socket.socket, "connect", no_network)
    doc = fixture("vc-eddsa-rdfc-2022-unknown-context")
    with pytest.raises(JsonLdError) as err:
        canonize(doc)
    assert err.value.code == "context.unknown"
    imported = {"@context": [{"@import": "https://contexts.example/x"}], "name": "x"}
    assert context_urls(imported) == ["https://contexts.example/x"]
    with pytest.raises(JsonLdError):
        canonize(imported)


def test_canonize_refuses_terms_no_context_defines() -> None:
    """A property that would vanish from the signed RDF must fail, not be silently dropped."""
    doc = {"@context": ["https://www.w3.org/2018/credentials/v1"],
           "type": ["VerifiableCredential"], "issuer": "did:example:1",
           "issuanceDate": "2025-01-01T00:00:00Z",
           "credentialSubject": {"id": "did:example:2", "undefinedTerm": "not signed"}}
    with pytest.raises(JsonLdError) as err:
        canonize(doc)
    assert err.value.code == "jsonld.term_undefined"


def test_bundled_contexts_are_pinned() -> None:
    index = json.loads((ROOT / "src" / "trustbridge" / "formats" / "contexts" / "index.json")
                       .read_text())
    assert set(index) == set(bundled_contexts())
    for entry in index.values():
        assert len(entry["sha256"]) == 64


@pytest.mark.parametrize(("name", "code"), [
    ("di-assertion-2.0-previousProofStringOk", "credential_proof.ok"),
    ("di-assertion-2.0-previousProofArrayOk", "credential_proof.ok"),
    ("di-assertion-2.0-previousProofStringMissingFail", "proof.previous_missing"),
    ("di-assertion-2.0-previousProofArrayMissingFail", "proof.previous_missing"),
    ("di-assertion-2.0-previousProofMissingFail", "proof.controller_mismatch"),
    ("di-assertion-2.0-previousProofNotStringFail", "jsonld.relative_iri"),
])
async def test_w3c_proof_chains(name: str, code: str) -> None:
    """A proof set may hold co-signatures; every proof must verify and one must be the issuer's."""
    doc = json.loads((W3C / f"{name}.json").read_text())
    result = await FMT.check_credential_proof(FMT.parse_credential(doc), offline_resolver(),
                                              at=datetime.now(UTC))
    assert result.code == code, result.message
    if code.endswith(".ok"):
        assert result.details["co_signers"]


def test_canonize_bounds_poison_graphs() -> None:
    """A clique of blank nodes makes RDFC-1.0 exponential; it must stop, with a code."""
    n = 12
    nodes = [{"@id": f"_:b{i}", "http://ex.org/p": [{"@id": f"_:b{j}"} for j in range(n)
                                                     if j != i]} for i in range(n)]
    with pytest.raises(JsonLdError) as err:
        canonize({"@context": {"@vocab": "http://ex.org/"}, "@graph": nodes})
    assert err.value.code == "jsonld.too_complex"
