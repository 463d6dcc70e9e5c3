"""HTTP edge of the OpenID4VP verifier: HR-facing JSON + wallet-facing OAuth endpoints.

HR system: create a presentation request, poll it, follow it as server-sent
events, fetch its QR code. Wallet: fetch the request object (``request_uri``)
and post the Authorization Response (``response_uri``). Errors to the wallet
carry the OAuth members the spec prescribes (``"error": "invalid_request"``,
``error_description``) inside the problem+json body every endpoint returns.
"""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from typing import Any, Literal

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, RootModel

from trustbridge.api.body import read_body, read_model, validate
from trustbridge.api.openapi import ApiRoutes
from trustbridge.api.problems import problem_response
from trustbridge.api.streams import LONG_LIVED
from trustbridge.oid4vp import authorization
from trustbridge.oid4vp.qr import qr_png, qr_svg
from trustbridge.oid4vp.query import (
    DcqlQuery,
    PresentationDefinition,
    SimpleQuery,
    dcql_from_simple,
)
from trustbridge.oid4vp.response import WalletResponseError
from trustbridge.oid4vp.service import (
    BASE_PATH,
    PresentationService,
    PresentationSpec,
    presentations_of,
)
from trustbridge.oid4vp.session import PresentationSession, SessionError

routes = ApiRoutes()
TAGS = ("presentations",)
_ID = "{id:[A-Za-z0-9_-]+}"
NO_STORE = {"Cache-Control": "no-store"}


class PolicyOptions(BaseModel):
    """Verification policy for this request (see ``trustbridge.verify.policy.Policy``)."""

    model_config = ConfigDict(extra="forbid")

    require_accredited_issuer: bool | None = None
    check_status: bool | None = None
    check_schema: bool | None = None
    require_holder_binding: bool | None = None
    require_microcredential_profile: bool | None = None
    clock_skew_seconds: int | None = Field(default=None, ge=0, le=3600)


class _CreateCommon(BaseModel):
    """Options shared by the three ways of saying what to ask for."""

    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    require_accredited_issuer: bool | None = None
    policy: PolicyOptions | None = None
    client_id_prefix: Literal["decentralized_identifier", "redirect_uri"] = (
        "decentralized_identifier"
    )
    expires_in: int | None = Field(default=None, ge=1, le=86_400)
    webhook_url: str | None = Field(default=None, max_length=2048, pattern=r"^https?://\S+$")
    webhook_secret: str | None = Field(default=None, min_length=16, max_length=256)
    redirect_uri: str | None = Field(default=None, max_length=2048, pattern=r"^https://\S+$",
                                     description="Where the wallet sends the user afterwards.")


class DcqlForm(_CreateCommon):
    """OpenID4VP 1.0: a DCQL query."""

    dcql_query: DcqlQuery


class PresentationExchangeForm(_CreateCommon):
    """Pre-final OpenID4VP: a DIF Presentation Exchange v2 presentation definition."""

    presentation_definition: PresentationDefinition


class TypesForm(_CreateCommon):
    """Convenience: credential types, optionally a schema id; translated into DCQL."""

    types: list[str] = Field(min_length=1, max_length=8)
    schema_id: str | None = Field(default=None, alias="schema", max_length=2048)
    formats: list[Literal["jwt_vc_json", "ldp_vc"]] | None = Field(default=None, min_length=1)


class CreatePresentationRequest(RootModel[DcqlForm | PresentationExchangeForm | TypesForm]):
    """Exactly one of ``dcql_query``, ``presentation_definition`` or ``types``."""


class AuthorizationRequestView(BaseModel):
    by_value: dict[str, str]
    by_reference: dict[str, str]
    deep_link: str
    deep_link_by_value: str


class PresentationRequestCreated(BaseModel):
    id: str
    status: str
    client_id: str
    expires_at: datetime
    request_uri: str
    response_uri: str
    authorization_request: AuthorizationRequestView
    qr_png: str
    qr_svg: str
    status_url: str
    events_url: str
    webhook_secret: str | None = None


