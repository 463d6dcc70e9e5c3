"""JWT-encoded credentials and presentations: VCDM 1.1 §6.3.1 (``vc``/``vp`` claims, the
EBSI profile) and VCDM 2.0 VC-JOSE-COSE (``vc+jwt``/``vp+jwt``: the payload *is* the document).

Proof checking (steps 2 and 5) follows RFC 7515 §5.2 with the restrictions of
RFC 8725 (JWT BCP): an algorithm allow-list (never ``none``/HMAC), the key only
from the signer's DID document (``jwk``/``jku``/``x5u``/``x5c`` headers are not
trusted), unknown ``crit`` rejected, and the ``kid`` a DID URL of the signer's
own DID (``iss`` for a VC, the holder for a VP).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from trustbridge.crypto.base64url import b64url_decode
from trustbridge.crypto.jwk import jwk_from_public_key
from trustbridge.crypto.jws import (
    DEFAULT_ALGS,
    RSA_ALGS,
    SignatureError,
    parse_compact_jws,
    verify_jws,
)
from trustbridge.did.interface import DIDError, public_key_of
from trustbridge.errors import InputError
from trustbridge.formats.base import (
    CREDENTIAL_PROOF,
    PRESENTATION_PROOF,
    FormatName,
    ParsedCredential,
    ParsedPresentation,
    RawInput,
    as_list,
    embedded_validity,
    has_two_dots,
    issuer_id,
    parse_datetime,
    schemas_of,
    status_entries_of,
    subject_ids_of,
    types_of,
    vcdm_version_of,
)
from trustbridge.model.report import CheckResult

UNTRUSTED_KEY_HEADERS = ("jwk", "jku", "x5u", "x5c")
"""Headers that would let the token choose its own verification key (RFC 8725 §3.10)."""

VC_TYPS = frozenset({"jwt", "vc+jwt", "vc+ld+jwt"})
VP_TYPS = frozenset({"jwt", "vp+jwt", "vp+ld+jwt"})


@dataclass(frozen=True)
class _ProofKind:
    """What a JWS proof is checked as: the report's check name, the verification
    relationship its key must have in the signer's DID document, the ``typ`` values allowed."""

    check: str
    relationship: Literal["assertionMethod", "authentication"]
    typs: frozenset[str]


_VC_PROOF = _ProofKind(CREDENTIAL_PROOF, "assertionMethod", VC_TYPS)
_VP_PROOF = _ProofKind(PRESENTATION_PROOF, "authentication", VP_TYPS)
ENVELOPED_PREFIXES = ("data:application/vc+jwt,", "data:application/vc+ld+json+jwt,")


def _typ(header: Mapping[str, Any]) -> str | None:
    typ = header.get("typ")
    if not isinstance(typ, str):
        return None
    typ = typ.lower()
    return typ.removeprefix("application/")


def _date_claim(payload: Mapping[str, Any], name: str) -> datetime | None:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return parse_datetime(value)


def _date_claims(payload: Mapping[str, Any]
                 ) -> tuple[tuple[datetime | None, datetime | None, datetime | None], list[str]]:
    """``nbf``, ``exp``, ``iat`` as datetimes, and the names of those present but not a
    usable NumericDate (RFC 7519 §2: a string, a bool, a value beyond ``datetime``) --
    refused, never read as "no such bound"."""
    nbf, exp, iat = (_date_claim(payload, c) for c in ("nbf", "exp", "iat"))
    unusable = [c for c, value in (("nbf", nbf), ("exp", exp), ("iat", iat))
                if value is None and c in payload]
    return (nbf, exp, iat), unusable


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _did_of(did_url: str) -> str:
    return did_url.split("#", 1)[0].split("?", 1)[0]


