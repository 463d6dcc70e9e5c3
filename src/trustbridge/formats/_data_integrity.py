"""Data Integrity proofs over RDF canonicalisation: pure functions, no I/O.

Implements, for one proof object and an already-resolved public key:

* ``eddsa-rdfc-2022`` (W3C vc-di-eddsa §3.3) and its predecessor
  ``Ed25519Signature2020`` (same hashing, own proof type and context);
* ``ecdsa-rdfc-2019`` with P-256 / P-384 (W3C vc-di-ecdsa §3.3).

Verification (vc-di-eddsa §3.3.2 "Verify Proof", numbered below):
1. unsecuredDocument = the document without ``proof``;
2. proofOptions = the proof without ``proofValue``;
3. proofBytes = multibase-base58btc decode of ``proofValue``;
4. if proofOptions has ``@context``, the document's ``@context`` must start with it;
5. transform: canonicalise the unsecured document (RDFC-1.0);
6. hash: canonicalise proofOptions with the document's ``@context``; hashData =
   SHA-256(canonical proof config) || SHA-256(canonical document) (SHA-384 for P-384);
7. verify the signature over hashData with the verification method's key.
Signing (used by the demo issuer) runs the same steps and signs instead.
"""

from __future__ import annotations

import copy
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import base58
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from trustbridge.formats._jsonld_loader import canonize
from trustbridge.formats.base import parse_datetime

ED25519_2020_CONTEXT = "https://w3id.org/security/suites/ed25519-2020/v1"
DATA_INTEGRITY_V2_CONTEXT = "https://w3id.org/security/data-integrity/v2"

EDDSA_RDFC_2022 = "eddsa-rdfc-2022"
ECDSA_RDFC_2019 = "ecdsa-rdfc-2019"
CRYPTOSUITES = (EDDSA_RDFC_2022, ECDSA_RDFC_2019)


class ProofError(Exception):
    """The proof does not verify; ``code`` is a stable dotted string."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Suite:
    """What a proof's ``type``/``cryptosuite`` pair means."""

    name: str
    key_kind: str  # "Ed25519" | "P-256" | "P-384" | "EC"


def suite_of(proof: Mapping[str, Any]) -> Suite | None:
    """The RDFC suite a proof object uses, or ``None`` for proofs handled elsewhere."""
    ptype = proof.get("type")
    if ptype == "Ed25519Signature2020":
        return Suite("Ed25519Signature2020", "Ed25519")
    if ptype == "DataIntegrityProof":
        suite = proof.get("cryptosuite")
        if suite == EDDSA_RDFC_2022:
            return Suite(EDDSA_RDFC_2022, "Ed25519")
        if suite == ECDSA_RDFC_2019:
            return Suite(ECDSA_RDFC_2019, "EC")
    return None


def decode_proof_value(value: Any) -> bytes:
    """Step 3: a multibase base58btc (``z``) string as bytes."""
    if not isinstance(value, str) or not value.startswith("z") or len(value) > 300:
        raise ProofError("proofValue must be a multibase base58btc string",
                         code="proof.value_malformed")
    try:
        return bytes(base58.b58decode(value[1:]))
    except ValueError as exc:
        raise ProofError("proofValue is not base58btc", code="proof.value_malformed") from exc


def _prefix_of(document_ctx: Any, proof_ctx: Any) -> bool:
    doc = document_ctx if isinstance(document_ctx, list) else [document_ctx]
    prf = proof_ctx if isinstance(proof_ctx, list) else [proof_ctx]
    return doc[: len(prf)] == prf


def hash_data(document: Mapping[str, Any], proof_options: Mapping[str, Any], *,
              digest: Callable[[bytes], bytes] | None = None) -> bytes:
    """Steps 4-6: SHA-256(canonical proof config) || SHA-256(canonical document).

    ``document`` is the unsecured document (no ``proof``); ``proof_options`` the proof
    without ``proofValue``.
    """
    hasher = digest or (lambda b: hashlib.sha256(b).digest())
    unsecured = dict(document)
    if "@context" in proof_options:
        # 4. the proof's context must be a prefix of the document's; it is the one signed
        if not _prefix_of(unsecured.get("@context"), proof_options["@context"]):
            raise ProofError("the proof's @context is not a prefix of the document's",
                             code="proof.context_mismatch")
        unsecured["@context"] = proof_options["@context"]
    created = proof_options.get("created")
    if created is not None and parse_datetime(created) is None:
        raise ProofError("proof.created is not a dateTime", code="proof.malformed")
    config = dict(proof_options)
    config["@context"] = unsecured.get("@context")
    canonical_doc = canonize(unsecured)      # 5. transform
    canonical_config = canonize(config)      # 6. proof configuration
    return hasher(canonical_config.encode()) + hasher(canonical_doc.encode())


