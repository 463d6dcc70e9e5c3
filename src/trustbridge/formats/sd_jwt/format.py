"""``CredentialFormat`` for SD-JWT VCs (SD-JWT VC draft, RFC 9901) and SD-JWT+KB presentations.

Mapping into the format-agnostic view (``formats.base``): the Processed SD-JWT
Payload becomes a VCDM 2.0-shaped ``credential`` -- ``vct`` → ``type``
``["VerifiableCredential", vct]``, ``iss`` → ``issuer``, ``sub`` →
``credentialSubject.id``, the other disclosed and plain claims →
``credentialSubject``, ``nbf``/``exp`` → ``validFrom``/``validUntil`` -- so the
format-agnostic checks (structure, validity, issuer trust) apply unchanged.
``status.status_list`` becomes a ``StatusEntry`` of type ``TokenStatusList``;
``cnf`` is the holder binding key. An SD-JWT+KB is itself the presentation: its
holder is the ``cnf`` key (DID or RFC 9278 thumbprint URI), nonce/aud/iat come from
the KB-JWT.

Crypto comes from ``trustbridge.crypto`` (JWS, JWK) and ``trustbridge.did`` (keys of
verification methods).
"""

from __future__ import annotations

import contextlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trustbridge.crypto.jwk import jwk_from_public_key, public_key_from_jwk
from trustbridge.crypto.jws import (
    DEFAULT_ALGS,
    RSA_ALGS,
    SignatureError,
    parse_compact_jws,
    verify_jws,
)
from trustbridge.did.interface import DIDError, public_key_of
from trustbridge.errors import FetchError, InputError
from trustbridge.formats.base import (
    CREDENTIAL_PROOF,
    PRESENTATION_PROOF,
    VCDM2_CONTEXT,
    FormatName,
    ParsedCredential,
    ParsedPresentation,
    RawInput,
    StatusEntry,
    ValidityDates,
    as_list,
    has_two_dots,
    parse_datetime,
)
from trustbridge.formats.jwt_vc_issuer import IssuerMetadataError, IssuerMetadataFetcher
from trustbridge.formats.sd_jwt.disclosures import (
    ProcessedPayload,
    SdJwtError,
    SdJwtParts,
    process_disclosures,
    sd_alg_of,
    split_sd_jwt,
)
from trustbridge.formats.sd_jwt.key_binding import check_kb_claims, holder_of
from trustbridge.formats.sd_jwt.x5c import verify_x5c
from trustbridge.model.report import CheckResult, CheckStatus
from trustbridge.status.bitstring import StatusListError
from trustbridge.status.token_status_list import CHECK as TOKEN_STATUS_CHECK
from trustbridge.status.token_status_list import TokenStatusList, parse_status_list_token

VC_TYPS = frozenset({"dc+sd-jwt", "vc+sd-jwt"})
"""SD-JWT VC §3.2.1: ``dc+sd-jwt``; ``vc+sd-jwt`` still accepted during the transition."""

NOT_DISCLOSABLE = frozenset({"iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"})
"""SD-JWT VC §3.2.2.2: these claims MUST NOT be selectively disclosed."""

ENVELOPE_CLAIMS = frozenset({"iss", "iat", "nbf", "exp", "cnf", "vct", "vct#integrity",
                             "status", "sub", "jti", "aud"})
UNTRUSTED_KEY_HEADERS = ("jwk", "jku", "x5u")


@dataclass(frozen=True)
class SdJwtMaterial:
    """Format-private state for the proof checks (``proof_material``)."""

    parts: SdJwtParts
    issuer_jws: Any
    payload: Mapping[str, Any]
    processed: ProcessedPayload | None = None
    kb_jws: Any = None
    kb_payload: Mapping[str, Any] | None = None


def _typ(header: Mapping[str, Any]) -> str | None:
    typ = header.get("typ")
    return typ.lower().removeprefix("application/") if isinstance(typ, str) else None


def _numeric_date(payload: Mapping[str, Any], name: str) -> datetime | None:
    value = payload.get(name)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return parse_datetime(value)


