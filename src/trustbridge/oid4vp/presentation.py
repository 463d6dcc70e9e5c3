"""Reading the shape of presented objects, *without* trusting them.

Matching a response against the request (which credential answers which
query, do the types and claims fit) needs the decoded payloads before the
verification pipeline has checked the signatures. Nothing read here is a
verified fact: the pipeline verifies every presentation afterwards, and a
response is accepted only when both matching and verification pass.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass, field
from typing import Any

MAX_CREDENTIALS = 32


class ShapeError(ValueError):
    """The object is not the format it claims to be."""


def b64url_decode(segment: str) -> bytes:
    try:
        return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
    except (binascii.Error, ValueError) as exc:
        raise ShapeError("invalid base64url") from exc


def decode_jwt_unverified(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS; the signature is *not* checked here."""
    parts = token.split(".")
    if len(parts) != 3 or not all(parts[:2]):
        raise ShapeError("not a compact JWS")
    try:
        header = json.loads(b64url_decode(parts[0]))
        payload = json.loads(b64url_decode(parts[1]))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ShapeError("JWS header or payload is not JSON") from exc
    if not isinstance(header, dict) or not isinstance(payload, dict):
        raise ShapeError("JWS header and payload must be JSON objects")
    return header, payload


@dataclass
class PresentedCredential:
    """One credential inside a presentation, decoded for matching."""

    format: str
    document: dict[str, Any]  # the VC object claims paths apply to (``vc`` claim for JWT VCs)
    raw: Any
    envelope: dict[str, Any] | None = None  # the JWT payload around ``vc``, if any

    @property
    def types(self) -> list[str]:
        t = self.document.get("type", [])
        return [t] if isinstance(t, str) else [x for x in t if isinstance(x, str)]


@dataclass
class ParsedPresentation:
    """A presentation's binding claims (nonce, audience) and its credentials."""

    format: str
    raw: Any
    document: dict[str, Any]  # decoded JWT payload, or the JSON-LD VP itself
    nonce: str | None
    audience: list[str]
    credentials: list[PresentedCredential] = field(default_factory=list)


def _as_list(v: Any) -> list[Any]:
    if v is None:
        return []
    return v if isinstance(v, list) else [v]


def parse_credential(raw: Any) -> PresentedCredential:
    """A JWT VC string, an SD-JWT string, or an embedded JSON-LD VC object."""
    if isinstance(raw, dict):
        return PresentedCredential(format="ldp_vc", document=raw, raw=raw)
    if isinstance(raw, str) and "~" in raw:
        return parse_sd_jwt(raw).credentials[0]
    if isinstance(raw, str):
        _, payload = decode_jwt_unverified(raw)
        vc = payload.get("vc")
        doc = vc if isinstance(vc, dict) else payload
        return PresentedCredential(format="jwt_vc_json", document=doc, raw=raw, envelope=payload)
    raise ShapeError("a credential must be a JWT string or a JSON object")


def parse_jwt_vp(token: str) -> ParsedPresentation:
    """JWT VP (VCDM 1.1 ``vp`` claim, or a VCDM 2.0 VP as the payload)."""
    if not isinstance(token, str):
        raise ShapeError("a jwt_vp presentation must be a JWT string")
    _, payload = decode_jwt_unverified(token)
    vp = payload.get("vp")
    body = vp if isinstance(vp, dict) else payload
    raw_creds = _as_list(body.get("verifiableCredential"))
    if len(raw_creds) > MAX_CREDENTIALS:
        raise ShapeError("too many credentials in one presentation")
    nonce = payload.get("nonce")
    return ParsedPresentation(
        format="jwt_vp",
        raw=token,
        document=payload,
        nonce=nonce if isinstance(nonce, str) else None,
        audience=[a for a in _as_list(payload.get("aud")) if isinstance(a, str)],
        credentials=[parse_credential(c) for c in raw_creds],
    )


def parse_ldp_vp(doc: Any) -> ParsedPresentation:
    """JSON-LD VP with a Data Integrity / Linked Data proof (challenge = nonce, domain = aud)."""
    if isinstance(doc, str):
        try:
            doc = json.loads(doc)
        except ValueError as exc:
            raise ShapeError("an ldp_vp presentation must be a JSON object") from exc
    if not isinstance(doc, dict):
        raise ShapeError("an ldp_vp presentation must be a JSON object")
    proofs = [p for p in _as_list(doc.get("proof")) if isinstance(p, dict)]
    challenge = next((p["challenge"] for p in proofs if isinstance(p.get("challenge"), str)),
                     None)
    domains: list[str] = []
    for p in proofs:
        domains += [d for d in _as_list(p.get("domain")) if isinstance(d, str)]
    raw_creds = _as_list(doc.get("verifiableCredential"))
    if len(raw_creds) > MAX_CREDENTIALS:
        raise ShapeError("too many credentials in one presentation")
    return ParsedPresentation(format="ldp_vp", raw=doc, document=doc, nonce=challenge,
                              audience=domains,
                              credentials=[parse_credential(c) for c in raw_creds])


def parse_sd_jwt(token: str) -> ParsedPresentation:
    """SD-JWT (+KB-JWT): issuer JWT, disclosures, key binding JWT carrying nonce and aud.

    Disclosed claims are folded into the document at top level (enough for DCQL
    claim matching on flat SD-JWT VCs; the digests are checked by the pipeline).
    """
    if not isinstance(token, str) or "~" not in token:
        raise ShapeError("an SD-JWT presentation is issuer-jwt~disclosures~kb-jwt")
    parts = token.split("~")
    _, payload = decode_jwt_unverified(parts[0])
    document = dict(payload)
    for disclosure in parts[1:-1]:
        if not disclosure:
            continue
        try:
            item = json.loads(b64url_decode(disclosure))
        except ValueError as exc:
            raise ShapeError("disclosure is not base64url JSON") from exc
        if isinstance(item, list) and len(item) == 3 and isinstance(item[1], str):
            document.setdefault(item[1], item[2])
    nonce: str | None = None
    audience: list[str] = []
    if parts[-1]:
        _, kb = decode_jwt_unverified(parts[-1])
        nonce = kb.get("nonce") if isinstance(kb.get("nonce"), str) else None
        audience = [a for a in _as_list(kb.get("aud")) if isinstance(a, str)]
    cred = PresentedCredential(format="dc+sd-jwt", document=document, raw=token,
                               envelope=payload)
    return ParsedPresentation(format="dc+sd-jwt", raw=token, document=document, nonce=nonce,
                              audience=audience, credentials=[cred])


def parse_presentation(raw: Any, fmt: str) -> ParsedPresentation:
    """Dispatch on a DCQL format or PE ``descriptor_map[].format``."""
    if fmt in ("jwt_vp", "jwt_vp_json", "jwt_vc_json", "jwt_vc"):
        if not isinstance(raw, str):
            raise ShapeError(f"{fmt} presentation must be a JWT string")
        return parse_jwt_vp(raw)
    if fmt in ("ldp_vp", "ldp_vc"):
        return parse_ldp_vp(raw)
    if fmt in ("vc+sd-jwt", "dc+sd-jwt"):
        if not isinstance(raw, str):
            raise ShapeError(f"{fmt} presentation must be a string")
        return parse_sd_jwt(raw)
    raise ShapeError(f"unsupported format {fmt!r}")


__all__ = [
    "ParsedPresentation",
    "PresentedCredential",
    "ShapeError",
    "decode_jwt_unverified",
    "parse_credential",
    "parse_presentation",
]
