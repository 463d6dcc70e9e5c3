"""The HR integration API: batch and asynchronous verification, receipts, webhook log.

Every item is what one would POST to ``/v1/verify``; a bad item is an inline problem,
never a failed batch. When tenant API keys are configured these routes require one
(``X-API-Key`` or ``Authorization: Bearer``), and jobs are visible to their tenant only.
"""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from trustbridge.api.body import read_model
from trustbridge.api.middlewares import _metrics_key
from trustbridge.api.openapi import ApiRoutes
from trustbridge.errors import InputError, NotFound
from trustbridge.hr.items import ItemOutcome, summary_counts
from trustbridge.hr.job_store import QUEUED, Job
from trustbridge.hr.jobs import millis
from trustbridge.hr.rate_limits import limited
from trustbridge.hr.receipts import ReceiptError, verify_receipt
from trustbridge.hr.service import HrComponent, hr_of
from trustbridge.hr.tenants import tenant_of
from trustbridge.oid4vp.webhook import WebhookRefused, check_url

routes = ApiRoutes()
TAGS = ("hr",)
MAX_PAGE = 1000


class BatchRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[Any] = Field(description="Each item is a POST /v1/verify body")
    receipts: bool = Field(default=False, description="Return a signed receipt per item")


class ItemResult(BaseModel):
    index: int
    status: int = Field(description="200 with a report, or the 4xx of an unusable item")
    report: dict[str, Any] | None = None
    problem: dict[str, Any] | None = None
    receipt: str | None = None


class BatchResponse(BaseModel):
    items: list[ItemResult]
    summary: dict[str, int]


class WebhookTarget(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048)
    secret: str = Field(min_length=16, max_length=256,
                        description="HMAC-SHA256 key for X-TrustBridge-Signature")


class JobRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[Any]
    receipts: bool = False
    keep_personal_data: bool = Field(
        default=False, description="Keep holder DIDs and credential summaries in stored "
                                   "results (default: verdicts and checks only)")
    webhook: WebhookTarget | None = None


class JobView(BaseModel):
    id: str
    state: str
    total: int
    done: int
    summary: dict[str, int] | None = None
    created_at: int
    finished_at: int | None = None
    expires_at: int | None = None
    results: list[ItemResult] = Field(default_factory=list)
    next_offset: int | None = None


class ReceiptCheck(BaseModel):
    model_config = ConfigDict(extra="forbid")

    receipt: str = Field(max_length=64 * 1024)
    report: dict[str, Any] | None = Field(default=None,
                                          description="The report, to compare its digest")
    presentation: str | dict[str, Any] | None = None
    credential: str | dict[str, Any] | None = None


class ReceiptResult(BaseModel):
    valid: bool
    code: str
    message: str
    claims: dict[str, Any] | None = None


class DeliveryView(BaseModel):
    id: str
    job_id: str
    event: str
    url: str
    delivered: bool
    attempts: int
    last_error: str | None
    created_at: int


class DeliveryLog(BaseModel):
    deliveries: list[DeliveryView]


def _hr(request: web.Request) -> HrComponent:
    return hr_of(request.app["services"])


def _check_count(items: list[Any], limit: int) -> None:
    if not items:
        raise InputError("give at least one item", code="batch.empty")
    if len(items) > limit:
        raise InputError(f"at most {limit} items per request", code="batch.too_many_items",
                         details={"max_items": limit})


@routes.route(
    "POST", "/v1/verify/batch",
    summary="Verify up to hr_batch_max_items presentations/credentials; results in item order.",
    tags=TAGS, body=BatchRequest, response=BatchResponse,
    responses={200: "One result per item (a report, or an inline problem)",
               400: "Not a batch, or too many items", 401: "API key required or invalid",
               429: "Rate limit; see Retry-After"},
)
async def verify_batch(request: web.Request) -> web.Response:
    if (refused := await limited(request, tenant_of(request))) is not None:
        return refused
    body = await read_model(request, BatchRequest)
    _check_count(body.items, request.app["settings"].hr_batch_max_items)
    outcomes = await _hr(request).runner.run(body.items, receipts=body.receipts)
    metrics = request.app[_metrics_key]
    for o in outcomes:
        metrics.inc("batch_items_total", verdict=o.verdict or "rejected")
    return web.json_response({"items": [o.to_json() for o in outcomes],
                              "summary": summary_counts(outcomes)})


def _view(job: Job, results: list[ItemOutcome] | None = None,
          next_offset: int | None = None) -> dict[str, Any]:
    view = JobView(id=job.id, state=job.state, total=job.total, done=job.done,
                   summary=job.summary, created_at=job.created_at,
                   finished_at=job.finished_at, expires_at=job.expires_at,
                   next_offset=next_offset)
    data = view.model_dump(mode="json", exclude={"results"})
    data["results"] = [o.to_json() for o in results or []]
    return data