def _iso(value: datetime | None) -> str | None:
    return value.strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def _jws(token: str, what: str) -> tuple[Any, dict[str, Any]]:
    try:
        jws = parse_compact_jws(token)
        payload = jws.payload_json()
    except Exception as exc:  # crypto raises MalformedInput; anything else is malformed too
        raise InputError(f"the {what} is not a well-formed compact JWS: {exc}",
                         code="credential.malformed") from exc
    if not isinstance(payload, dict):
        raise InputError(f"the {what} payload is not a JSON object", code="credential.malformed")
    return jws, payload


def _split(obj: RawInput, what: str) -> SdJwtParts:
    if not isinstance(obj, str):
        raise InputError(f"an SD-JWT {what} is a compact string", code=f"{what}.malformed")
    try:
        return split_sd_jwt(obj)
    except SdJwtError as exc:
        raise InputError(str(exc), code=f"{what}.malformed") from exc


def token_status_entries(claims: Mapping[str, Any]) -> tuple[StatusEntry, ...]:
    """``status.status_list`` (Token Status List draft §6.2) as a ``TokenStatusList`` entry."""
    status = claims.get("status")
    ref = status.get("status_list") if isinstance(status, Mapping) else None
    if not isinstance(ref, Mapping):
        return ()
    idx = ref.get("idx")
    uri = ref.get("uri")
    return (StatusEntry(
        type="TokenStatusList", purpose=None,
        index=idx if isinstance(idx, int) and not isinstance(idx, bool) and idx >= 0 else None,
        list_credential=uri if isinstance(uri, str) else None, raw=dict(ref)),)