def split_secured(secured: Mapping[str, Any], proof: Mapping[str, Any],
                  previous: list[Mapping[str, Any]] | None = None
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """Steps 1-2: the document without ``proof`` and the proof without ``proofValue``.

    In a proof chain (VC Data Integrity §4.5) the proofs named by ``previousProof`` stay in
    the document being verified, as they were when this proof was made.
    """
    unsecured = {k: copy.deepcopy(v) for k, v in secured.items() if k != "proof"}
    if previous:
        unsecured["proof"] = [copy.deepcopy(dict(p)) for p in previous]
    options = {k: copy.deepcopy(v) for k, v in proof.items() if k != "proofValue"}
    return unsecured, options


def previous_proofs(proof: Mapping[str, Any], all_proofs: list[Mapping[str, Any]]
                    ) -> list[Mapping[str, Any]]:
    """The proofs ``previousProof`` names (VC Data Integrity §4.5); ``ProofError`` if one is
    missing from the document's proof set."""
    wanted = proof.get("previousProof")
    if wanted is None:
        return []
    ids = wanted if isinstance(wanted, list) else [wanted]
    found: list[Mapping[str, Any]] = []
    for ident in ids:
        match = [p for p in all_proofs if isinstance(ident, str) and p.get("id") == ident]
        if not match:
            raise ProofError(f"previousProof {ident!r} is not in the proof set",
                             code="proof.previous_missing")
        found.append(match[0])
    return found


def verify_proof(secured: Mapping[str, Any], proof: Mapping[str, Any], public_key: Any, *,
                 previous: list[Mapping[str, Any]] | None = None) -> None:
    """Verify one RDFC proof of ``secured`` with ``public_key``; raise ``ProofError`` if not."""
    suite = suite_of(proof)
    if suite is None:
        raise ProofError("unsupported proof type or cryptosuite", code="proof.type_unsupported")
    unsecured, options = split_secured(secured, proof, previous)
    signature = decode_proof_value(proof.get("proofValue"))
    if suite.key_kind == "Ed25519":
        if not isinstance(public_key, ed25519.Ed25519PublicKey):
            raise ProofError(f"{suite.name} needs an Ed25519 key", code="key.type_mismatch")
        data = hash_data(unsecured, options)
        try:
            public_key.verify(signature, data)  # 7.
        except InvalidSignature as exc:
            raise ProofError("the signature does not match the document",
                             code="signature.invalid") from exc
        return
    if not isinstance(public_key, ec.EllipticCurvePublicKey) or public_key.curve.name not in (
            "secp256r1", "secp384r1"):
        raise ProofError("ecdsa-rdfc-2019 needs a P-256 or P-384 key", code="key.type_mismatch")
    p384 = public_key.curve.name == "secp384r1"
    size = 48 if p384 else 32
    digest = (lambda b: hashlib.sha384(b).digest()) if p384 else None
    data = hash_data(unsecured, options, digest=digest)
    if len(signature) != 2 * size:
        raise ProofError("the ECDSA signature has the wrong length", code="signature.invalid")
    der = encode_dss_signature(int.from_bytes(signature[:size], "big"),
                               int.from_bytes(signature[size:], "big"))
    algorithm = ec.ECDSA(hashes.SHA384() if p384 else hashes.SHA256())
    try:
        public_key.verify(der, data, algorithm)
    except InvalidSignature as exc:
        raise ProofError("the signature does not match the document",
                         code="signature.invalid") from exc


def sign_eddsa_rdfc_2022(document: Mapping[str, Any], private_key: ed25519.Ed25519PrivateKey, *,
                         verification_method: str, created: str,
                         proof_purpose: str = "assertionMethod",
                         challenge: str | None = None, domain: str | None = None
                         ) -> dict[str, Any]:
    """``document`` with an ``eddsa-rdfc-2022`` proof added (vc-di-eddsa §3.3.1 Add Proof)."""
    unsecured = {k: copy.deepcopy(v) for k, v in document.items() if k != "proof"}
    options: dict[str, Any] = {
        "type": "DataIntegrityProof",
        "cryptosuite": EDDSA_RDFC_2022,
        "created": created,
        "verificationMethod": verification_method,
        "proofPurpose": proof_purpose,
    }
    if challenge is not None:
        options["challenge"] = challenge
    if domain is not None:
        options["domain"] = domain
    signature = private_key.sign(hash_data(unsecured, options))
    secured = dict(unsecured)
    secured["proof"] = {**options, "proofValue": "z" + base58.b58encode(signature).decode()}
    return secured


__all__ = [
    "CRYPTOSUITES",
    "DATA_INTEGRITY_V2_CONTEXT",
    "ECDSA_RDFC_2019",
    "ED25519_2020_CONTEXT",
    "EDDSA_RDFC_2022",
    "ProofError",
    "Suite",
    "decode_proof_value",
    "hash_data",
    "previous_proofs",
    "sign_eddsa_rdfc_2022",
    "split_secured",
    "suite_of",
    "verify_proof",
]
