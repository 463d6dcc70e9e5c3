"""Does a wallet's response answer the request? Pure functions over decoded, untrusted data.

Two query languages:

* DCQL (OpenID4VP 1.0 section 6, 8.1): ``vp_token`` is an object keyed by
  credential query id; each entry holds the presentations answering that query;
  ``credential_sets`` say which combinations suffice (section 6.4.2).
* DIF Presentation Exchange v2 (pre-final drafts): ``presentation_submission``
  maps each input descriptor to a JSONPath into ``vp_token`` (``path``, then
  ``path_nested`` into the decoded presentation), and each descriptor's
  ``constraints.fields`` must hold on the credential found there.

Matching never decides validity: every presentation returned here is then
verified by the pipeline with the session's nonce and client_id.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import jsonschema
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trustbridge.errors import InputError
from trustbridge.oid4vp.paths import parse_json_path, select_claim, select_path
from trustbridge.oid4vp.presentation import (
    ParsedPresentation,
    PresentedCredential,
    ShapeError,
    parse_credential,
    parse_presentation,
)
from trustbridge.oid4vp.query import (
    PE_VC_FORMATS,
    PE_VP_FORMATS,
    ClaimsQuery,
    CredentialQuery,
    DcqlQuery,
    InputDescriptor,
    PexFilterField,
    PresentationDefinition,
)
from trustbridge.oid4vp.response import WalletResponseError

MAX_PRESENTATIONS = 16


@dataclass
class MatchResult:
    """Which presentations answered which query ids; each presentation once."""

    presentations: list[ParsedPresentation] = field(default_factory=list)
    answered: dict[str, list[str]] = field(default_factory=dict)  # query id -> credential types


def _reject(code: str, description: str, error: str = "invalid_request") -> WalletResponseError:
    return WalletResponseError(code, description, error=error)


# --- shared predicates -------------------------------------------------------------------------

def type_matches(required: str, actual: list[str]) -> bool:
    """A requested type (compact or expanded IRI) against a credential's ``type`` values.

    OpenID4VP 1.0 B.1.1 compares fully expanded IRIs; without a JSON-LD expansion
    here, an expanded IRI matches a compact term equal to its fragment or last path
    segment. A JSON-LD-aware check of the types is part of verification proper.
    """
    for t in actual:
        if t == required:
            return True
        for a, b in ((required, t), (t, required)):
            if "://" in a and "://" not in b and (a.endswith("#" + b) or a.endswith("/" + b)):
                return True
    return False


def schema_ids(cred: PresentedCredential) -> list[str]:
    raw = cred.document.get("credentialSchema")
    items = raw if isinstance(raw, list) else [raw]
    return [i["id"] for i in items if isinstance(i, dict) and isinstance(i.get("id"), str)]


# --- DCQL ---------------------------------------------------------------------------------------

def _claim_ok(cred: PresentedCredential, claim: ClaimsQuery) -> bool:
    found = select_claim(cred.document, list(claim.path))
    if not found:
        return False
    if claim.values is None:
        return True
    return any(type(v) is type(w) and v == w for v in found for w in claim.values)


def _credential_fits(cred: PresentedCredential, query: CredentialQuery,
                     required_schema: str | None) -> str | None:
    """None when ``cred`` answers ``query``, else why not."""
    if query.format in ("jwt_vc_json", "ldp_vc"):
        alternatives = query.meta.get("type_values")
        if isinstance(alternatives, list) and alternatives and not any(
            isinstance(alt, list) and all(type_matches(t, cred.types) for t in alt)
            for alt in alternatives
        ):
            return f"credential types {cred.types} match none of {alternatives}"
    else:
        vcts = query.meta.get("vct_values")
        if isinstance(vcts, list) and vcts and cred.document.get("vct") not in vcts:
            return f"vct {cred.document.get('vct')!r} not in {vcts}"
    if required_schema is not None and required_schema not in schema_ids(cred):
        return f"credentialSchema {schema_ids(cred)} is not {required_schema!r}"
    claims = query.claims or []
    if query.claim_sets:
        by_id = {c.id: c for c in claims}
        if not any(all(_claim_ok(cred, by_id[i]) for i in option) for option in query.claim_sets):
            return "no claim set is satisfied"
    else:
        missing = [c.path for c in claims if not _claim_ok(cred, c)]
        if missing:
            return f"claims missing or not matching: {missing}"
    return None


def match_dcql(query: DcqlQuery, vp_token: Any, *,
               required_schema: str | None = None) -> MatchResult:
    """OpenID4VP 1.0 section 8.1 and 8.6: the VP Token against the DCQL query."""
    if not isinstance(vp_token, dict):
        raise _reject("oid4vp.vp_token_malformed",
                      "vp_token must be a JSON object keyed by credential query id")
    by_id = {c.id: c for c in query.credentials}
    unknown = [k for k in vp_token if k not in by_id]
    if unknown:
        raise _reject("oid4vp.submission_mismatch", f"vp_token has unknown query ids {unknown}")
    result = MatchResult()
    total = 0
    for qid, entries in vp_token.items():
        cq = by_id[qid]
        if not isinstance(entries, list) or not entries:
            raise _reject("oid4vp.vp_token_malformed",
                          f"vp_token[{qid!r}] must be a non-empty array")
        if not cq.multiple and len(entries) > 1:
            raise _reject("oid4vp.submission_mismatch",
                          f"query {qid!r} allows one presentation, got {len(entries)}")
        total += len(entries)
        if total > MAX_PRESENTATIONS:
            raise _reject("oid4vp.vp_token_too_large", "too many presentations")
        types: list[str] = []
        for raw in entries:
            try:
                parsed = parse_presentation(raw, cq.format)
            except ShapeError as exc:
                raise _reject("oid4vp.format_mismatch",
                              f"vp_token[{qid!r}] is not {cq.format}: {exc}") from exc
            if not parsed.credentials:
                raise _reject("oid4vp.submission_mismatch",
                              f"presentation for {qid!r} holds no credential")
            reasons = [_credential_fits(c, cq, required_schema) for c in parsed.credentials]
            if all(r is not None for r in reasons):
                raise _reject("oid4vp.submission_mismatch",
                              f"presentation for {qid!r} does not match the query: {reasons[0]}")
            types += [t for c in parsed.credentials for t in c.types]
            result.presentations.append(parsed)
        result.answered[qid] = types
    _check_credential_sets(query, set(result.answered))
    return result


def _check_credential_sets(query: DcqlQuery, answered: set[str]) -> None:
    if query.credential_sets is None:
        missing = [c.id for c in query.credentials if c.id not in answered]
        if missing:
            raise _reject("oid4vp.submission_mismatch", f"no presentation for {missing}")
        return
    for cs in query.credential_sets:
        if cs.required and not any(set(opt) <= answered for opt in cs.options):
            raise _reject("oid4vp.submission_mismatch",
                          f"no option of a required credential set is satisfied: {cs.options}")


def check_binding(result: MatchResult, *, nonce: str, client_id: str) -> None:
    """Section 14.1.2: every presentation names this transaction's nonce and client_id.

    A first, unverified look so the wallet and the HR system get a precise code;
    the pipeline then checks the same binding under the verified signature.
    """
    for p in result.presentations:
        if p.nonce != nonce:
            raise _reject("nonce.mismatch",
                          "a presentation does not carry the nonce of this request")
        if client_id not in p.audience:
            raise _reject("audience.mismatch",
                          "a presentation is not addressed to this verifier's client_id")


# --- Presentation Exchange ---------------------------------------------------------------------

class _Nested(BaseModel):
    model_config = ConfigDict(extra="allow")

    format: str
    path: str
    path_nested: _Nested | None = None


class DescriptorMapEntry(_Nested):
    """One ``descriptor_map`` entry: which input descriptor, where, in which format."""

    id: str


class PresentationSubmission(BaseModel):
    """DIF PE v2 ``presentation_submission``."""

    model_config = ConfigDict(extra="allow")

    id: str
    definition_id: str
    descriptor_map: list[DescriptorMapEntry] = Field(min_length=1, max_length=MAX_PRESENTATIONS)


def validate_definition(definition: PresentationDefinition) -> None:
    """Refuse, at request creation, paths and filters this verifier could not evaluate."""
    for desc in definition.input_descriptors:
        for f in desc.constraints.fields:
            for p in f.path:
                parse_json_path(p)
            if f.filter is not None:
                try:
                    cls = jsonschema.validators.validator_for(f.filter,
                                                              default=jsonschema.Draft7Validator)
                    cls.check_schema(f.filter)
                except jsonschema.SchemaError as exc:
                    raise InputError(f"input descriptor {desc.id!r}: invalid filter: "
                                     f"{exc.message}", code="oid4vp.definition_invalid") from exc
                if "$ref" in str(f.filter):
                    raise InputError("filters must not use $ref", code="oid4vp.definition_invalid")


def _allowed_formats(definition: PresentationDefinition, desc: InputDescriptor) -> set[str] | None:
    fmt = desc.format or definition.format
    return set(fmt) if fmt else None


def _field_ok(cred: PresentedCredential, f: PexFilterField) -> bool:
    roots = [cred.envelope, cred.document] if cred.envelope is not None else [cred.document]
    for path in f.path:
        for root in roots:
            values = select_path(root, path)
            if not values:
                continue
            if f.filter is None:
                return True
            cls = jsonschema.validators.validator_for(f.filter, default=jsonschema.Draft7Validator)
            validator = cls(f.filter)
            if any(validator.is_valid(v) for v in values):
                return True
    return False


def _nested_credential(parsed: ParsedPresentation, nested: _Nested) -> PresentedCredential:
    """``path_nested`` is evaluated on the decoded presentation (JWT payload or VP object)."""
    found = select_path(parsed.document, nested.path)
    vp = parsed.document.get("vp")
    if not found and isinstance(vp, dict):
        found = select_path(vp, nested.path)
    if len(found) != 1:
        raise _reject("oid4vp.submission_mismatch",
                      f"path_nested {nested.path!r} selects {len(found)} values, expected 1")
    if nested.format not in PE_VC_FORMATS:
        raise _reject("oid4vp.format_mismatch", f"unsupported nested format {nested.format!r}")
    try:
        cred = parse_credential(found[0])
    except ShapeError as exc:
        raise _reject("oid4vp.format_mismatch", f"nested credential: {exc}") from exc
    jwt_like = nested.format in ("jwt_vc", "jwt_vc_json")
    if jwt_like != (cred.format == "jwt_vc_json") and cred.format != "dc+sd-jwt":
        raise _reject("oid4vp.format_mismatch",
                      f"nested credential is {cred.format}, submission says {nested.format}")
    return cred


def match_pex(definition: PresentationDefinition, submission_raw: dict[str, Any] | None,
              vp_token: Any) -> MatchResult:
    """DIF PE v2 section 'Presentation Submission': descriptor map, formats, field filters."""
    if submission_raw is None:
        raise _reject("oid4vp.submission_missing", "presentation_submission is required")
    try:
        submission = PresentationSubmission.model_validate(submission_raw)
    except ValidationError as exc:
        raise _reject("oid4vp.submission_malformed",
                      f"presentation_submission is malformed: {exc.error_count()} errors") from exc
    if submission.definition_id != definition.id:
        raise _reject("oid4vp.submission_mismatch",
                      f"definition_id {submission.definition_id!r} is not {definition.id!r}")
    descriptors = {d.id: d for d in definition.input_descriptors}
    result = MatchResult()
    outer: dict[str, ParsedPresentation] = {}
    for entry in submission.descriptor_map:
        desc = descriptors.get(entry.id)
        if desc is None:
            raise _reject("oid4vp.submission_mismatch", f"unknown input descriptor {entry.id!r}")
        if entry.format not in PE_VP_FORMATS:
            raise _reject("oid4vp.format_mismatch", f"unsupported format {entry.format!r}")
        allowed = _allowed_formats(definition, desc)
        used = {entry.format} | ({entry.path_nested.format} if entry.path_nested else set())
        if allowed is not None and not used & allowed:
            raise _reject("oid4vp.format_mismatch",
                          f"descriptor {entry.id!r} allows {sorted(allowed)}, got {sorted(used)}")
        try:
            targets = select_path(vp_token, entry.path)
        except InputError as exc:
            raise _reject("oid4vp.submission_malformed", exc.message) from exc
        if len(targets) != 1:
            raise _reject("oid4vp.submission_mismatch",
                          f"path {entry.path!r} selects {len(targets)} values, expected 1")
        parsed = outer.get(entry.path)
        if parsed is None:
            try:
                parsed = parse_presentation(targets[0], entry.format)
            except ShapeError as exc:
                raise _reject("oid4vp.format_mismatch",
                              f"{entry.path!r} is not {entry.format}: {exc}") from exc
            outer[entry.path] = parsed
            result.presentations.append(parsed)
        if entry.path_nested is not None:
            try:
                cred = _nested_credential(parsed, entry.path_nested)
            except InputError as exc:
                raise _reject("oid4vp.submission_malformed", exc.message) from exc
        elif len(parsed.credentials) == 1:
            cred = parsed.credentials[0]
        else:
            raise _reject("oid4vp.submission_mismatch",
                          f"descriptor {entry.id!r} needs path_nested to pick a credential")
        missing = [f.path for f in desc.constraints.fields if not f.optional
                   and not _field_ok(cred, f)]
        if missing:
            raise _reject("oid4vp.submission_mismatch",
                          f"credential for {entry.id!r} fails constraints at {missing}")
        result.answered[entry.id] = cred.types
    unanswered = [d for d in descriptors if d not in result.answered]
    if unanswered and not definition.submission_requirements:
        raise _reject("oid4vp.submission_mismatch", f"no credential for {unanswered}")
    return result


__all__ = [
    "DescriptorMapEntry",
    "MatchResult",
    "PresentationSubmission",
    "check_binding",
    "match_dcql",
    "match_pex",
    "schema_ids",
    "type_matches",
    "validate_definition",
]