class JwtVcFormat:
    """``CredentialFormat`` for compact JWS credentials and presentations."""

    name: FormatName = "jwt_vc"

    def __init__(self, *, allow_rsa: bool = False) -> None:
        self.allowed_algs: frozenset[str] = frozenset(DEFAULT_ALGS) | (
            frozenset(RSA_ALGS) if allow_rsa else frozenset())

    # -- detection and parsing (pure) ------------------------------------------------------

    def detect(self, obj: RawInput) -> bool:
        """A compact JWS: three dot-separated base64url parts and no SD-JWT ``~``."""
        if not isinstance(obj, str):
            return False
        text = obj.strip()
        return has_two_dots(text) and "~" not in text and not text.startswith("{")

    def _parse(self, obj: RawInput, what: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
        if not isinstance(obj, str):
            raise InputError(f"a JWT {what} must be a compact JWS string",
                             code=f"{what}.malformed")
        try:
            jws = parse_compact_jws(obj.strip())
            payload = jws.payload_json()
        except Exception as exc:
            peeked = _peek_header(obj)
            if peeked is not None and "crit" in peeked:
                # Reported precisely: the JOSE layer refuses crit while parsing.
                raise InputError("the JWS header marks extensions critical that are not "
                                 "supported", code="header.crit_unsupported") from exc
            raise InputError(f"the {what} is not a well-formed compact JWS: {exc}",
                             code=f"{what}.malformed") from exc
        header = dict(jws.header)
        if not isinstance(payload, dict):
            raise InputError(f"the {what} JWT payload is not a JSON object",
                             code=f"{what}.malformed")
        return jws, header, payload

    def parse_credential(self, obj: RawInput) -> ParsedCredential:
        """VCDM 1.1 §6.3.1 decoding (``vc`` claim) or VCDM 2.0 (payload is the VC)."""
        jws, header, payload = self._parse(obj, "credential")
        conflicts: list[str] = []
        # ``payload`` was parsed for this call alone, so filling claims in needs no copy.
        credential: dict[str, Any] = (payload["vc"] if isinstance(payload.get("vc"), dict)
                                      else payload)
        version = vcdm_version_of(credential)
        (nbf, exp, iat), unusable = _date_claims(payload)
        conflicts += unusable
        start_field, end_field = (("validFrom", "validUntil") if version == "2.0"
                                  else ("issuanceDate", "expirationDate"))
        # iss -> issuer
        iss = payload.get("iss")
        if isinstance(iss, str):
            embedded = issuer_id(credential)
            if embedded is None:
                if isinstance(credential.get("issuer"), dict):
                    credential["issuer"]["id"] = iss
                else:
                    credential["issuer"] = iss
            elif embedded != iss:
                conflicts.append("iss")
        # sub -> credentialSubject.id
        sub = payload.get("sub")
        subjects = [s for s in as_list(credential.get("credentialSubject"))
                    if isinstance(s, dict)]
        if isinstance(sub, str) and subjects:
            if len(subjects) == 1 and "id" not in subjects[0]:
                subjects[0]["id"] = sub
            elif sub not in [s.get("id") for s in subjects]:
                conflicts.append("sub")
        # jti -> id
        jti = payload.get("jti")
        if isinstance(jti, str):
            if "id" not in credential:
                credential["id"] = jti
            elif credential["id"] != jti:
                conflicts.append("jti")
        # nbf -> issuanceDate/validFrom, exp -> expirationDate/validUntil (only if absent;
        # when present, the validity check compares them).
        if nbf is not None and start_field not in credential and "validFrom" not in credential:
            credential[start_field] = _iso(nbf)
        if exp is not None and end_field not in credential and "validUntil" not in credential:
            credential[end_field] = _iso(exp)
        cnf = payload.get("cnf")
        return ParsedCredential(
            format=self.name,
            raw=obj,
            credential=credential,
            issuer=issuer_id(credential),
            subject_ids=subject_ids_of(credential),
            types=types_of(credential),
            schemas=schemas_of(credential),
            status_entries=status_entries_of(credential),
            validity=embedded_validity(credential, jwt_nbf=nbf, jwt_exp=exp, jwt_iat=iat),
            signer_kid=header.get("kid") if isinstance(header.get("kid"), str) else None,
            holder_binding_key=cnf if isinstance(cnf, dict) else None,
            vcdm_version=version,
            header=header,
            proof_material=jws,
            claim_conflicts=tuple(conflicts),
        )

    def parse_presentation(self, obj: RawInput) -> ParsedPresentation:
        """VCDM 1.1 §6.3.1 (``vp`` claim; ``iss`` is the holder) or VCDM 2.0 ``vp+jwt``."""
        jws, header, payload = self._parse(obj, "presentation")
        conflicts: list[str] = []
        presentation: dict[str, Any] = (payload["vp"] if isinstance(payload.get("vp"), dict)
                                        else payload)
        (nbf, exp, iat), unusable = _date_claims(payload)
        conflicts += unusable
        iss = payload.get("iss")
        holder_claim = presentation.get("holder")
        holder_embedded = (holder_claim if isinstance(holder_claim, str)
                           else holder_claim.get("id") if isinstance(holder_claim, dict)
                           else None)
        holder = holder_embedded if isinstance(holder_embedded, str) else None
        if isinstance(iss, str):
            if holder is None:
                holder = iss
                presentation["holder"] = iss
            elif holder != iss:
                conflicts.append("iss")
        jti = payload.get("jti")
        if isinstance(jti, str) and "id" not in presentation:
            presentation["id"] = jti
        aud = tuple(a for a in as_list(payload.get("aud")) if isinstance(a, str))
        nonce = payload.get("nonce")
        credentials: list[RawInput] = []
        for item in as_list(presentation.get("verifiableCredential")):
            credentials.append(_unenvelope(item))
        return ParsedPresentation(
            format=self.name,
            raw=obj,
            presentation=presentation,
            holder=holder,
            credentials=tuple(credentials),
            nonce=nonce if isinstance(nonce, str) else None,
            audience=aud,
            iat=iat,
            exp=exp,
            nbf=nbf,
            types=types_of(presentation),
            signer_kid=header.get("kid") if isinstance(header.get("kid"), str) else None,
            header=header,
            proof_material=jws,
            claim_conflicts=tuple(conflicts),
        )

    # -- proofs (I/O: DID resolution) -----------------------------------------------------

    async def check_credential_proof(
        self, parsed: ParsedCredential, resolver: Any, *, at: datetime
    ) -> CheckResult:
        """Step 5: signed by a key in the issuer's ``assertionMethod``."""
        return await self._check_proof(_VC_PROOF, parsed.proof_material, parsed.header,
                                       parsed.issuer, resolver)

    async def check_presentation_proof(
        self,
        parsed: ParsedPresentation,
        resolver: Any,
        *,
        challenge: str | None,
        domain: str | None,
        at: datetime,
    ) -> CheckResult:
        """Step 2: signed by a key in the holder's ``authentication`` (nonce/aud: replay check)."""
        return await self._check_proof(_VP_PROOF, parsed.proof_material, parsed.header,
                                       parsed.holder, resolver)

    async def check_signed_jwt(
        self, token: str, resolver: Any, *, check: str, typs: frozenset[str]
    ) -> tuple[CheckResult, Mapping[str, Any], Mapping[str, Any]]:
        """Steps 1-7 for any DID-signed compact JWS whose ``iss`` is the signer (e.g. an IETF
        Status List Token): the result plus the header and payload (empty when unparseable)."""
        try:
            jws = parse_compact_jws(token.strip())
            payload = jws.payload_json()
        except Exception as exc:
            return (CheckResult.failed(check, "jws.malformed", f"not a compact JWS: {exc}"),
                    {}, {})
        header = dict(jws.header)
        if not isinstance(payload, dict):
            return CheckResult.failed(check, "jws.malformed", "payload is not an object"), {}, {}
        iss = payload.get("iss")
        result = await self._check_proof(_ProofKind(check, "assertionMethod", typs), jws, header,
                                         iss if isinstance(iss, str) else None, resolver)
        return result, header, payload

    def credential_proof_now(self, parsed: ParsedCredential, resolver: Any
                             ) -> CheckResult | None:
        """``check_credential_proof`` without awaiting, or None when the issuer's DID must
        be resolved first (the pipeline then awaits the full check)."""
        return self._proof_now(_VC_PROOF, parsed.proof_material, parsed.header, parsed.issuer,
                               resolver)

    def presentation_proof_now(self, parsed: ParsedPresentation, resolver: Any
                               ) -> CheckResult | None:
        """``check_presentation_proof`` without awaiting, or None (as above, for the holder)."""
        return self._proof_now(_VP_PROOF, parsed.proof_material, parsed.header, parsed.holder,
                               resolver)

    def _proof_now(self, kind: _ProofKind, jws: Any, header: Mapping[str, Any],
                   signer: str | None, resolver: Any) -> CheckResult | None:
        """Steps 1-7 when nothing needs resolving: the header fails on its own, or the
        resolver holds the key in memory (did:key/did:jwk, ``dereference_memo``). Hot path:
        an uncached verification's proofs then cost no task, timer or event-loop turn."""
        kid = self._proof_kid(kind, header, signer)
        if isinstance(kid, CheckResult):
            return kid
        memo = getattr(resolver, "dereference_memo", None)
        method = memo(kid, kind.relationship) if memo is not None else None
        if method is None:
            return None
        return self._proof_result(kind.check, jws, method, kid, header.get("alg"))

    async def _check_proof(self, kind: _ProofKind, jws: Any, header: Mapping[str, Any],
                           signer: str | None, resolver: Any) -> CheckResult:
        kid = self._proof_kid(kind, header, signer)
        if isinstance(kid, CheckResult):
            return kid
        check, relationship = kind.check, kind.relationship
        # 6. Dereference the kid with the right verification relationship.
        if resolver is None:
            return CheckResult.error(check, "did.resolver_unavailable",
                                     "no DID resolver is configured", kid=kid)
        try:
            method = await resolver.dereference(kid, relationship=relationship)
        except DIDError as exc:
            reason = getattr(exc, "error", None) or "unresolvable"
            if getattr(exc, "transient", False):
                return CheckResult.error(check, "did.unresolvable",
                                         f"the signer's DID could not be resolved now: {reason}",
                                         kid=kid, error=reason)
            return CheckResult.failed(check, "kid.unresolvable",
                                      f"the kid is not a {relationship} key of the signer: "
                                      f"{reason}", kid=kid, error=reason)
        return self._proof_result(check, jws, method, kid, header.get("alg"))

    def _proof_kid(self, kind: _ProofKind, header: Mapping[str, Any], signer: str | None
                   ) -> CheckResult | str:
        """Steps 1-5, from the header alone: the failed check, or the signer's absolute kid."""
        check = kind.check
        alg = header.get("alg")
        # 1. Algorithm allow-list (RFC 8725 §3.1/§3.2): never "none", never HMAC.
        if not isinstance(alg, str) or alg not in self.allowed_algs:
            return CheckResult.failed(check, "alg.not_allowed",
                                      f"signature algorithm {alg!r} is not allowed",
                                      alg=alg, allowed=sorted(self.allowed_algs))
        # 2. The key comes from the signer's DID document only (RFC 8725 §3.10).
        embedded = [h for h in UNTRUSTED_KEY_HEADERS if h in header]
        if embedded:
            return CheckResult.failed(check, "header.untrusted_key",
                                      "the JWS header carries its own key material",
                                      headers=embedded)
        # 3. Critical extensions we do not understand MUST be rejected (RFC 7515 §4.1.11).
        if "crit" in header:
            return CheckResult.failed(check, "header.crit_unsupported",
                                      "the JWS header marks extensions critical that are not "
                                      "supported", crit=header.get("crit"))
        # 4. typ, when present, names this kind of document (RFC 8725 §3.11).
        typ = _typ(header)
        if "typ" in header and (typ is None or typ not in kind.typs):
            document = "credential" if check == CREDENTIAL_PROOF else "presentation"
            return CheckResult.failed(check, "header.typ_invalid",
                                      f"JWS typ {header.get('typ')!r} does not fit a {document}",
                                      typ=header.get("typ"))
        # 5. kid: a DID URL of the signer's own DID (EBSI JWT profile; VCDM 1.1 §6.3.1).
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            return CheckResult.failed(check, "kid.missing", "the JWS header has no kid")
        if not signer:
            return CheckResult.failed(check, "kid.did_mismatch",
                                      "the token names no signer DID to hold the kid against")
        if kid.startswith("#"):
            kid = signer + kid
        if _did_of(kid) != signer:
            return CheckResult.failed(check, "kid.did_mismatch",
                                      "the kid belongs to a different DID than the signer",
                                      kid=kid, signer=signer)
        return kid

    def _proof_result(self, check: str, jws: Any, method: Any, kid: str, alg: Any
                      ) -> CheckResult:
        """Steps 6 (the key of the dereferenced method) and 7 (the signature), no I/O."""
        try:
            key = public_key_of(method)
        except Exception as exc:  # unusable key material in the signer's own DID document
            return CheckResult.failed(check, "key.unsupported",
                                      f"the verification method's key cannot be used: {exc}",
                                      kid=kid)
        # 7. Verify the signature over the JWS signing input (RFC 7515 §5.2 steps 8-9).
        try:
            verify_jws(jws, key, allowed_algs=self.allowed_algs)
        except SignatureError as exc:
            code = getattr(exc, "code", None) or "signature.invalid"
            return CheckResult.failed(check, str(code), f"signature rejected: {exc}",
                                      kid=kid, alg=alg)
        return CheckResult.passed(check, f"signed by {kid}", kid=kid, alg=alg,
                                  signer_jwk=jwk_from_public_key(key))


def _peek_header(token: str) -> dict[str, Any] | None:
    """The JOSE header, leniently decoded, only to name a refusal precisely (never trusted)."""
    try:
        header = json.loads(b64url_decode(token.strip().split(".", 1)[0]))
    except (ValueError, UnicodeDecodeError):
        return None
    return header if isinstance(header, dict) else None


def _unenvelope(item: Any) -> RawInput:
    """A VP's credential: a JWT string, a JSON object, or a VCDM 2.0 EnvelopedVerifiableCredential
    whose ``id`` is a ``data:application/vc+jwt,`` URL (VC-JOSE-COSE §3.2)."""
    if isinstance(item, Mapping):
        ident = item.get("id")
        if "EnvelopedVerifiableCredential" in as_list(item.get("type")) and isinstance(ident, str):
            for prefix in ENVELOPED_PREFIXES:
                if ident.startswith(prefix):
                    return ident[len(prefix):]
        return item
    if isinstance(item, str):
        return item
    raise InputError("a verifiableCredential entry is neither a JWT nor an object",
                     code="presentation.malformed")


__all__ = ["UNTRUSTED_KEY_HEADERS", "JwtVcFormat"]