@routes.route(
    "POST", "/v1/jobs",
    summary="Queue a large verification job; poll GET /v1/jobs/{id} or await the webhook.",
    tags=TAGS, body=JobRequest, response=JobView,
    responses={202: "Queued; Location names the job", 400: "Not a job, or too many items",
               401: "API key required or invalid", 429: "Rate limit; see Retry-After"},
)
async def create_job(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    if (refused := await limited(request, tenant)) is not None:
        return refused
    settings = request.app["settings"]
    body = await read_model(request, JobRequest)
    _check_count(body.items, settings.hr_job_max_items)
    if body.webhook is not None:
        try:
            check_url(body.webhook.url, allow_private=settings.hr_webhook_allow_private)
        except WebhookRefused as exc:
            raise InputError(str(exc), code="webhook.url_refused") from exc
    hr = _hr(request)
    now = millis(request.app["services"].clock)
    job = Job(id=uuid.uuid4().hex, tenant=tenant, state=QUEUED, total=len(body.items), done=0,
              receipts=body.receipts, keep_personal=body.keep_personal_data,
              webhook_url=body.webhook.url if body.webhook else None,
              webhook_secret=body.webhook.secret if body.webhook else None,
              webhook_state=None, summary=None, created_at=now, updated_at=now,
              finished_at=None, expires_at=None)
    await hr.store.create(job, body.items)
    hr.job_submitted()
    location = f"/v1/jobs/{job.id}"
    return web.json_response(_view(job), status=202, headers={"Location": location})


def _int_query(request: web.Request, name: str, default: int, upper: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or int(raw) > upper:
        raise InputError(f"{name} must be an integer from 0 to {upper}",
                         code="request.bad_query")
    return int(raw)


@routes.route(
    "GET", "/v1/jobs/{job_id}",
    summary="A job's progress, verdict counts and (paged) results.",
    tags=TAGS, response=JobView,
    query=(("offset", "first item index of the results page", False),
           ("limit", f"results per page (max {MAX_PAGE})", False)),
    responses={200: "The job", 404: "No such job for this tenant"},
)
async def get_job(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    offset = _int_query(request, "offset", 0, 10**9)
    limit = _int_query(request, "limit", MAX_PAGE, MAX_PAGE)
    hr = _hr(request)
    job = await hr.store.get(request.match_info["job_id"], tenant)
    if job is None:
        raise NotFound("no such job", code="job.not_found")
    results = await hr.store.results(job.id, offset=offset, limit=limit) if limit else []
    more = results[-1].index + 1 if len(results) == limit and results else None
    return web.json_response(_view(job, results, more))


@routes.route(
    "DELETE", "/v1/jobs/{job_id}",
    summary="Delete a job and its stored results now (before the retention period ends).",
    tags=TAGS, responses={204: "Deleted", 404: "No such job for this tenant"},
)
async def delete_job(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    if not await _hr(request).store.delete(request.match_info["job_id"], tenant):
        raise NotFound("no such job", code="job.not_found")
    return web.Response(status=204)


@routes.route(
    "GET", "/v1/webhooks/deliveries",
    summary="This tenant's webhook deliveries, newest first.",
    tags=TAGS, response=DeliveryLog,
    query=(("limit", f"entries (max {MAX_PAGE})", False),),
)
async def deliveries(request: web.Request) -> web.Response:
    tenant = tenant_of(request)
    limit = _int_query(request, "limit", 100, MAX_PAGE)
    rows = await _hr(request).store.deliveries(tenant, limit=limit)
    log = DeliveryLog(deliveries=[DeliveryView(id=d.id, job_id=d.job_id, event=d.event, url=d.url,
                                               delivered=d.delivered, attempts=d.attempts,
                                               last_error=d.last_error, created_at=d.created_at)
                                  for d in rows])
    return web.json_response(text=log.model_dump_json())


@routes.route(
    "POST", "/v1/receipts/verify",
    summary="Check a verification receipt (signature by this node; optional digest matches).",
    tags=TAGS, body=ReceiptCheck, response=ReceiptResult,
    responses={200: "valid true or false, with a stable code",
               429: "Too many requests from this client; see Retry-After"},
)
async def check_receipt(request: web.Request) -> web.Response:
    body = await read_model(request, ReceiptCheck)
    signer = _hr(request).signer
    presented = body.presentation if body.presentation is not None else body.credential
    try:
        verified = verify_receipt(body.receipt, node_did=signer.did,
                                  public_key=signer.key.private_key.public_key(),
                                  report=body.report, presented=presented)
    except ReceiptError as exc:
        result = ReceiptResult(valid=False, code=exc.code, message=str(exc))
    else:
        result = ReceiptResult(valid=True, code="receipt.ok", message="the receipt verifies",
                               claims=verified.claims)
    return web.json_response(text=result.model_dump_json())


class KeySet(BaseModel):
    node_did: str
    keys: list[dict[str, str]]


@routes.route(
    "GET", "/.well-known/trustbridge-keys",
    summary="The node's receipt-signing public key (JWKS) and DID, for offline verification.",
    tags=TAGS, response=KeySet,
)
async def keys(request: web.Request) -> web.Response:
    signer = _hr(request).signer
    return web.json_response(KeySet(node_did=signer.did, keys=[signer.public_jwk()]).model_dump())


__all__ = ["routes"]
