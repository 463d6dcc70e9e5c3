"""Registry sync over HTTP: national registries push signed batches; nodes read the log.

``POST /v1/registry/batches`` takes a compact JWS (``application/jose`` or
``application/jwt``) or ``{"batch": "<jws>"}``; see docs/registry-sync.md.
Batches may be larger than ``max_body_bytes`` (up to ``sync_max_batch_bytes``),
so this route reads its own body with that cap.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from trustbridge.api.body import JSON_TYPES, parse_json_bytes, validate
from trustbridge.api.openapi import ApiRoutes
from trustbridge.errors import InputError, NotFound, PayloadTooLarge, UnsupportedMediaType
from trustbridge.registry.sync_service import sync_of

routes = ApiRoutes()

JOSE_TYPES = ("application/jose", "application/jwt")
_TAGS = ("registry sync",)


class BatchBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    batch: str = Field(description="The batch as a compact JWS signed by the registry's DID.")


class BatchApplied(BaseModel):
    status: str = Field(description="applied | duplicate (an identical batch was applied)")
    registry: str
    sequence: int
    log: dict[str, int | None]
    epoch: int
    changes: int


class LogPage(BaseModel):
    after: int
    limit: int
    entries: list[dict[str, Any]]
    batches: dict[str, str] = Field(description="Signed batches whose first change is here, "
                                                "by sha256 of the JWS text.")
    next: int | None


class LogHeadOut(BaseModel):
    jws: str = Field(description="Compact JWS by the node key over {seq, hash, node_did, "
                                 "signed_at}.")
    head: dict[str, Any]


class SyncStatus(BaseModel):
    node_did: str
    log: dict[str, Any]
    peers: list[dict[str, Any]]
    upstream: dict[str, Any] | None
    events_received: int


async def _read_batch(request: web.Request) -> str:
    """Large batches come as ``application/jose`` (up to ``sync_max_batch_bytes``); the JSON
    wrapper keeps the app-wide ``max_body_bytes``."""
    if request.content_type not in (*JOSE_TYPES, *JSON_TYPES):
        raise UnsupportedMediaType("send the batch as application/jose, application/jwt or "
                                   "application/json {\"batch\": …}")
    settings = request.app["settings"]
    limit: int = (settings.sync_max_batch_bytes if request.content_type in JOSE_TYPES
                  else settings.max_body_bytes)
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"batch of {request.content_length} bytes exceeds {limit}")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.content.iter_chunked(1 << 16):
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge(f"batch exceeds {limit} bytes")
        chunks.append(chunk)
    raw = b"".join(chunks)
    if request.content_type in JOSE_TYPES:
        try:
            return raw.decode("ascii").strip()
        except UnicodeDecodeError as exc:
            raise InputError("a compact JWS is ASCII", code="batch.malformed") from exc
    data = parse_json_bytes(raw, max_depth=request.app["settings"].max_json_depth)
    return validate(BatchBody, data).batch


@routes.route(
    "POST", "/v1/registry/batches",
    summary="Apply a signed batch of registry changes from a national registry, all or nothing.",
    tags=_TAGS, body=BatchBody,
    body_content_types=("application/json", "application/jose", "application/jwt"),
    response=BatchApplied,
    responses={200: "Applied, or identical to an applied batch (status: duplicate)",
               400: "Malformed, bad signature, or changes refused (rejected lists each)",
               403: "The signing registry is not authorised here",
               409: "Replayed sequence with other content, or out of order",
               413: "Larger than sync_max_batch_bytes (JOSE) or max_body_bytes (JSON)"})
async def post_batch(request: web.Request) -> web.Response:
    token = await _read_batch(request)
    result = await sync_of(request.app["services"]).engine.submit(token)
    return web.json_response(result.to_json())


@routes.route(
    "GET", "/v1/registry/log",
    summary="Change-log entries after a sequence number, with the batches they came from.",
    tags=_TAGS, response=LogPage,
    query=(("after", "Return entries with seq > after (default 0)", False),
           ("limit", "Page size (default 1000, at most 5000)", False)))
async def get_log(request: web.Request) -> web.Response:
    after = _int_param(request, "after", 0, 0, 2**62)
    limit = _int_param(request, "limit", 1000, 1, 5000)
    page = await sync_of(request.app["services"]).engine.log_page(after, limit)
    return web.json_response(page)


@routes.route("GET", "/v1/registry/log/head",
              summary="The change log's head {seq, hash}, signed by this node's key.",
              tags=_TAGS, response=LogHeadOut)
async def get_head(request: web.Request) -> web.Response:
    head, jws = await sync_of(request.app["services"]).engine.signed_head()
    if "application/jose" in request.headers.get("Accept", ""):
        return web.Response(text=jws, content_type="application/jose")
    return web.json_response({"jws": jws, "head": head.payload()})


@routes.route("GET", "/v1/registry/batches/{digest}",
              summary="A signed batch by the sha256 of its JWS text (as log entries name it).",
              tags=_TAGS, response_content_type="application/jose",
              responses={404: "No such batch"})
async def get_batch(request: web.Request) -> web.Response:
    digest = request.match_info["digest"]
    found = await sync_of(request.app["services"]).store.batches_by_digest([digest])
    if digest not in found:
        raise NotFound(f"no batch {digest}", code="batch.not_found")
    return web.Response(text=found[digest], content_type="application/jose")


@routes.route("GET", "/v1/registry/sync/status",
              summary="Log head, mirror peers (cursor, last error) and the last upstream run.",
              tags=_TAGS, response=SyncStatus)
async def get_status(request: web.Request) -> web.Response:
    return web.json_response(await sync_of(request.app["services"]).status())


def _int_param(request: web.Request, name: str, default: int, low: int, high: int) -> int:
    raw = request.query.get(name)
    if raw is None:
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InputError(f"{name} must be an integer", code="request.query") from exc
    if not low <= value <= high:
        raise InputError(f"{name} must be between {low} and {high}", code="request.query")
    return value


__all__ = ["routes"]
