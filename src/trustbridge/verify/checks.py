"""The numbered verification steps as pure functions: parsed input + facts in, ``CheckResult`` out.

Each step cites the spec section it implements so the code can be held against
the spec. No function here does I/O, reads the clock, or raises for bad data.
Step numbers follow issue 14 and the README's "verification semantics":

1. structure  2. presentation proof (format)  3. holder binding  4. replay
5. credential proof (format)  6. validity window  7. status  8. schema
9. issuer trust  10. micro-credential profile (``trustbridge.microcred``)
"""

from __future__ import annotations

import json
from collections import OrderedDict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from trustbridge.formats.base import (
    VCDM1_CONTEXT,
    VCDM2_CONTEXT,
    ParsedCredential,
    ParsedPresentation,
    as_list,
)
from trustbridge.model.report import CheckResult, CheckStatus
from trustbridge.status.statuslist import check_status_entry
from trustbridge.status.token_status_list import TokenStatusList, check_token_status_entry
from trustbridge.verify.facts import SchemaFact, StatusFact, TrustFact

MAX_CREDENTIALS_PER_PRESENTATION = 32
MAX_SCHEMA_ERRORS = 10

STRUCTURE = "structure"
HOLDER_BINDING = "holder_binding"
REPLAY = "replay"
VALIDITY = "validity"
STATUS = "status"
SCHEMA = "schema"
ISSUER_TRUST = "issuer_trust"
MICROCREDENTIAL = "microcredential"


def _did_of(did_url: str | None) -> str | None:
    """The DID part of a DID URL (drop fragment, query and path)."""
    if not did_url:
        return None
    did = did_url.split("#", 1)[0].split("?", 1)[0]
    if did.startswith("did:"):
        did = did.split("/", 1)[0]
    return did


def _context_ok(document: Mapping[str, Any]) -> bool:
    contexts = as_list(document.get("@context"))
    return bool(contexts) and contexts[0] in (VCDM1_CONTEXT, VCDM2_CONTEXT)


# 1. Structure -- VCDM 1.1 §4 / VCDM 2.0 §4 (required properties, type, @context).

def check_presentation_structure(
    pp: ParsedPresentation, *, max_credentials: int = MAX_CREDENTIALS_PER_PRESENTATION
) -> CheckResult:
    """VP: @context (§4.1), type VerifiablePresentation (§4.4), holder, credential count."""
    if not _context_ok(pp.presentation):
        return CheckResult.failed(STRUCTURE, "structure.context_invalid",
                                  "the presentation's first @context is not a VC Data Model one")
    if "VerifiablePresentation" not in pp.types:
        return CheckResult.failed(STRUCTURE, "structure.type_missing",
                                  "type does not include VerifiablePresentation",
                                  types=list(pp.types))
    if pp.claim_conflicts:
        return CheckResult.failed(STRUCTURE, "structure.claims_inconsistent",
                                  "JWT claims contradict the embedded presentation",
                                  conflicts=list(pp.claim_conflicts))
    if not pp.holder:
        return CheckResult.failed(STRUCTURE, "structure.holder_missing",
                                  "the presentation names no holder (iss/holder)")
    if not pp.credentials:
        return CheckResult.failed(STRUCTURE, "structure.no_credentials",
                                  "the presentation carries no verifiableCredential")
    if len(pp.credentials) > max_credentials:
        return CheckResult.failed(STRUCTURE, "structure.too_many_credentials",
                                  f"more than {max_credentials} credentials in one presentation",
                                  count=len(pp.credentials))
    return CheckResult.passed(STRUCTURE, "well-formed presentation", format=pp.format,
                              credentials=len(pp.credentials))