class PresentationRequestStatus(BaseModel):
    id: str
    status: str
    verdict: str | None = None
    client_id: str
    created_at: datetime
    expires_at: datetime
    completed_at: datetime | None = None
    error: SessionError | None = None
    rejected_responses: list[SessionError] = Field(default_factory=list)
    report: dict[str, Any] | None = None
    webhook: dict[str, Any] | None = None


def _service(request: web.Request) -> PresentationService:
    return presentations_of(request.app["services"])


def _base_url(request: web.Request) -> str:
    configured: str | None = request.app["settings"].oid4vp_public_base_url
    return configured.rstrip("/") if configured else str(request.url.origin())


def _spec(form: DcqlForm | PresentationExchangeForm | TypesForm) -> PresentationSpec:
    policy = form.policy.model_dump(exclude_none=True) if form.policy else {}
    if form.require_accredited_issuer is not None:
        policy["require_accredited_issuer"] = form.require_accredited_issuer
    dcql: DcqlQuery | None = None
    definition: PresentationDefinition | None = None
    schema_id: str | None = None
    if isinstance(form, DcqlForm):
        dcql = form.dcql_query
    elif isinstance(form, PresentationExchangeForm):
        definition = form.presentation_definition
    else:
        schema_id = form.schema_id
        dcql = dcql_from_simple(validate(SimpleQuery, {
            "types": form.types, "schema": schema_id,
            **({"formats": form.formats} if form.formats else {}),
        }))
    return PresentationSpec(
        dcql_query=dcql, presentation_definition=definition, required_schema=schema_id,
        policy=policy, client_id_prefix=form.client_id_prefix, expires_in=form.expires_in,
        webhook_url=form.webhook_url, webhook_secret=form.webhook_secret,
        wallet_redirect_uri=form.redirect_uri,
    )


def status_view(session: PresentationSession) -> dict[str, Any]:
    webhook = None
    if session.webhook is not None:
        webhook = session.webhook.model_dump(mode="json", exclude={"secret"})
    view = PresentationRequestStatus(
        id=session.id, status=session.status.value, verdict=session.verdict,
        client_id=session.client_id, created_at=session.created_at,
        expires_at=session.expires_at, completed_at=session.completed_at, error=session.error,
        rejected_responses=session.rejected_responses, report=session.report, webhook=webhook,
    )
    return view.model_dump(mode="json")


@routes.route("POST", BASE_PATH, summary="Ask a wallet for a presentation (OpenID4VP).",
              tags=TAGS, body=CreatePresentationRequest, response=PresentationRequestCreated,
              responses={201: "Created: the authorization request for the wallet",
                         400: "Unusable query"})
async def create_request(request: web.Request) -> web.Response:
    form = (await read_model(request, CreatePresentationRequest)).root
    service = _service(request)
    session = await service.create(_spec(form), _base_url(request))
    key = service.key
    base = session.request_uri.removesuffix("/request")
    by_ref = authorization.by_reference(session)
    by_val = authorization.by_value(session, key)
    created = PresentationRequestCreated(
        id=session.id, status=session.status.value, client_id=session.client_id,
        expires_at=session.expires_at, request_uri=session.request_uri,
        response_uri=session.response_uri,
        authorization_request=AuthorizationRequestView(
            by_value=by_val, by_reference=by_ref, deep_link=authorization.deep_link(by_ref),
            deep_link_by_value=authorization.deep_link(by_val)),
        qr_png=base + "/qr.png", qr_svg=base + "/qr.svg", status_url=base,
        events_url=base + "/events",
        webhook_secret=(session.webhook.secret
                        if session.webhook and form.webhook_secret is None else None),
    )
    return web.json_response(created.model_dump(mode="json"), status=201, headers=NO_STORE)


@routes.route("GET", f"{BASE_PATH}/{_ID}", summary="Status and report of a presentation request.",
              tags=TAGS, response=PresentationRequestStatus,
              responses={404: "Unknown or purged"})
async def get_request(request: web.Request) -> web.Response:
    session = await _service(request).get(request.match_info["id"])
    return web.json_response(status_view(session), headers=NO_STORE)


@routes.route("GET", f"{BASE_PATH}/{_ID}/request",
              summary="The request object JWT for the wallet (request_uri, RFC 9101).",
              tags=TAGS, response_content_type=authorization.REQUEST_OBJECT_MEDIA_TYPE,
              responses={400: "Expired or already answered", 404: "Unknown"})
