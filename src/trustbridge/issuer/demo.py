"""Issue a credential with the demo key (VC-API ``POST /credentials/issue``): pure, no I/O.

The proof is ``DataIntegrityProof`` / ``eddsa-rdfc-2022`` (vc-di-eddsa §3.3.1) for
VCDM 2.0 and 1.1 alike; a 1.1 credential gets the Data Integrity context appended
so the proof's terms are defined. Input that cannot be signed faithfully
(unknown contexts, terms no context defines, another issuer's id) is refused
with an ``InputError`` (400), never signed half-understood.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from trustbridge.errors import InputError
from trustbridge.formats._data_integrity import DATA_INTEGRITY_V2_CONTEXT, sign_eddsa_rdfc_2022
from trustbridge.formats._jsonld_loader import JsonLdError, check_contexts
from trustbridge.formats.base import VCDM1_CONTEXT, VCDM2_CONTEXT, as_list, issuer_id
from trustbridge.formats.vcdm2 import credential_violations
from trustbridge.issuer.keys import DemoKey


def _prepared(credential: Any, key: DemoKey) -> dict[str, Any]:
    """The credential to sign, or ``InputError`` naming what is wrong with it."""
    if not isinstance(credential, Mapping):
        raise InputError("credential must be a JSON object", code="issue.credential_malformed")
    doc = copy.deepcopy(dict(credential))
    contexts = doc.get("@context")
    if not isinstance(contexts, list | str) or not contexts:
        raise InputError("credential has no @context", code="issue.context_missing")
    contexts = as_list(contexts)
    if contexts[0] not in (VCDM1_CONTEXT, VCDM2_CONTEXT):
        raise InputError("the first @context must be a VC Data Model context",
                         code="issue.context_invalid")
    if "VerifiableCredential" not in as_list(doc.get("type")):
        raise InputError("type must include VerifiableCredential", code="issue.type_missing")
    if "credentialSubject" not in doc or not doc["credentialSubject"]:
        raise InputError("credential has no credentialSubject", code="issue.subject_missing")
    if issuer_id(doc) != key.did:
        raise InputError(f"this demo issuer signs only as {key.did}",
                         code="issue.issuer_mismatch", details={"issuer": key.did})
    violations = credential_violations(doc)
    if violations:
        raise InputError(f"the credential breaks the VC Data Model: {violations[0].message}",
                         code="issue.not_conformant",
                         details={"violations": [{"code": v.code, "path": v.path,
                                                  "message": v.message} for v in violations]})
    if "proof" in doc:
        raise InputError("credential already carries a proof", code="issue.already_secured")
    if contexts[0] == VCDM1_CONTEXT and DATA_INTEGRITY_V2_CONTEXT not in contexts:
        contexts.append(DATA_INTEGRITY_V2_CONTEXT)
    doc["@context"] = contexts
    try:
        check_contexts(doc)
    except JsonLdError as exc:
        raise InputError(str(exc), code=exc.code) from exc
    return doc


def issue_credential(credential: Any, *, key: DemoKey, now: datetime) -> dict[str, Any]:
    """The credential secured with an ``eddsa-rdfc-2022`` proof by the demo key."""
    doc = _prepared(credential, key)
    created = now.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")
    try:
        return sign_eddsa_rdfc_2022(doc, key.private_key,
                                    verification_method=key.verification_method,
                                    created=created)
    except JsonLdError as exc:
        raise InputError(f"the credential cannot be signed: {exc}", code=exc.code) from exc


__all__ = ["issue_credential"]
