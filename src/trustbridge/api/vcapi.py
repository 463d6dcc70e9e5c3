"""W3C VC-API endpoints, so the W3C test suites (and VC-API clients) can drive this service.

* ``POST /credentials/verify`` ``{verifiableCredential, options}``
* ``POST /presentations/verify`` ``{verifiablePresentation, options: {challenge, domain}}``
* ``POST /credentials/issue`` ``{credential, options}`` -- the demo issuer, only when
  ``demo_issuer`` is on and never in production.

Verification runs the same pipeline as ``POST /v1/verify`` and answers the VC-API
result shape ``{verified, checks, warnings, errors}``: 200 when the verdict is
``valid``, 400 with the same body otherwise (``verdict`` says whether it was
``invalid`` or ``indeterminate``). Issuer trust and holder binding are relaxed
unless configured (``vcapi_require_accredited_issuer`` /
``vcapi_require_holder_binding``): test-suite issuers are not in our registry, and a
relaxed check is reported as a warning, never as passed.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from trustbridge.api.body import read_json, validate
from trustbridge.api.openapi import ApiRoutes
from trustbridge.config import Settings
from trustbridge.errors import AuthError, InputError, NotFound
from trustbridge.formats.base import RawInput, as_list
from trustbridge.formats.vcdm2 import Violation, credential_violations, presentation_violations
from trustbridge.issuer.demo import issue_credential
from trustbridge.issuer.keys import demo_key
from trustbridge.model.report import CheckResult, CheckStatus, Verdict, VerificationReport
from trustbridge.verify.pipeline import VerificationInput
from trustbridge.verify.policy import Policy
from trustbridge.verify.service import verifier_of

routes = ApiRoutes()

ENVELOPED_PREFIXES = ("data:application/vc+jwt,", "data:application/vp+jwt,",
                      "data:application/vc+ld+json+jwt,", "data:application/vp+ld+json+jwt,")

# VC-API names for our checks (VC-API "checks" values), where one exists.
VCAPI_CHECK_NAMES = {
    "credential_proof": "proof",
    "presentation_proof": "proof",
    "validity": "expiration",
    "status": "credentialStatus",
    "schema": "credentialSchema",
    "issuer_trust": "issuer",
}


class VerifyOptions(BaseModel):
    """VC-API verify options; unknown members are tolerated (suites send their own)."""

    model_config = ConfigDict(extra="allow")

    challenge: str | None = Field(default=None, max_length=512)
    domain: str | None = Field(default=None, max_length=2048)
    checks: list[str] | None = Field(default=None, max_length=32)


class VerifyCredentialRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    verifiableCredential: dict[str, Any] | str
    options: VerifyOptions = Field(default_factory=VerifyOptions)


class VerifyPresentationRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    verifiablePresentation: dict[str, Any] | str
    options: VerifyOptions = Field(default_factory=VerifyOptions)


class VerificationProblem(BaseModel):
    """One VC-API ``errors``/``warnings`` entry: a problem-details-like object with our code."""

    type: str
    title: str
    code: str
    check: str
    detail: str
    credential: int | None = None


class VerificationResult(BaseModel):
    """VC-API verification result; ``verdict`` is a TrustBridge addition."""

    verified: bool
    verdict: str
    checks: list[str]
    warnings: list[VerificationProblem]
    errors: list[VerificationProblem]


class IssueRequest(BaseModel):
    model_config = ConfigDict(extra="allow")

    credential: dict[str, Any]
    options: dict[str, Any] = Field(default_factory=dict)


class IssuedCredential(BaseModel):
    """The secured credential itself (what the W3C suites expect as the response body)."""

    model_config = ConfigDict(extra="allow")


# -- pure mapping: report -> VC-API result -----------------------------------------------

def _problem(result: CheckResult, credential: int | None) -> VerificationProblem:
    return VerificationProblem(type=f"urn:trustbridge:code:{result.code}",
                               title=result.code, code=result.code, check=result.check,
                               detail=result.message, credential=credential)


NOT_ERRORS_HERE = frozenset({"structure.no_credentials"})
"""Codes that do not fail a VC-API verification: a presentation without credentials is a
valid VCDM 2.0 presentation (§4.13: verifiableCredential is optional), e.g. for DID Auth."""


def data_model_violations(document: RawInput, *, presentation: bool) -> list[CheckResult]:
    """VCDM 2.0 rules (``formats.vcdm2``) as failed ``structure`` results, one per rule broken;
    for a presentation, also those of each embedded JSON credential."""
    if not isinstance(document, Mapping):
        return []
    found: list[tuple[Violation, int | None]] = []
    if presentation:
        found += [(v, None) for v in presentation_violations(document)]
        for i, item in enumerate(as_list(document.get("verifiableCredential"))):
            if isinstance(item, Mapping):
                found += [(v, i) for v in credential_violations(item)]
    else:
        found += [(v, None) for v in credential_violations(document)]
    return [CheckResult.failed("structure", v.code, v.message, path=v.path,
                               **({"credential": i} if i is not None else {}))
            for v, i in found]


def vcapi_result(report: VerificationReport, extra: list[CheckResult] | None = None
                 ) -> VerificationResult:
    """Fold a report (plus ``extra`` failed checks) into ``{verified, checks, warnings,
    errors}``; ``verified`` only when nothing failed or errored."""
    checks: list[str] = []
    warnings: list[VerificationProblem] = []
    errors: list[VerificationProblem] = []
    groups: list[tuple[int | None, list[CheckResult]]] = [(None, report.checks)]
    groups += [(i, c.checks) for i, c in enumerate(report.credentials)]
    groups += [(r.details.get("credential"), [r]) for r in extra or []]
    for index, results in groups:
        for result in results:
            if result.code in NOT_ERRORS_HERE:
                warnings.append(_problem(result, index))
            elif result.status == CheckStatus.PASSED:
                name = VCAPI_CHECK_NAMES.get(result.check, result.check)
                if name not in checks:
                    checks.append(name)
            elif result.status == CheckStatus.SKIPPED:
                warnings.append(_problem(result, index))
            else:
                errors.append(_problem(result, index))
    verified = not errors and report.verdict in (Verdict.VALID, Verdict.INVALID)
    verdict = Verdict.VALID if verified else (
        Verdict.INVALID if report.verdict == Verdict.VALID else report.verdict)
    if not verified:
        checks = [c for c in checks if c not in {VCAPI_CHECK_NAMES.get(e.check, e.check)
                                                 for e in errors}]
    return VerificationResult(verified=verified, verdict=verdict.value, checks=checks,
                              warnings=warnings, errors=errors)


def vcapi_policy(settings: Settings, options: VerifyOptions) -> Policy:
    """Issuer trust and holder binding per settings; status/schema only when asked for."""
    asked = set(options.checks or ())
    return Policy(
        require_accredited_issuer=settings.vcapi_require_accredited_issuer,
        require_holder_binding=settings.vcapi_require_holder_binding,
        check_status="credentialStatus" in asked or "status" in asked,
        check_schema="credentialSchema" in asked or "schema" in asked,
    )


def unenvelope(document: dict[str, Any] | str) -> RawInput:
    """An ``EnvelopedVerifiableCredential``/``Presentation`` as the JWT it carries."""
    if isinstance(document, Mapping):
        ident = document.get("id")
        types = document.get("type")
        types = types if isinstance(types, list) else [types]
        enveloped = {"EnvelopedVerifiableCredential", "EnvelopedVerifiablePresentation"}
        if enveloped & set(t for t in types if isinstance(t, str)) and isinstance(ident, str):
            for prefix in ENVELOPED_PREFIXES:
                if ident.startswith(prefix):
                    return ident[len(prefix):]
            raise InputError("unsupported envelope media type", code="vcapi.envelope_unsupported")
    return document


def _respond(report: VerificationReport, request: web.Request,
             extra: list[CheckResult]) -> web.Response:
    result = vcapi_result(report, extra)
    request["verdict"] = result.verdict
    return web.json_response(text=result.model_dump_json(), status=200 if result.verified
                             else 400)


# -- handlers ----------------------------------------------------------------------------

@routes.route(
    "POST", "/credentials/verify",
    summary="W3C VC-API: verify a credential (200 verified, 400 not, same body shape).",
    tags=("vc-api",), body=VerifyCredentialRequest, response=VerificationResult,
    responses={200: "Verified",
               400: ("Not verified (VC-API result), or the request is unusable (problem)",
                     VerificationResult),
               429: "Too many requests from this client; see Retry-After"},
)
async def verify_credential(request: web.Request) -> web.Response:
    body = validate(VerifyCredentialRequest, await read_json(request))
    settings: Settings = request.app["settings"]
    credential = unenvelope(body.verifiableCredential)
    inp = VerificationInput(credential=credential, policy=vcapi_policy(settings, body.options))
    report = await verifier_of(request.app["services"]).verify(inp)
    return _respond(report, request, data_model_violations(credential, presentation=False))


@routes.route(
    "POST", "/presentations/verify",
    summary="W3C VC-API: verify a presentation, with the expected challenge and domain.",
    tags=("vc-api",), body=VerifyPresentationRequest, response=VerificationResult,
    responses={200: "Verified",
               400: ("Not verified (VC-API result), or the request is unusable (problem)",
                     VerificationResult),
               429: "Too many requests from this client; see Retry-After"},
)
async def verify_presentation(request: web.Request) -> web.Response:
    body = validate(VerifyPresentationRequest, await read_json(request))
    settings: Settings = request.app["settings"]
    presentation = unenvelope(body.verifiablePresentation)
    inp = VerificationInput(presentation=presentation, nonce=body.options.challenge,
                            audience=body.options.domain,
                            policy=vcapi_policy(settings, body.options))
    report = await verifier_of(request.app["services"]).verify(inp)
    return _respond(report, request, data_model_violations(presentation, presentation=True))


@routes.route(
    "POST", "/credentials/issue",
    summary="W3C VC-API: issue with the DEMO key (only with demo_issuer on; never production).",
    tags=("vc-api",), body=IssueRequest, response=IssuedCredential,
    responses={201: "The secured credential", 400: "The credential cannot be signed",
               403: "Refused in production", 404: "The demo issuer is off"},
)
async def issue(request: web.Request) -> web.Response:
    settings: Settings = request.app["settings"]
    if settings.environment == "production":
        raise AuthError("the demo issuer is never available in production",
                        code="issuer.production_refused", forbidden=True)
    if not settings.demo_issuer:
        raise NotFound("the demo issuer is off (set TRUSTBRIDGE_DEMO_ISSUER=true)",
                       code="issuer.disabled")
    body = validate(IssueRequest, await read_json(request))
    services = request.app["services"]
    secured = await asyncio.to_thread(issue_credential, body.credential, key=demo_key(),
                                      now=services.clock())
    return web.json_response(secured, status=201)


__all__ = ["routes", "unenvelope", "vcapi_policy", "vcapi_result"]