def check_credential_structure(pc: ParsedCredential) -> CheckResult:
    """VC: @context (§4.1), type VerifiableCredential (§4.4), issuer (§4.7), subject (§4.6),
    issuanceDate in 1.1 (§4.8), and dates that parse (§4.8 / 2.0 §4.9)."""
    cred = pc.credential
    if not _context_ok(cred):
        return CheckResult.failed(STRUCTURE, "structure.context_invalid",
                                  "the credential's first @context is not a VC Data Model one")
    if "VerifiableCredential" not in pc.types:
        return CheckResult.failed(STRUCTURE, "structure.type_missing",
                                  "type does not include VerifiableCredential",
                                  types=list(pc.types))
    if pc.claim_conflicts:
        return CheckResult.failed(STRUCTURE, "structure.claims_inconsistent",
                                  "JWT claims contradict the embedded credential",
                                  conflicts=list(pc.claim_conflicts))
    if not pc.issuer:
        return CheckResult.failed(STRUCTURE, "structure.issuer_missing",
                                  "the credential has no issuer")
    if not [s for s in as_list(cred.get("credentialSubject")) if isinstance(s, Mapping)]:
        return CheckResult.failed(STRUCTURE, "structure.subject_missing",
                                  "the credential has no credentialSubject")
    fields = ("issuanceDate", "validFrom", "expirationDate", "validUntil")
    v = pc.validity
    parsed = (v.issuance_date, v.valid_from, v.expiration_date, v.valid_until)
    for name, value in zip(fields, parsed, strict=True):
        if name in cred and value is None:
            return CheckResult.failed(STRUCTURE, "structure.date_malformed",
                                      f"{name} is not an XML Schema dateTime", field=name)
    if pc.vcdm_version == "1.1" and v.issuance_date is None:
        return CheckResult.failed(STRUCTURE, "structure.issuance_date_missing",
                                  "VCDM 1.1 requires issuanceDate")
    return CheckResult.passed(STRUCTURE, "well-formed credential", format=pc.format,
                              vcdm=pc.vcdm_version)


# 3. Holder binding -- VCDM 1.1 §C (subject-holder relationship), SD-JWT VC §3.2.2.2 (cnf).

def check_holder_binding(
    pp: ParsedPresentation,
    pc: ParsedCredential,
    *,
    required: bool,
    signer_jwk: Mapping[str, Any] | None = None,
) -> CheckResult:
    """The VP signer is the subject (``credentialSubject.id``) or holds its ``cnf`` key."""
    holder = _did_of(pp.holder)
    subjects = [_did_of(s) for s in pc.subject_ids]
    details: dict[str, Any] = {"holder": pp.holder, "subjects": list(pc.subject_ids)}
    bound = holder is not None and holder in subjects
    cnf = pc.holder_binding_key
    if not bound and cnf is not None:
        kid = cnf.get("kid")
        if isinstance(kid, str) and holder is not None and _did_of(kid) == holder:
            bound = True
        jwk = cnf.get("jwk")
        if isinstance(jwk, Mapping) and signer_jwk is not None and _same_key(jwk, signer_jwk):
            bound = True
        details["cnf"] = True
    if bound:
        return CheckResult.passed(HOLDER_BINDING, "the presentation's signer is the subject",
                                  **details)
    if not required:
        return CheckResult.skipped(HOLDER_BINDING, "holder binding not required by policy "
                                   "(the signer is not shown to be the subject)", **details)
    if not subjects and cnf is None:
        return CheckResult.failed(HOLDER_BINDING, "holder.unbound",
                                  "the credential names no subject id or cnf key to bind to",
                                  **details)
    return CheckResult.failed(HOLDER_BINDING, "holder.mismatch",
                              "the presentation was signed by someone other than the subject",
                              **details)


def _same_key(a: Mapping[str, Any], b: Mapping[str, Any]) -> bool:
    members = ("kty", "crv", "x", "y", "n", "e")
    return all(a.get(m) == b.get(m) for m in members) and a.get("kty") is not None


def skipped_for_single_credential(check: str) -> CheckResult:
    """Holder-level checks when a bare VC (no presentation) is verified: said, not hidden."""
    return CheckResult.skipped(check, "a single credential was verified without a presentation; "
                               "holder checks do not apply")


# 4. Replay -- OpenID4VP §6/§11.1 (nonce, aud), VC-JWT 1.1 §6.3.1 (iat/exp), LD proof
#    challenge/domain (VC Data Integrity §2.1).

