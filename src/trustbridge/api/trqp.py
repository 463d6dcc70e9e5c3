"""TRQP v2 (Trust over IP Trust Registry Query Protocol) and the HR trust-decision read.

TRQP base URL: ``/trqp``. ``POST /trqp/authorization`` answers "is ``entity_id``
authorized to ``action`` ``resource`` under ``authority_id`` (at ``context.time``)?" from
the combined trust decision: ``action`` ``issue`` with ``resource`` a credential type.
``POST /trqp/recognition`` answers whether this node recognizes ``entity_id`` as an
authority (a trust anchor of its registry). Responses echo the query and add
``authorized``/``recognized``, ``time_requested``, ``time_evaluated``, ``message`` (TRQP v2
spec-aligned shape), plus this node's ``evidence``. ``authority_id`` is echoed but does
not select a sub-ecosystem: the node answers with its one configured policy.
"""

from __future__ import annotations

import base64
import binascii
from datetime import datetime
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from trustbridge.api.body import read_model
from trustbridge.api.openapi import ApiRoutes
from trustbridge.errors import InputError
from trustbridge.trust.decision import TrustDecision
from trustbridge.trust.service import TrustService, trust_of

routes = ApiRoutes()
_TAGS = ("trust (TRQP v2)",)
ISSUE_ACTIONS = frozenset({"issue", "issue_credential", "issuer"})
MAX_ID = 2048


class TrqpContext(BaseModel):
    model_config = ConfigDict(extra="allow")

    time: datetime | None = None
    schema_id: str | None = Field(default=None, max_length=MAX_ID)
    jurisdiction: str | None = Field(default=None, max_length=64)
    x5c: list[str] = Field(default_factory=list, max_length=10)  # base64 DER, leaf first


class TrqpQuery(BaseModel):
    """TRQP v2 authorization/recognition query."""

    model_config = ConfigDict(extra="forbid")

    entity_id: str = Field(min_length=1, max_length=MAX_ID)
    authority_id: str = Field(min_length=1, max_length=MAX_ID)
    action: str = Field(min_length=1, max_length=200)
    resource: str = Field(min_length=1, max_length=MAX_ID)
    context: TrqpContext = Field(default_factory=TrqpContext)


class TrqpAnswer(BaseModel):
    entity_id: str
    authority_id: str
    action: str
    resource: str
    authorized: bool | None = None
    recognized: bool | None = None
    time_requested: datetime
    time_evaluated: datetime
    message: str
    context: dict[str, Any] = Field(default_factory=dict)
    evidence: list[dict[str, Any]] = Field(default_factory=list)


class DecisionView(BaseModel):
    """``GET /v1/trust/decision``: the combined decision with every source's evidence."""

    trusted: bool
    status: str
    code: str
    reason: str
    issuer: str
    policy: str
    at: datetime
    evidence: list[dict[str, Any]]
    since_then: dict[str, str] | None = None


def _trust(request: web.Request) -> TrustService:
    return trust_of(request.app["services"])


def _x5c(values: list[str]) -> list[bytes]:
    try:
        return [base64.b64decode(v, validate=True) for v in values]
    except (binascii.Error, ValueError) as exc:
        raise InputError("context.x5c must be base64 DER certificates",
                         code="trqp.x5c_invalid") from exc


def _evidence(decision: TrustDecision) -> list[dict[str, Any]]:
    return [a.model_dump(mode="json") for a in decision.evidence]


@routes.route("POST", "/trqp/authorization", summary="TRQP v2 authorization query",
              tags=_TAGS, body=TrqpQuery, response=TrqpAnswer,
              responses={400: "malformed query or unsupported action"})
async def authorization(request: web.Request) -> web.Response:
    query = await read_model(request, TrqpQuery)
    if query.action.lower() not in ISSUE_ACTIONS:
        raise InputError(f"action {query.action!r} is not answered here (only 'issue')",
                         code="trqp.action_unsupported")
    trust = _trust(request)
    now = trust.clock()
    at = query.context.time or now
    decision = await trust.decide(query.entity_id, types=[query.resource],
                                  schema_id=query.context.schema_id,
                                  jurisdiction=query.context.jurisdiction, at=at,
                                  x5c=_x5c(query.context.x5c))
    verb = {"trusted": "is", "not_trusted": "is not"}.get(decision.status, "cannot be shown to be")
    body = TrqpAnswer(
        entity_id=query.entity_id, authority_id=query.authority_id, action=query.action,
        resource=query.resource, authorized=decision.trusted, time_requested=at,
        time_evaluated=now,
        message=f"{query.entity_id} {verb} authorized for {query.action}+{query.resource} "
                f"(action+resource) by {query.authority_id}: {decision.reason}",
        context={**query.context.model_dump(mode="json", exclude_none=True, exclude={"x5c"}),
                 "status": decision.status, "code": decision.code,
                 **({"since_then": decision.since_then} if decision.since_then else {})},
        evidence=_evidence(decision))
    return web.json_response(text=body.model_dump_json(exclude_none=True))


@routes.route("POST", "/trqp/recognition", summary="TRQP v2 recognition query", tags=_TAGS,
              body=TrqpQuery, response=TrqpAnswer, responses={400: "malformed query"})
async def recognition(request: web.Request) -> web.Response:
    query = await read_model(request, TrqpQuery)
    trust = _trust(request)
    now = trust.clock()
    anchors: frozenset[str] = getattr(trust.registry, "anchors", frozenset())
    recognized = query.entity_id in anchors
    body = TrqpAnswer(
        entity_id=query.entity_id, authority_id=query.authority_id, action=query.action,
        resource=query.resource, recognized=recognized, time_requested=query.context.time or now,
        time_evaluated=now,
        message=f"{query.entity_id} is {'' if recognized else 'not '}recognized as an "
                f"authority (trust anchor) by this registry",
        context=query.context.model_dump(mode="json", exclude_none=True, exclude={"x5c"}))
    return web.json_response(text=body.model_dump_json(exclude_none=True))


@routes.route("GET", "/v1/trust/decision", summary="The combined issuer trust decision",
              tags=("trust",), response=DecisionView,
              query=(("issuer", "issuer DID", True),
                     ("type", "credential type (repeatable)", False),
                     ("schema", "credential schema id", False),
                     ("jurisdiction", "jurisdiction code", False),
                     ("at", "RFC 3339 time to decide at (default now)", False)),
              responses={400: "missing issuer or malformed at"})
async def decision(request: web.Request) -> web.Response:
    q = request.query
    issuer = q.get("issuer", "")
    if not issuer or len(issuer) > MAX_ID:
        raise InputError("issuer is required", code="trust.issuer_required")
    at = None
    if q.get("at"):
        try:
            at = datetime.fromisoformat(q["at"].replace("Z", "+00:00"))
        except ValueError as exc:
            raise InputError("at must be an RFC 3339 time", code="trust.at_invalid") from exc
        if at.tzinfo is None:
            raise InputError("at needs a time zone offset", code="trust.at_invalid")
    trust = _trust(request)
    types = [t for t in q.getall("type", []) if t][:20]
    result = await trust.decide(issuer, types=types, schema_id=q.get("schema") or None,
                                jurisdiction=q.get("jurisdiction") or None, at=at)
    view = DecisionView(trusted=result.trusted, status=result.status, code=result.code,
                        reason=result.reason, issuer=issuer, policy=result.policy,
                        at=at or trust.clock(), evidence=_evidence(result),
                        since_then=result.since_then)
    return web.json_response(text=view.model_dump_json())