async def get_request_object(request: web.Request) -> web.Response:
    jwt = await _service(request).request_object(request.match_info["id"])
    return web.Response(text=jwt, content_type=authorization.REQUEST_OBJECT_MEDIA_TYPE,
                        headers=NO_STORE)


class WalletResponseForm(BaseModel):
    """``application/x-www-form-urlencoded`` Authorization Response (OpenID4VP 8.2)."""

    vp_token: str | None = None
    presentation_submission: str | None = None
    state: str | None = None
    error: str | None = None
    error_description: str | None = None


@routes.route("POST", f"{BASE_PATH}/{_ID}/response",
              summary="Response URI: the wallet posts vp_token here (response_mode=direct_post).",
              tags=TAGS, body=WalletResponseForm,
              body_content_types=("application/x-www-form-urlencoded",),
              responses={400: "OAuth error (invalid_request…) as JSON", 404: "Unknown request",
                         413: "Response too large"})
async def post_response(request: web.Request) -> web.Response:
    service = _service(request)
    limit: int = request.app["settings"].oid4vp_max_response_bytes
    body: bytes | None = await read_body(request)  # beyond the app limit: 413 problem
    if body is not None and len(body) > limit:
        body = None
    try:
        answer = await service.handle_response(request.match_info["id"], body,
                                               request.content_type)
    except WalletResponseError as exc:
        return wallet_error(exc)
    return web.json_response(answer.body, status=answer.status, headers=NO_STORE)


def wallet_error(exc: WalletResponseError) -> web.Response:
    """The OAuth error members (``error``, ``error_description``; RFC 6749 5.2, OpenID4VP
    8.5) carried as extension members of a problem+json body: wallets read ``error``,
    the HTTP edge's contract (problem+json with a stable ``code``) holds."""
    title = {404: "Not found", 413: "Payload too large"}.get(exc.status, "Bad request")
    return problem_response(exc.status, exc.code, title, exc.description,
                            extra=exc.to_wallet(), headers=NO_STORE)


async def _qr_target(request: web.Request) -> str:
    service = _service(request)
    session = await service.get(request.match_info["id"])
    return authorization.deep_link(authorization.by_reference(session))


@routes.route("GET", f"{BASE_PATH}/{_ID}/qr.png", summary="QR code (PNG) of the wallet link.",
              tags=TAGS, response_content_type="image/png", responses={404: "Unknown"})
async def get_qr_png(request: web.Request) -> web.Response:
    return web.Response(body=qr_png(await _qr_target(request)), content_type="image/png",
                        headers=NO_STORE)


@routes.route("GET", f"{BASE_PATH}/{_ID}/qr.svg", summary="QR code (SVG) of the wallet link.",
              tags=TAGS, response_content_type="image/svg+xml", responses={404: "Unknown"})
async def get_qr_svg(request: web.Request) -> web.Response:
    return web.Response(body=qr_svg(await _qr_target(request)), content_type="image/svg+xml",
                        headers=NO_STORE)


@routes.route("GET", f"{BASE_PATH}/{_ID}/events",
              summary="Server-sent events: the status now and on every change until final.",
              tags=TAGS, response_content_type="text/event-stream", responses={404: "Unknown"})
async def get_events(request: web.Request) -> web.StreamResponse:
    service = _service(request)
    updates = service.follow(request.match_info["id"])
    first = await anext(updates)  # unknown ids fail here, before the stream starts
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream",
                                           "Cache-Control": "no-store",
                                           "X-Accel-Buffering": "no"})
    await response.prepare(request)
    session: PresentationSession | None = first
    task = asyncio.current_task()
    streams = request.app[LONG_LIVED]
    if task is not None:
        streams.add(task)
    try:
        while session is not None:
            data = json.dumps(status_view(session), separators=(",", ":"))
            await response.write(f"event: status\ndata: {data}\n\n".encode())
            session = await anext(updates, None)
    except asyncio.CancelledError:
        return response  # server shutting down: the client reconnects elsewhere
    finally:
        if task is not None:
            streams.discard(task)
        await updates.aclose()
    await response.write_eof()
    return response


__all__ = ["routes", "status_view"]
