"""``POST /v1/verify`` -- the contract HR systems integrate against (issue 14), kept exactly.

200 with a ``VerificationReport`` for every verdict (the verdict is data); 4xx
problem+json only when the request itself is unusable (not JSON, both or neither
of presentation/credential, unknown fields, bad ``at``/policy).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from trustbridge.api.body import read_body, read_json, validate
from trustbridge.api.middlewares import _metrics_key
from trustbridge.api.openapi import ApiRoutes
from trustbridge.crypto.base64url import b64url_decode
from trustbridge.errors import InputError
from trustbridge.formats.base import has_two_dots
from trustbridge.model.report import VerificationReport
from trustbridge.verify.pipeline import VerificationInput
from trustbridge.verify.policy import Policy
from trustbridge.verify.result_cache import request_digest
from trustbridge.verify.service import verifier_of

routes = ApiRoutes()

JWT_TYPES = ("application/jwt", "application/vp+jwt", "application/vc+jwt")


class VerifyRequest(BaseModel):
    """What to verify: exactly one of ``presentation`` / ``credential`` (JSON object or JWT)."""

    model_config = ConfigDict(extra="forbid")

    presentation: str | dict[str, Any] | None = None
    credential: str | dict[str, Any] | None = None
    nonce: str | None = Field(default=None, max_length=512)
    audience: str | None = Field(default=None, max_length=2048)
    at: datetime | None = Field(default=None, description="RFC 3339 time to verify at")
    policy: Policy = Field(default_factory=Policy)


def _jwt_is_presentation(token: str) -> bool:
    """Route a bare compact JWT: a ``vp`` claim or type VerifiablePresentation means a VP."""
    try:
        payload = json.loads(b64url_decode(token.split(".")[1]))
    except (ValueError, IndexError) as exc:
        raise InputError("the body is not a compact JWT", code="request.malformed_jwt") from exc
    if not isinstance(payload, dict):
        raise InputError("the JWT payload is not a JSON object", code="request.malformed_jwt")
    types = payload.get("type")
    types = types if isinstance(types, list) else [types]
    return "vp" in payload or "VerifiablePresentation" in types


async def _read_request(request: web.Request) -> VerifyRequest:
    if request.content_type in JWT_TYPES:
        raw = await read_body(request)
        try:
            token = raw.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise InputError("a compact JWT is ASCII", code="request.malformed_jwt") from exc
        if not has_two_dots(token):
            raise InputError("the body is not a compact JWT", code="request.malformed_jwt")
        if _jwt_is_presentation(token):
            return VerifyRequest(presentation=token)
        return VerifyRequest(credential=token)
    body = validate(VerifyRequest, await read_json(request))
    if (body.presentation is None) == (body.credential is None):
        raise InputError("give exactly one of 'presentation' or 'credential'",
                         code="request.nothing_to_verify")
    return body


@routes.route(
    "POST", "/v1/verify",
    summary="Verify a presentation or a single credential; the verdict is in the report.",
    tags=("verify",), body=VerifyRequest,
    body_content_types=("application/json", "application/jwt"),
    response=VerificationReport,
    responses={200: "The report (valid, invalid or indeterminate)",
               400: "The request itself is unusable", 413: "Body too large",
               415: "Unsupported content type",
               429: "Too many requests from this client; see Retry-After"},
)
async def verify(request: web.Request) -> web.Response:
    verifier = verifier_of(request.app["services"])
    metrics = request.app[_metrics_key]
    # A repeat of an exact request is answered from the result cache before it is parsed.
    digest: str | None = None
    if verifier.caches_results:
        digest = request_digest(request.content_type, await read_body(request))
        hit = await verifier.cached_request(digest)
    else:
        hit = None
    if hit is not None:
        request["verdict"] = hit.verdict
        metrics.inc("verifications_total", verdict=hit.verdict, cached="true")
        return web.Response(body=hit.json, content_type="application/json")
    body = await _read_request(request)
    at = body.at
    if at is not None and at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    inp = VerificationInput(presentation=body.presentation, credential=body.credential,
                            nonce=body.nonce, audience=body.audience, at=at, policy=body.policy)
    report = await verifier.verify(inp, request_digest=digest)
    request["verdict"] = report.verdict.value
    metrics.inc("verifications_total", verdict=report.verdict.value,
                cached=str(report.cached).lower())
    return web.Response(body=report.json_bytes(), content_type="application/json",
                        charset="utf-8")


__all__ = ["VerifyRequest", "routes"]
