"""Signed verification receipts: proof of what was checked, without the credential.

A receipt is a compact JWS (EdDSA) by the node's key -- the same Ed25519 key the
registry sync signs its change log with (``node_state`` ``sync.node_key_pem``), named
by the node's DID (``did:key`` unless ``sync_node_did`` is configured). Its payload:

    iss             the node DID           iat            signing time (unix seconds)
    verdict         valid|invalid|…        checked_at     when the report was made (RFC 3339)
    input_digest    sha-256 (base64url) of the presented input, never the input itself
    report_digest   sha-256 of the report's canonical JSON as returned beside the receipt
    policy          the policy applied     registry_epoch the trust registry epoch used
    checks          [{check, status, code}] of the presentation and each credential

Anyone can verify one offline with the node's public key (``/.well-known/trustbridge-keys``
or the ``did:key`` itself); ``verify_receipt`` is the node's own check.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ed25519

from trustbridge.crypto import jws as _jws
from trustbridge.crypto.jwk import jwk_from_public_key
from trustbridge.hr.digests import input_digest, report_digest
from trustbridge.registry.signed import NodeKey

RECEIPT_TYP = "trustbridge-receipt+jwt"
MAX_RECEIPT_CHARS = 64 * 1024


class ReceiptError(Exception):
    """A receipt does not verify; ``code`` is stable (``receipt.*``)."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.code = code


def _check_list(report: Mapping[str, Any]) -> list[dict[str, Any]]:
    out = [{"check": c.get("check"), "status": c.get("status"), "code": c.get("code")}
           for c in report.get("checks", [])]
    for i, cred in enumerate(report.get("credentials", [])):
        out += [{"credential": i, "check": c.get("check"), "status": c.get("status"),
                 "code": c.get("code")} for c in cred.get("checks", [])]
    return out


def receipt_claims(*, node_did: str, report: Mapping[str, Any], presented: Any,
                   policy: Mapping[str, Any], epoch: str, iat: int) -> dict[str, Any]:
    """The payload for ``report`` (as a JSON object) over the ``presented`` input."""
    return {
        "iss": node_did,
        "iat": iat,
        "verdict": report.get("verdict"),
        "checked_at": report.get("checked_at"),
        "input_digest": {"alg": "sha-256", "value": input_digest(presented)},
        "report_digest": {"alg": "sha-256", "value": report_digest(report)},
        "policy": dict(policy),
        "registry_epoch": epoch,
        "checks": _check_list(report),
    }


@dataclass(frozen=True)
class ReceiptSigner:
    """Signs receipts with the node key."""

    key: NodeKey

    @property
    def did(self) -> str:
        return self.key.did

    def public_jwk(self) -> dict[str, str]:
        return {**jwk_from_public_key(self.key.private_key.public_key()), "kid": self.key.kid,
                "alg": "EdDSA", "use": "sig"}

    def sign(self, *, report: Mapping[str, Any], presented: Any, policy: Mapping[str, Any],
             epoch: str, now: int | None = None) -> str:
        claims = receipt_claims(node_did=self.key.did, report=report, presented=presented,
                                policy=policy, epoch=epoch,
                                iat=int(time.time()) if now is None else now)
        return self.key.sign(claims, typ=RECEIPT_TYP)


@dataclass(frozen=True)
class VerifiedReceipt:
    header: dict[str, Any]
    claims: dict[str, Any]


def verify_receipt(token: str, *, node_did: str, public_key: ed25519.Ed25519PublicKey,
                   report: Any = None, presented: Any = None) -> VerifiedReceipt:
    """1 parse, 2 type, 3 signer is this node, 4 signature, 5 optional digest comparisons."""
    try:
        parsed = _jws.parse_compact_jws(token.strip(), max_len=MAX_RECEIPT_CHARS)
        claims = json.loads(parsed.payload)
    except (ValueError, TypeError) as exc:
        raise ReceiptError(f"not a compact JWS with a JSON payload: {exc}",
                           "receipt.malformed") from exc
    if not isinstance(claims, dict):
        raise ReceiptError("the receipt payload is not a JSON object", "receipt.malformed")
    if parsed.header.get("typ") != RECEIPT_TYP:
        raise ReceiptError(f"typ must be {RECEIPT_TYP}", "receipt.wrong_type")
    kid = parsed.header.get("kid")
    if (not isinstance(kid, str) or kid.split("#", 1)[0] != node_did
            or claims.get("iss") != node_did):
        raise ReceiptError("the receipt was not signed by this node", "receipt.unknown_signer")
    try:
        _jws.verify_jws(parsed, public_key, allowed_algs=frozenset({"EdDSA"}))
    except _jws.SignatureError as exc:
        raise ReceiptError(f"the signature does not verify: {exc.message}",
                           "receipt.signature_invalid") from exc
    if report is not None and claims.get("report_digest", {}).get("value") != report_digest(
            report):
        raise ReceiptError("the report does not match the receipt's report_digest",
                           "receipt.report_mismatch")
    if presented is not None and claims.get("input_digest", {}).get("value") != input_digest(
            presented):
        raise ReceiptError("the input does not match the receipt's input_digest",
                           "receipt.input_mismatch")
    return VerifiedReceipt(dict(parsed.header), claims)


__all__ = ["RECEIPT_TYP", "ReceiptError", "ReceiptSigner", "VerifiedReceipt", "receipt_claims",
           "verify_receipt"]
