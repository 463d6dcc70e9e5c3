"""JSON-LD credentials and presentations secured with Data Integrity / Linked Data proofs.

Proof suites and who checks them:

* ``DataIntegrityProof`` with ``eddsa-rdfc-2022`` or ``ecdsa-rdfc-2019`` (VCDM 2.0),
  and ``Ed25519Signature2020``: pyld RDFC-1.0 canonicalisation + ``cryptography``
  (``_data_integrity``), the key from the DID resolver -- any DID method;
* ``Ed25519Signature2018`` and ``JsonWebSignature2020``: didkit 0.3.3, only for
  ``did:key``/``did:jwk`` verification methods (didkit resolves those offline).

Every ``@context`` anywhere in the document must be in the bundled, pinned set
(``_jsonld_loader``); anything else fails with ``context.unknown`` before any
proof work, and nothing is ever fetched.

Proof check steps (numbered in the code; VC Data Integrity §4.4 "Verify Proof"
and VCDM 2.0 §4.12 / VCDM 1.1 §4.7):
1. every context is bundled;
2. there is a proof (a list is a proof set: every member must verify; a member naming
   ``previousProof`` is verified over the document with those proofs, VC-DI §4.5);
3. ``proofPurpose`` is ``assertionMethod`` (VC) / ``authentication`` (VP);
4. ``challenge``/``domain`` equal what the caller expects (VP);
5. the proof has not expired (``expires``);
6. at least one proof's verification method belongs to the issuer (VC) / holder (VP)
   DID (other proofs of a set are co-signatures: they must verify too);
7. the verification method is dereferenced with that relationship;
8. the signature verifies over the canonical document.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from datetime import datetime
from typing import Any, Literal

from trustbridge.crypto.jwk import jwk_from_public_key
from trustbridge.did.interface import DIDError, public_key_of
from trustbridge.errors import InputError
from trustbridge.formats import _data_integrity as di
from trustbridge.formats._didkit import (
    DIDKIT_PROOF_TYPES,
    LOCAL_METHODS,
    DidkitError,
    verify_with_didkit,
)
from trustbridge.formats._jsonld_loader import JsonLdError, canonize, check_contexts
from trustbridge.formats.base import (
    CREDENTIAL_PROOF,
    PRESENTATION_PROOF,
    FormatName,
    ParsedCredential,
    ParsedPresentation,
    RawInput,
    as_list,
    embedded_validity,
    issuer_id,
    parse_datetime,
    schemas_of,
    status_entries_of,
    subject_ids_of,
    types_of,
    vcdm_version_of,
)
from trustbridge.model.report import CheckResult

ENVELOPED_PREFIXES = ("data:application/vc+jwt,", "data:application/vc+ld+json+jwt,",
                      "data:application/vc+sd-jwt,", "data:application/dc+sd-jwt,")


def did_of(did_url: str | None) -> str | None:
    """The DID part of a DID URL (before any ``#``, ``?`` or ``/`` path)."""
    if not did_url:
        return None
    did = did_url.split("#", 1)[0].split("?", 1)[0]
    parts = did.split("/", 1)
    return parts[0]


def proofs_of(document: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The proof objects of a secured document (a proof set is a list)."""
    return [p for p in as_list(document.get("proof")) if isinstance(p, Mapping)]


def verification_method_of(proof: Mapping[str, Any]) -> str | None:
    vm = proof.get("verificationMethod")
    if isinstance(vm, Mapping):
        vm = vm.get("id")
    return vm if isinstance(vm, str) else None


def holder_of(presentation: Mapping[str, Any]) -> str | None:
    holder = presentation.get("holder")
    if isinstance(holder, Mapping):
        holder = holder.get("id")
    return holder if isinstance(holder, str) else None


def _unenvelope(item: Any) -> RawInput:
    """A VP's credential: a JSON-LD object, a JWT string, or an EnvelopedVerifiableCredential."""
    if isinstance(item, Mapping):
        ident = item.get("id")
        if "EnvelopedVerifiableCredential" in as_list(item.get("type")) and isinstance(ident, str):
            for prefix in ENVELOPED_PREFIXES:
                if ident.startswith(prefix):
                    return ident[len(prefix):]
        return item
    if isinstance(item, str):
        return item
    raise InputError("a verifiableCredential entry is neither an object nor a JWT",
                     code="presentation.malformed")


class LdpFormat:
    """``ldp_vc`` / ``ldp_vp``: JSON-LD documents carrying an embedded ``proof``."""

    name: FormatName = "ldp_vc"

    def detect(self, obj: RawInput) -> bool:
        """A JSON object with an ``@context`` (a JWT arrives as a string)."""
        return isinstance(obj, Mapping) and "@context" in obj

    # -- parsing (pure) -------------------------------------------------------------------

    def parse_credential(self, obj: RawInput) -> ParsedCredential:
        if not isinstance(obj, Mapping):
            raise InputError("a JSON-LD credential is a JSON object", code="credential.malformed")
        credential = dict(obj)
        proofs = proofs_of(credential)
        return ParsedCredential(
            format=self.name,
            raw=obj,
            credential=credential,
            issuer=issuer_id(credential),
            subject_ids=subject_ids_of(credential),
            types=types_of(credential),
            schemas=schemas_of(credential),
            status_entries=status_entries_of(credential),
            validity=embedded_validity(credential),
            signer_kid=verification_method_of(proofs[0]) if proofs else None,
            vcdm_version=vcdm_version_of(credential),
            proof_material=tuple(proofs),
        )

    def parse_presentation(self, obj: RawInput) -> ParsedPresentation:
        """``nonce`` is the proof's ``challenge``, ``audience`` its ``domain``, ``iat`` its
        ``created``; without ``holder`` the proof's signer stands in (as JWT ``iss`` does)."""
        if not isinstance(obj, Mapping):
            raise InputError("a JSON-LD presentation is a JSON object",
                             code="presentation.malformed")
        presentation = dict(obj)
        proofs = proofs_of(presentation)
        first = proofs[0] if proofs else {}
        signer = verification_method_of(first) if first else None
        holder = holder_of(presentation) or did_of(signer)
        challenge = first.get("challenge")
        domains = tuple(d for d in as_list(first.get("domain")) if isinstance(d, str))
        credentials = tuple(_unenvelope(item)
                            for item in as_list(presentation.get("verifiableCredential")))
        return ParsedPresentation(
            format=self.name,
            raw=obj,
            presentation=presentation,
            holder=holder,
            credentials=credentials,
            nonce=challenge if isinstance(challenge, str) else None,
            audience=domains,
            iat=parse_datetime(first.get("created")),
            exp=parse_datetime(first.get("expires")),
            types=types_of(presentation),
            signer_kid=signer,
            proof_material=tuple(proofs),
        )

    # -- proofs (I/O: DID resolution) -----------------------------------------------------

    async def check_credential_proof(
        self, parsed: ParsedCredential, resolver: Any, *, at: datetime
    ) -> CheckResult:
        """Step 5 of the pipeline: signed by a key in the issuer's ``assertionMethod``."""
        return await check_document_proof(
            parsed.credential, check=CREDENTIAL_PROOF, signer=parsed.issuer,
            resolver=resolver, at=at, purpose="assertionMethod")

    async def check_presentation_proof(
        self,
        parsed: ParsedPresentation,
        resolver: Any,
        *,
        challenge: str | None,
        domain: str | None,
        at: datetime,
    ) -> CheckResult:
        """Step 2 of the pipeline: signed by a key in the holder's ``authentication``."""
        return await check_document_proof(
            parsed.presentation, check=PRESENTATION_PROOF, signer=parsed.holder,
            resolver=resolver, at=at, purpose="authentication",
            challenge=challenge, domain=domain)


async def check_document_proof(
    document: Mapping[str, Any],
    *,
    check: str,
    signer: str | None,
    resolver: Any,
    at: datetime,
    purpose: Literal["assertionMethod", "authentication"],
    challenge: str | None = None,
    domain: str | None = None,
) -> CheckResult:
    """The proof check for a VC or VP; never raises for bad data (see module docstring)."""
    # 1. Contexts only from the bundled set (nothing is fetched).
    try:
        check_contexts(document)
    except JsonLdError as exc:
        return CheckResult.failed(check, exc.code, str(exc), context=exc.url)
    # 2. At least one proof; every member of a proof set must verify.
    proofs = proofs_of(document)
    if not proofs:
        return CheckResult.failed(check, "proof.missing", "the document carries no proof")
    party = "issuer" if purpose == "assertionMethod" else "holder"
    vm_owners = [did_of(verification_method_of(p)) for p in proofs]
    if signer is None or did_of(signer) not in vm_owners:  # step 6, before any crypto
        return CheckResult.failed(check, "proof.controller_mismatch",
                                  f"no proof's verification method belongs to the {party}",
                                  signer=signer, proof_signers=vm_owners)
    results = [await _check_one(document, proof, proofs, check=check, resolver=resolver,
                                at=at, purpose=purpose, challenge=challenge, domain=domain)
               for proof in proofs]
    for result in results:
        if result.status != "passed":
            return result
    # 6. At least one proof is the issuer's (VC) / holder's (VP); others are co-signatures.
    own = [r for r in results if r.details.get("signer") == did_of(signer)]
    if not own:
        return CheckResult.failed(check, "proof.controller_mismatch",
                                  f"no proof is by the {party}", signer=signer,
                                  proof_signers=[r.details.get("signer") for r in results])
    co_signers = [r.details.get("signer") for r in results if r is not own[0]]
    if co_signers:
        return own[0].model_copy(update={"details": {**own[0].details,
                                                     "co_signers": co_signers}})
    return own[0]


async def _check_one(
    document: Mapping[str, Any],
    proof: Mapping[str, Any],
    all_proofs: list[Mapping[str, Any]],
    *,
    check: str,
    resolver: Any,
    at: datetime,
    purpose: str,
    challenge: str | None,
    domain: str | None,
) -> CheckResult:
    ptype = proof.get("type")
    details: dict[str, Any] = {"proof_type": ptype, "cryptosuite": proof.get("cryptosuite")}
    # 3. Proof purpose fits what is being proven.
    if proof.get("proofPurpose") != purpose:
        return CheckResult.failed(check, "proof.purpose_mismatch",
                                  f"proofPurpose must be {purpose}",
                                  found=proof.get("proofPurpose"), **details)
    # 4. Challenge and domain, when the caller expects them (they are signed with the proof).
    if challenge is not None and proof.get("challenge") != challenge:
        return CheckResult.failed(check, "proof.challenge_mismatch",
                                  "the proof's challenge is not the one expected", **details)
    if domain is not None and domain not in as_list(proof.get("domain")):
        return CheckResult.failed(check, "proof.domain_mismatch",
                                  "the proof's domain is not the one expected", **details)
    # 5. Proof lifetime.
    expires = proof.get("expires")
    if expires is not None:
        when = parse_datetime(expires)
        if when is None or when < at:
            return CheckResult.failed(check, "proof.expired", "the proof has expired",
                                      expires=expires, **details)
    # 6a. Whose proof it is: the DID of its verification method (checked against the
    #     issuer/holder by the caller, step 6).
    vm = verification_method_of(proof)
    if vm is None:
        return CheckResult.failed(check, "proof.malformed",
                                  "the proof names no verificationMethod", **details)
    owner = did_of(vm)
    details["verification_method"] = vm
    suite = di.suite_of(proof)
    if suite is None and ptype not in DIDKIT_PROOF_TYPES:
        return CheckResult.failed(check, "proof.type_unsupported",
                                  f"proof type {ptype!r} is not supported", **details)
    # 7. Dereference the key with the right verification relationship.
    if resolver is None:
        return CheckResult.error(check, "did.resolver_unavailable",
                                 "no DID resolver is configured", **details)
    try:
        method = await resolver.dereference(vm, relationship=purpose)
    except DIDError as exc:
        reason = getattr(exc, "error", None) or "unresolvable"
        if getattr(exc, "transient", False):
            return CheckResult.error(check, "did.unresolvable",
                                     f"the signer's DID could not be resolved now: {reason}",
                                     error=reason, **details)
        return CheckResult.failed(check, "kid.unresolvable",
                                  f"the verification method is not a {purpose} key of the "
                                  f"signer: {reason}", error=reason, **details)
    controller = getattr(method, "controller", None)
    if isinstance(controller, str) and did_of(controller) != owner:
        return CheckResult.failed(check, "proof.controller_mismatch",
                                  "the verification method is controlled by another DID",
                                  controller=controller, **details)
    try:
        key = public_key_of(method)
    except Exception as exc:  # unusable key material in the signer's own DID document
        return CheckResult.failed(check, "key.unsupported",
                                  f"the verification method's key cannot be used: {exc}",
                                  **details)
    # 8. The signature.
    try:
        if suite is not None:
            previous = di.previous_proofs(proof, all_proofs)
            # canonicalisation is CPU work: off the event loop
            await asyncio.to_thread(di.verify_proof, document, proof, key, previous=previous)
        else:
            if not vm.startswith(LOCAL_METHODS):
                return CheckResult.failed(check, "proof.did_method_unsupported",
                                          f"{ptype} is verified only for did:key/did:jwk "
                                          "signers", **details)
            await asyncio.to_thread(_refuse_dropped_terms, document)
            await verify_with_didkit(
                _with_single_proof(document, proof),
                presentation=purpose == "authentication", proof_purpose=purpose,
                challenge=challenge, domain=domain)
    except (di.ProofError, JsonLdError, DidkitError) as exc:
        return CheckResult.failed(check, exc.code, f"proof rejected: {exc}", **details)
    return CheckResult.passed(check, f"signed by {vm}", signer=owner,
                              signer_jwk=jwk_from_public_key(key), **details)


def _refuse_dropped_terms(document: Mapping[str, Any]) -> None:
    """didkit drops undefined terms silently (unsigned claims): refuse them first. Top-level
    contexts passed step 1, so ``context.unknown`` here is a nested ``@import`` outside the
    bundle (the examples context's ODRL): that document is left to didkit, as before."""
    try:
        canonize({k: v for k, v in document.items() if k != "proof"})
    except JsonLdError as exc:
        if exc.code != "context.unknown":
            raise


def _with_single_proof(document: Mapping[str, Any], proof: Mapping[str, Any]) -> dict[str, Any]:
    """didkit checks every proof it finds; hand it the one being checked."""
    single = dict(document)
    single["proof"] = dict(proof)
    return single


def format_of(services: Any) -> LdpFormat:
    """Factory the verifier wiring looks for (``verify.service.formats_for``)."""
    return LdpFormat()


__all__ = [
    "LdpFormat",
    "check_document_proof",
    "did_of",
    "format_of",
    "holder_of",
    "proofs_of",
    "verification_method_of",
]