class SdJwtVcFormat:
    """SD-JWT VC credentials and SD-JWT+KB presentations."""

    name: FormatName = "sd_jwt_vc"

    def __init__(self, *, allow_rsa: bool = False,
                 issuer_metadata: IssuerMetadataFetcher | None = None,
                 x5c_trust_anchors: Sequence[Any] = ()) -> None:
        self.allowed_algs: frozenset[str] = frozenset(DEFAULT_ALGS) | (
            frozenset(RSA_ALGS) if allow_rsa else frozenset())
        self.issuer_metadata = issuer_metadata
        self.x5c_trust_anchors = tuple(x5c_trust_anchors)

    # -- detection and parsing (pure) ------------------------------------------------------

    def detect(self, obj: RawInput) -> bool:
        """A compact SD-JWT: a compact JWS, then ``~``-separated parts (RFC 9901 §4)."""
        if not isinstance(obj, str):
            return False
        head, sep, _ = obj.strip().partition("~")
        return bool(sep) and has_two_dots(head) and not head.startswith("{")

    def parse_credential(self, obj: RawInput) -> ParsedCredential:
        """Split, process the Disclosures (RFC 9901 §7.1 step 3), map into the VCDM view."""
        parts = _split(obj, "credential")
        jws, payload = _jws(parts.issuer_jwt, "Issuer-signed JWT")
        try:
            processed = process_disclosures(payload, parts.disclosures)
        except SdJwtError as exc:
            raise InputError(str(exc), code=exc.code) from exc
        forbidden = sorted(processed.top_level_disclosed & NOT_DISCLOSABLE)
        if forbidden:
            raise InputError(f"claims {forbidden} must not be selectively disclosed",
                             code="sd_jwt.claim_not_disclosable")
        claims = processed.claims
        vct = claims.get("vct")
        if not isinstance(vct, str) or not vct:
            raise InputError("an SD-JWT VC names its type in vct", code="sd_jwt.vct_missing")
        iss = claims.get("iss")
        issuer = iss if isinstance(iss, str) else None
        nbf, exp, iat = (_numeric_date(claims, c) for c in ("nbf", "exp", "iat"))
        unusable = [c for c in ("nbf", "exp", "iat") if c in claims and
                    _numeric_date(claims, c) is None]
        if unusable:  # never read a string/overflowing date as "no such bound"
            raise InputError(f"{unusable} not NumericDates (RFC 7519 §2)",
                             code="sd_jwt.malformed")
        subject: dict[str, Any] = {k: v for k, v in claims.items() if k not in ENVELOPE_CLAIMS}
        sub = claims.get("sub")
        if isinstance(sub, str):
            subject["id"] = sub
        credential: dict[str, Any] = {"@context": [VCDM2_CONTEXT],
                                      "type": ["VerifiableCredential", vct], "vct": vct,
                                      "credentialSubject": subject}
        if issuer is not None:
            credential["issuer"] = issuer
        if nbf is not None:
            credential["validFrom"] = _iso(nbf)
        if exp is not None:
            credential["validUntil"] = _iso(exp)
        header = dict(jws.header)
        cnf = claims.get("cnf")
        return ParsedCredential(
            format=self.name, raw=obj, credential=credential, issuer=issuer,
            subject_ids=(sub,) if isinstance(sub, str) else (),
            types=("VerifiableCredential", vct),
            status_entries=token_status_entries(claims),
            validity=ValidityDates(jwt_nbf=nbf, jwt_exp=exp, jwt_iat=iat, valid_from=nbf,
                                   valid_until=exp),
            signer_kid=header.get("kid") if isinstance(header.get("kid"), str) else None,
            holder_binding_key=cnf if isinstance(cnf, Mapping) else None,
            vcdm_version="2.0", header=header,
            proof_material=SdJwtMaterial(parts, jws, payload, processed))

    def parse_presentation(self, obj: RawInput) -> ParsedPresentation:
        """An SD-JWT+KB: one credential (itself), holder from ``cnf``, nonce/aud/iat from KB-JWT."""
        parts = _split(obj, "presentation")
        jws, payload = _jws(parts.issuer_jwt, "Issuer-signed JWT")
        kb_jws: Any = None
        kb: dict[str, Any] = {}
        if parts.kb_jwt is not None:
            kb_jws, kb = _jws(parts.kb_jwt, "Key Binding JWT")
        holder = holder_of(payload.get("cnf"))
        nonce = kb.get("nonce")
        presentation: dict[str, Any] = {"@context": [VCDM2_CONTEXT],
                                        "type": ["VerifiablePresentation"]}
        if holder is not None:
            presentation["holder"] = holder
        assert isinstance(obj, str)
        return ParsedPresentation(
            format=self.name, raw=obj, presentation=presentation, holder=holder,
            credentials=(obj.strip(),),
            nonce=nonce if isinstance(nonce, str) else None,
            audience=tuple(a for a in as_list(kb.get("aud")) if isinstance(a, str)),
            iat=_numeric_date(kb, "iat"), exp=_numeric_date(kb, "exp"),
            nbf=_numeric_date(kb, "nbf"), types=("VerifiablePresentation",),
            header=dict(kb_jws.header) if kb_jws is not None else {},
            proof_material=SdJwtMaterial(parts, jws, payload, None, kb_jws, kb or None))

    # -- proofs (I/O: DID resolution, issuer metadata) -------------------------------------

    async def check_credential_proof(
        self, parsed: ParsedCredential, resolver: Any, *, at: datetime
    ) -> CheckResult:
        """RFC 9901 §7.1 step 2 and SD-JWT VC §2.4/§2.5: the issuer signed the Issuer-signed JWT."""
        check = CREDENTIAL_PROOF
        material: SdJwtMaterial = parsed.proof_material
        header = parsed.header
        alg = header.get("alg")
        # 1. Algorithm allow-list (RFC 9901 §7.1 2.a / RFC 8725 §3.1): never none, never HMAC.
        if not isinstance(alg, str) or alg not in self.allowed_algs:
            return CheckResult.failed(check, "alg.not_allowed",
                                      f"signature algorithm {alg!r} is not allowed",
                                      alg=alg, allowed=sorted(self.allowed_algs))
        # 2. typ names an SD-JWT VC (SD-JWT VC §3.2.1; RFC 8725 §3.11).
        if _typ(header) not in VC_TYPS:
            return CheckResult.failed(check, "header.typ_invalid",
                                      f"typ {header.get('typ')!r} is not dc+sd-jwt",
                                      typ=header.get("typ"))
        # 3. Unknown critical extensions are rejected (RFC 7515 §4.1.11).
        if "crit" in header:
            return CheckResult.failed(check, "header.crit_unsupported",
                                      "the JWS header marks extensions critical",
                                      crit=header.get("crit"))
        # 4. The token may not name its own key (RFC 8725 §3.10); x5c only against anchors.
        embedded = [h for h in UNTRUSTED_KEY_HEADERS if h in header]
        if embedded:
            return CheckResult.failed(check, "header.untrusted_key",
                                      "the JWS header carries its own key material",
                                      headers=embedded)
        # 5. The issuer's key: DID (iss is a DID), x5c (anchored), or JWT VC Issuer Metadata.
        found = await self._issuer_keys(parsed.issuer, parsed.signer_kid, header, resolver, at)
        if isinstance(found, CheckResult):
            return found
        keys, source = found
        # 6. Verify the signature (RFC 7515 §5.2) with the candidate key(s).
        last: Exception | None = None
        for key in keys:
            try:
                verify_jws(material.issuer_jws, key, allowed_algs=self.allowed_algs)
            except SignatureError as exc:
                last = exc
                continue
            processed = material.processed
            return CheckResult.passed(
                check, f"signed by the issuer ({source})", alg=alg, key_source=source,
                kid=parsed.signer_kid, signer_jwk=jwk_from_public_key(key),
                disclosed=list(processed.disclosed_paths) if processed else [],
                undisclosed_digests=processed.hidden_digests if processed else 0)
        code = str(getattr(last, "code", None) or "signature.invalid")
        return CheckResult.failed(check, code, f"signature rejected: {last}", alg=alg,
                                  key_source=source, kid=parsed.signer_kid)

    async def _issuer_keys(self, iss: str | None, kid: str | None, header: Mapping[str, Any],
                           resolver: Any, at: datetime) -> tuple[list[Any], str] | CheckResult:
        check = CREDENTIAL_PROOF
        if not iss:
            return CheckResult.failed(check, "sd_jwt.issuer_key_unresolvable",
                                      "the SD-JWT names no issuer (iss)")
        if iss.startswith("did:"):
            return await self._did_key(iss, kid, resolver)
        if "x5c" in header:
            try:
                return [verify_x5c(header["x5c"], self.x5c_trust_anchors, iss=iss,
                                   at=at)], "x5c"
            except SdJwtError as exc:
                return CheckResult.failed(check, exc.code, str(exc), issuer=iss)
        if iss.startswith("https://"):
            return await self._metadata_keys(iss, kid)
        return CheckResult.failed(check, "sd_jwt.issuer_key_unresolvable",
                                  "iss is neither a DID nor an https URL, and no trusted x5c",
                                  issuer=iss)

    async def _did_key(self, iss: str, kid: str | None, resolver: Any
                       ) -> tuple[list[Any], str] | CheckResult:
        check = CREDENTIAL_PROOF
        if not kid:
            return CheckResult.failed(check, "kid.missing", "a DID issuer's JWS names no kid")
        if kid.startswith("#"):
            kid = iss + kid
        if kid.split("#", 1)[0].split("?", 1)[0] != iss:
            return CheckResult.failed(check, "kid.did_mismatch",
                                      "the kid belongs to a different DID than iss",
                                      kid=kid, issuer=iss)
        if resolver is None:
            return CheckResult.error(check, "did.resolver_unavailable",
                                     "no DID resolver is configured", kid=kid)
        try:
            method = await resolver.dereference(kid, relationship="assertionMethod")
        except DIDError as exc:
            reason = getattr(exc, "error", None) or "unresolvable"
            if getattr(exc, "transient", False):
                return CheckResult.error(check, "did.unresolvable",
                                         f"the issuer's DID could not be resolved now: {reason}",
                                         kid=kid)
            return CheckResult.failed(check, "kid.unresolvable",
                                      f"the kid is not an assertionMethod key of iss: {reason}",
                                      kid=kid)
        try:
            return [public_key_of(method)], "did"
        except Exception as exc:  # unusable key material in the issuer's own DID document
            return CheckResult.failed(check, "key.unsupported",
                                      f"the verification method's key cannot be used: {exc}",
                                      kid=kid)

    async def _metadata_keys(self, iss: str, kid: str | None
                             ) -> tuple[list[Any], str] | CheckResult:
        check = CREDENTIAL_PROOF
        if self.issuer_metadata is None:
            return CheckResult.error(check, "sd_jwt.issuer_metadata_unavailable",
                                     "JWT VC Issuer Metadata cannot be fetched here", issuer=iss)
        try:
            jwks = await self.issuer_metadata.fetch_jwks(iss)
        except FetchError as exc:
            return CheckResult.error(check, "sd_jwt.issuer_metadata_unavailable",
                                     f"the issuer's metadata could not be fetched: {exc.message}",
                                     issuer=iss, cause=exc.code)
        except IssuerMetadataError as exc:
            await self.issuer_metadata.forget(iss)
            return CheckResult.failed(check, exc.code, str(exc), issuer=iss)
        chosen = [k for k in jwks if kid is None or k.get("kid") == kid]
        if not chosen:
            await self.issuer_metadata.forget(iss)  # rotated keys show up on the next request
            return CheckResult.failed(check, "sd_jwt.issuer_key_not_found",
                                      "the issuer's metadata has no key with this kid",
                                      issuer=iss, kid=kid)
        keys: list[Any] = []
        for jwk in chosen:
            with contextlib.suppress(Exception):  # an unusable key among several: others may do
                keys.append(public_key_from_jwk(jwk))
        if not keys:
            return CheckResult.failed(check, "key.unsupported",
                                      "no key in the issuer's metadata can be used", issuer=iss)
        return keys, "jwt-vc-issuer-metadata"

    async def verify_status_list_token(
        self, token: str, *, uri: str, issuer: str | None, resolver: Any, at: datetime
    ) -> TokenStatusList | CheckResult:
        """A Status List Token (Token Status List draft §5.1, §8.3 step 3-4) signed by its issuer.

        The key comes from the same sources as an SD-JWT VC issuer's (DID, anchored x5c,
        JWT VC Issuer Metadata) for the token's ``iss`` or, without one, ``issuer`` (the
        referencing credential's). Any problem is an ``error`` status result: the list
        cannot say anything, so the status is unknown (as the pipeline treats W3C lists).
        """
        check = TOKEN_STATUS_CHECK
        try:
            jws, payload = _jws(token.strip(), "Status List Token")
        except InputError as exc:
            return CheckResult.error(check, "status.list_malformed", exc.message, list=uri)
        header = dict(jws.header)
        alg = header.get("alg")
        if not isinstance(alg, str) or alg not in self.allowed_algs:
            return CheckResult.error(check, "status.list_signature_invalid",
                                      f"algorithm {alg!r} is not allowed", list=uri)
        embedded = [h for h in (*UNTRUSTED_KEY_HEADERS, "crit") if h in header]
        if embedded:
            return CheckResult.error(check, "status.list_signature_invalid",
                                     "the token names its own key or critical headers",
                                     headers=embedded, list=uri)
        signer = payload.get("iss") if isinstance(payload.get("iss"), str) else issuer
        kid = header.get("kid") if isinstance(header.get("kid"), str) else None
        found = await self._issuer_keys(signer, kid, header, resolver, at)
        if isinstance(found, CheckResult):
            code = ("status.list_unavailable" if found.status == CheckStatus.ERROR
                    else "status.list_signature_invalid")
            return CheckResult.error(check, code, found.message, cause=found.code, list=uri)
        for key in found[0]:
            with contextlib.suppress(SignatureError):
                verify_jws(jws, key, allowed_algs=self.allowed_algs)
                break
        else:
            return CheckResult.error(check, "status.list_signature_invalid",
                                     "the Status List Token's signature does not verify",
                                     list=uri)
        try:
            return parse_status_list_token(header, payload, uri=uri)
        except StatusListError as exc:
            return CheckResult.error(check, exc.code, str(exc), list=uri)

    async def check_presentation_proof(
        self,
        parsed: ParsedPresentation,
        resolver: Any,
        *,
        challenge: str | None,
        domain: str | None,
        at: datetime,
    ) -> CheckResult:
        """RFC 9901 §7.3: a KB-JWT signed by the ``cnf`` key over exactly this SD-JWT.

        nonce/aud equality and ``iat`` freshness are judged by the replay check.
        """
        check = PRESENTATION_PROOF
        material: SdJwtMaterial = parsed.proof_material
        # 1. A presentation needs Key Binding (a bare SD-JWT is verified as a credential).
        if material.kb_jws is None or material.kb_payload is None:
            return CheckResult.failed(check, "sd_jwt.kb_missing",
                                      "the SD-JWT is presented without a Key Binding JWT")
        header = parsed.header
        alg = header.get("alg")
        # 2. Algorithm allow-list, as for the issuer.
        if not isinstance(alg, str) or alg not in self.allowed_algs:
            return CheckResult.failed(check, "alg.not_allowed",
                                      f"KB-JWT algorithm {alg!r} is not allowed", alg=alg)
        # 3. typ kb+jwt, iat/nonce/aud present, sd_hash over the presented SD-JWT (§7.3 2, 5).
        try:
            check_kb_claims(header, material.kb_payload, presented=material.parts.presented,
                            sd_alg=sd_alg_of(material.payload))
        except SdJwtError as exc:
            return CheckResult.failed(check, exc.code, str(exc))
        # 4. The key the issuer bound in cnf (RFC 7800): a JWK, or a DID URL in kid.
        key = await self._cnf_key(material.payload.get("cnf"), resolver)
        if isinstance(key, CheckResult):
            return key
        # 5. The KB-JWT's signature (§7.3 step 4).
        try:
            verify_jws(material.kb_jws, key, allowed_algs=self.allowed_algs)
        except SignatureError as exc:
            return CheckResult.failed(check, "sd_jwt.kb_signature_invalid",
                                      f"the KB-JWT is not signed by the cnf key: {exc}")
        return CheckResult.passed(check, "key binding proven by the cnf key",
                                  holder=parsed.holder, alg=alg,
                                  signer_jwk=jwk_from_public_key(key))

    async def _cnf_key(self, cnf: Any, resolver: Any) -> Any:
        check = PRESENTATION_PROOF
        if not isinstance(cnf, Mapping):
            return CheckResult.failed(check, "sd_jwt.cnf_missing",
                                      "the SD-JWT binds no holder key (cnf)")
        jwk = cnf.get("jwk")
        if isinstance(jwk, Mapping):
            if "d" in jwk:
                return CheckResult.failed(check, "sd_jwt.cnf_invalid", "cnf.jwk is a private key")
            try:
                return public_key_from_jwk(jwk)
            except Exception as exc:  # MalformedInput (key.invalid), or any other refusal
                return CheckResult.failed(check, "sd_jwt.cnf_invalid",
                                          f"cnf.jwk cannot be used: {exc}")
        kid = cnf.get("kid")
        if isinstance(kid, str) and kid.startswith("did:") and resolver is not None:
            try:
                return public_key_of(await resolver.dereference(kid,
                                                                relationship="authentication"))
            except DIDError as exc:
                if getattr(exc, "transient", False):
                    return CheckResult.error(check, "did.unresolvable",
                                             f"cnf.kid cannot be dereferenced now: {exc}", kid=kid)
                return CheckResult.failed(check, "kid.unresolvable",
                                          f"cnf.kid cannot be dereferenced: {exc}", kid=kid)
            except Exception as exc:  # unusable key material
                return CheckResult.failed(check, "key.unsupported", str(exc), kid=kid)
        return CheckResult.failed(check, "sd_jwt.cnf_invalid",
                                  "cnf has neither a jwk nor a DID URL kid")


__all__ = ["NOT_DISCLOSABLE", "VC_TYPS", "SdJwtMaterial", "SdJwtVcFormat",
           "token_status_entries"]