def check_replay(
    pp: ParsedPresentation,
    *,
    expected_nonce: str | None,
    expected_audience: str | None,
    at: datetime,
    max_age_seconds: int,
    skew_seconds: int,
) -> CheckResult:
    """Nonce and audience equal what the caller expects; the presentation is recent."""
    skew = timedelta(seconds=skew_seconds)
    if expected_nonce is not None:
        if pp.nonce is None:
            return CheckResult.failed(REPLAY, "nonce.missing",
                                      "the presentation carries no nonce/challenge")
        if pp.nonce != expected_nonce:
            return CheckResult.failed(REPLAY, "nonce.mismatch",
                                      "the presentation's nonce is not the one expected")
    if expected_audience is not None:
        if not pp.audience:
            return CheckResult.failed(REPLAY, "audience.missing",
                                      "the presentation names no audience/domain")
        if expected_audience not in pp.audience:
            return CheckResult.failed(REPLAY, "audience.mismatch",
                                      "the presentation was made for another audience",
                                      audience=list(pp.audience))
    if pp.exp is not None and at > pp.exp + skew:
        return CheckResult.failed(REPLAY, "presentation.expired",
                                  "the presentation has expired", exp=pp.exp.isoformat())
    if pp.nbf is not None and pp.nbf > at + skew:
        return CheckResult.failed(REPLAY, "presentation.not_yet_valid",
                                  "the presentation is not valid yet", nbf=pp.nbf.isoformat())
    if pp.iat is not None:
        if pp.iat > at + skew:
            return CheckResult.failed(REPLAY, "presentation.issued_in_future",
                                      "the presentation's iat is in the future",
                                      iat=pp.iat.isoformat())
        if at - pp.iat > timedelta(seconds=max_age_seconds) + skew:
            return CheckResult.failed(REPLAY, "presentation.stale",
                                      f"the presentation is older than {max_age_seconds} s",
                                      iat=pp.iat.isoformat())
    return CheckResult.passed(REPLAY, "fresh presentation for the expected nonce and audience",
                              nonce_checked=expected_nonce is not None,
                              audience_checked=expected_audience is not None,
                              iat=pp.iat.isoformat() if pp.iat else None)


# 6. Validity window -- VCDM 1.1 §4.8/§4.9 and §6.3.1 (nbf=issuanceDate, exp=expirationDate);
#    VCDM 2.0 §4.9 (validFrom/validUntil) and VC-JOSE-COSE §3.1.

def _same_second(a: datetime, b: datetime) -> bool:
    return abs((a - b).total_seconds()) < 1


def check_validity(pc: ParsedCredential, *, at: datetime, skew_seconds: int) -> CheckResult:
    """JWT claims agree with the embedded dates, and ``at`` lies inside the window (with skew)."""
    v = pc.validity
    skew = timedelta(seconds=skew_seconds)
    starts = [d for d in (v.issuance_date, v.valid_from) if d is not None]
    if v.jwt_nbf is not None and starts and not any(_same_second(v.jwt_nbf, d) for d in starts):
        return CheckResult.failed(VALIDITY, "validity.inconsistent",
                                  "JWT nbf differs from the credential's issuanceDate/validFrom",
                                  nbf=v.jwt_nbf.isoformat(),
                                  embedded=[d.isoformat() for d in starts])
    ends = [d for d in (v.expiration_date, v.valid_until) if d is not None]
    if v.jwt_exp is not None and ends and not any(_same_second(v.jwt_exp, d) for d in ends):
        return CheckResult.failed(VALIDITY, "validity.inconsistent",
                                  "JWT exp differs from the credential's expirationDate/validUntil",
                                  exp=v.jwt_exp.isoformat(), embedded=[d.isoformat() for d in ends])
    window = {"not_before": v.not_before.isoformat() if v.not_before else None,
              "not_after": v.not_after.isoformat() if v.not_after else None,
              "at": at.isoformat(), "skew_seconds": skew_seconds}
    if v.not_before is not None and at + skew < v.not_before:
        return CheckResult.failed(VALIDITY, "credential.not_yet_valid",
                                  "the credential is not valid yet", **window)
    if v.not_after is not None and at - skew > v.not_after:
        return CheckResult.failed(VALIDITY, "credential.expired", "the credential has expired",
                                  **window)
    return CheckResult.passed(VALIDITY, "within its validity period", **window)


# 7. Status -- Bitstring Status List v1.0 §3.2, StatusList2021 §5 (per-entry logic in
#    trustbridge.status.statuslist).

def check_status(
    pc: ParsedCredential,
    facts: Sequence[StatusFact],
    *,
    enabled: bool,
    at: datetime,
    allowed_list_issuers: frozenset[str] = frozenset(),
) -> CheckResult:
    """Every status entry is unset; the worst entry outcome is the result."""
    if not enabled:
        return CheckResult.skipped(STATUS, "status check disabled by policy")
    if not pc.status_entries:
        return CheckResult.skipped(STATUS, "the credential declares no credentialStatus")
    results: list[CheckResult] = []
    for fact in facts:
        if fact.problem is not None:
            results.append(fact.problem)
        elif fact.status_list is None:
            results.append(CheckResult.error(STATUS, "status.list_unavailable",
                                             "status list could not be obtained"))
        elif isinstance(fact.status_list, TokenStatusList):
            results.append(check_token_status_entry(
                fact.entry, fact.status_list, credential_issuer=pc.issuer, at=at,
                allowed_issuers=allowed_list_issuers))
        else:
            results.append(check_status_entry(
                fact.entry, fact.status_list, credential_issuer=pc.issuer, at=at,
                allowed_issuers=allowed_list_issuers))
    if len(results) < len(pc.status_entries):
        results.append(CheckResult.error(STATUS, "status.list_unavailable",
                                         "a status entry was not looked up"))
    return _worst(results)


def _worst(results: Iterable[CheckResult]) -> CheckResult:
    order = {CheckStatus.FAILED: 0, CheckStatus.ERROR: 1, CheckStatus.PASSED: 2,
             CheckStatus.SKIPPED: 3}
    ranked = sorted(results, key=lambda r: order[r.status])
    worst = ranked[0]
    if len(ranked) == 1:
        return worst
    others = [r.model_dump(mode="json") for r in ranked[1:]]
    return worst.model_copy(update={"details": {**worst.details, "other_entries": others}})


# 8. Schema -- VCDM 1.1 §5.4 / VCDM 2.0 §4.11 (credentialSchema), VC JSON Schema §3.

SCHEMA_TYPES = frozenset({"JsonSchema", "JsonSchemaValidator2018", "JsonSchema2022",
                          "FullJsonSchemaValidator2021", "JsonSchemaCredential"})


def check_schema(pc: ParsedCredential, facts: Sequence[SchemaFact], *, enabled: bool
                 ) -> CheckResult:
    """The credential validates against each declared JSON Schema (``$ref`` only to local docs)."""
    if not enabled:
        return CheckResult.skipped(SCHEMA, "schema check disabled by policy")
    if not pc.schemas:
        return CheckResult.skipped(SCHEMA, "the credential declares no credentialSchema")
    results: list[CheckResult] = []
    for fact in facts:
        results.append(_check_one_schema(pc.credential, fact))
    if len(results) < len(pc.schemas):
        results.append(CheckResult.error(SCHEMA, "schema.unavailable",
                                         "a declared schema was not looked up"))
    return _worst(results)


_METASCHEMA_MEMO: OrderedDict[str, str | None] = OrderedDict()
_METASCHEMA_MEMO_MAX = 256


def _metaschema_problem(cls: Any, schema: Mapping[str, Any]) -> str | None:
    """Why ``schema`` is not a valid JSON Schema for ``cls``, or None.

    Checking a schema against its metaschema is a pure function of the schema's bytes and
    costs ~50 ms for EBSI's attestation schema (most of an uncached verification), so the
    verdict is memoised on the exact canonical text (a small LRU); the credential itself is
    still validated every time.
    """
    from jsonschema import exceptions as js_exceptions

    try:
        key = f"{cls.__name__}\n" + json.dumps(schema, sort_keys=True, ensure_ascii=False,
                                                separators=(",", ":"))
    except (TypeError, ValueError):
        key = None
    if key is not None and key in _METASCHEMA_MEMO:
        _METASCHEMA_MEMO.move_to_end(key)
        return _METASCHEMA_MEMO[key]
    try:
        cls.check_schema(schema)
        problem = None
    except js_exceptions.SchemaError as exc:
        problem = str(exc.message)
    if key is not None:
        _METASCHEMA_MEMO[key] = problem
        while len(_METASCHEMA_MEMO) > _METASCHEMA_MEMO_MAX:
            _METASCHEMA_MEMO.popitem(last=False)
    return problem


_VALIDATOR_MEMO: OrderedDict[tuple[int, int], tuple[Any, Any, tuple[Any, Any]]] = OrderedDict()


DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
# The drafts tests/verify/test_schema_fast_path.py checks the two validators agree on (the
# JSON Schema Test Suite's); schemas of other drafts keep the reference validator alone.
STANDARD_METASCHEMAS = frozenset({DRAFT_2020_12, "http://json-schema.org/draft-07/schema"})


def _fast_validator(schema: dict[str, Any], registry: Any) -> Any:
    """jsonschema-rs over the same schema and ``$ref`` documents, or None if it cannot be
    built (the reference ``jsonschema`` validator then decides alone).

    Why: ``jsonschema`` spends ~310 us on one EBSI attestation, a fifth of a default-policy
    verification; jsonschema-rs ~2 us. It is only trusted to say *valid*: a credential it
    rejects is validated again by ``jsonschema``, whose verdict and error list are reported,
    so the two can disagree only where jsonschema-rs accepts what ``jsonschema`` refuses,
    which ``tests/verify/test_schema_fast_path.py`` looks for over the JSON Schema Test Suite
    and the fixtures. Formats stay annotations, as in the reference validator; ``$ref`` is
    resolved only from ``registry`` (the local and prefetched documents), never fetched;
    schemas of other drafts, or under a custom metaschema, keep the reference validator
    alone."""
    if str(schema.get("$schema", DRAFT_2020_12)).rstrip("#") not in STANDARD_METASCHEMAS:
        return None  # another draft, or a custom metaschema ($vocabulary, which only
        # jsonschema-rs honours: the one disagreement the suite showed)
    try:
        import jsonschema_rs
    except ImportError:  # pragma: no cover - a declared dependency; degrade, do not fail
        return None

    def retrieve(uri: str) -> Any:
        return registry.get_or_retrieve(uri).value.contents

    try:
        return jsonschema_rs.validator_for(schema, validate_formats=False,
                                           retriever=None if registry is None else retrieve)
    except Exception:  # unsupported draft, unresolvable $ref, a regex it cannot compile ...
        return None


def fast_accepts(fast: Any, credential: Mapping[str, Any]) -> bool:
    """Whether the fast validator is sure ``credential`` is valid (False: ask ``jsonschema``)."""
    if fast is None:
        return False
    try:
        return bool(fast.is_valid(credential))
    except Exception:  # e.g. an integer beyond its range: not sure
        return False


def _prepared_validator(schema: Mapping[str, Any], registry: Any) -> tuple[Any, Any] | str:
    """The reference and the fast validator for ``schema`` with ``registry`` (or why the
    schema is malformed).

    The schema store hands out the same objects for a local schema every time, so the
    validators are remembered per (schema, registry) object pair; the entry holds both, so
    their ids cannot be reused while it lives."""
    from jsonschema import validators

    memo_key = (id(schema), id(registry))
    hit = _VALIDATOR_MEMO.get(memo_key)
    if hit is not None and hit[0] is schema and hit[1] is registry:
        _VALIDATOR_MEMO.move_to_end(memo_key)
        return hit[2]
    own = dict(schema)
    cls = validators.validator_for(own, default=validators.Draft202012Validator)
    problem = _metaschema_problem(cls, own)
    if problem is not None:
        return problem
    kwargs: dict[str, Any] = {} if registry is None else {"registry": registry}
    prepared = (cls(own, **kwargs), _fast_validator(own, registry))
    _VALIDATOR_MEMO[memo_key] = (schema, registry, prepared)
    while len(_VALIDATOR_MEMO) > _METASCHEMA_MEMO_MAX:
        _VALIDATOR_MEMO.popitem(last=False)
    return prepared


def _check_one_schema(credential: Mapping[str, Any], fact: SchemaFact) -> CheckResult:
    from jsonschema import exceptions as js_exceptions

    where = {"schema": fact.ref.id, "type": fact.ref.type}
    if fact.ref.type not in SCHEMA_TYPES:
        return CheckResult.failed(SCHEMA, "schema.type_unsupported",
                                  f"credentialSchema type {fact.ref.type!r} is not supported",
                                  **where)
    if fact.unavailable is not None or fact.schema is None:
        reason = fact.unavailable
        return CheckResult.error(SCHEMA, reason.code if reason else "schema.unavailable",
                                 reason.message if reason else "schema could not be obtained",
                                 **where)
    try:
        prepared = _prepared_validator(fact.schema, fact.registry)
        if isinstance(prepared, str):
            return CheckResult.error(SCHEMA, "schema.malformed",
                                     f"the declared schema is not a valid JSON Schema: "
                                     f"{prepared}", **where)
        validator, fast = prepared
        errors = [] if fast_accepts(fast, credential) else sorted(
            validator.iter_errors(dict(credential)), key=lambda e: list(e.path))
    except js_exceptions.SchemaError as exc:
        return CheckResult.error(SCHEMA, "schema.malformed",
                                 f"the declared schema is not a valid JSON Schema: {exc.message}",
                                 **where)
    except Exception as exc:  # an unresolvable $ref surfaces as several exception types
        return CheckResult.error(SCHEMA, "schema.ref_unresolvable",
                                 f"the schema could not be applied: {type(exc).__name__}", **where)
    if errors:
        shown = [{"path": "/".join(str(p) for p in e.absolute_path), "message": e.message[:300]}
                 for e in errors[:MAX_SCHEMA_ERRORS]]
        return CheckResult.failed(SCHEMA, "schema.invalid",
                                  "the credential does not match its declared schema",
                                  errors=shown, error_count=len(errors), **where)
    return CheckResult.passed(SCHEMA, "matches its declared schema", **where)


# 9. Issuer trust -- EBSI Trusted Issuers Registry (accreditation chain RootTAO → TAO → TI),
#    evaluated by trustbridge.registry; here only its answer is judged.

def check_issuer_trust(pc: ParsedCredential, fact: TrustFact | None, *, required: bool
                       ) -> CheckResult:
    """The issuer is accredited for these types/schema at issuance; the chain goes in details."""
    if not required:
        return CheckResult.skipped(ISSUER_TRUST, "issuer accreditation not required by policy")
    if fact is None or fact.unavailable is not None or fact.answer is None:
        reason = fact.unavailable if fact is not None else None
        return CheckResult.error(
            ISSUER_TRUST, reason.code if reason else "issuer.registry_unavailable",
            reason.message if reason else "the trust registry could not be asked",
            issuer=pc.issuer, **(dict(reason.details) if reason else {}))
    answer = fact.answer
    details = trust_details(answer)
    if is_accredited(answer):
        return CheckResult.passed(ISSUER_TRUST, "the issuer is accredited for this credential",
                                  issuer=pc.issuer, **details)
    code = getattr(answer, "code", None) or getattr(answer, "reason_code", None)
    message = getattr(answer, "message", None) or getattr(answer, "reason", None)
    return CheckResult.failed(ISSUER_TRUST, str(code or "issuer.not_accredited"),
                              str(message or "the issuer is not accredited for this credential"),
                              issuer=pc.issuer, **details)


def is_accredited(answer: Any) -> bool:
    """Duck-typed over the registry's ``Accredited | NotAccredited`` answer."""
    flag = getattr(answer, "accredited", None)
    if isinstance(flag, bool):
        return flag
    return type(answer).__name__ == "Accredited"


def trust_details(answer: Any) -> dict[str, Any]:
    """The parts of a registry answer worth showing (chain, issuer name, country), as JSON."""
    out: dict[str, Any] = {}
    for name in ("chain", "partial_chain", "issuer_name", "name", "country", "jurisdiction",
                 "accreditation", "attributes", "evidence", "since_then", "policy"):
        value = getattr(answer, name, None)
        if value is not None:
            out[name] = _jsonable(value)
    return out


def _jsonable(value: Any) -> Any:
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        return dump(mode="json")
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, str | int | float | bool) or value is None:
        return value
    return str(value)


__all__ = [
    "HOLDER_BINDING",
    "ISSUER_TRUST",
    "MAX_CREDENTIALS_PER_PRESENTATION",
    "MICROCREDENTIAL",
    "REPLAY",
    "SCHEMA",
    "STATUS",
    "STRUCTURE",
    "VALIDITY",
    "check_credential_structure",
    "check_holder_binding",
    "check_issuer_trust",
    "check_presentation_structure",
    "check_replay",
    "check_schema",
    "check_status",
    "check_validity",
    "is_accredited",
    "skipped_for_single_credential",
    "trust_details",
]
