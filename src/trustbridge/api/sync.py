"""Registry sync over HTTP: national registries push signed batches; nodes read the log.

``POST /v1/registry/batches`` takes a compact JWS (``application/jose`` or
``application/jwt``) or ``{"batch": "<jws>"}``; see docs/registry-sync.md.
Batches may be larger than ``max_body_bytes`` (up to ``sync_max_batch_bytes``),
so this route reads its own body with that cap.

The signature is the caller's credential, so it is checked before the payload is judged:

1. content type (415) and size (413), transport limits;
2. a compact JWS whose ``kid`` names a DID key (else 401 ``batch.unsigned``), verified with
   that ``assertionMethod`` key (else 401 ``batch.signature_invalid``; the key's DID not
   resolvable now: 503), by a registry authorised here (else 403 ``batch.not_authorised``);
3. at most ``rate_limit_sync_batches_per_minute`` pushes per registry (429);
4. only then the wrapper and the payload are validated and the batch applied (the engine
   verifies everything again, binding the kid to the payload's ``registry``).
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from trustbridge.api.body import JSON_TYPES, parse_json_bytes, validate
from trustbridge.api.openapi import ApiRoutes
from trustbridge.api.ratelimit import registry_buckets, too_many
from trustbridge.crypto.jws import DEFAULT_ALGS, parse_compact_jws, verify_jws
from trustbridge.did.interface import DIDError, public_key_of
from trustbridge.errors import (
    AuthError,
    FetchError,
    InputError,
    NotFound,
    PayloadTooLarge,
    UnsupportedMediaType,
)
from trustbridge.registry.sync_service import SyncComponent, sync_of

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


def _unsigned(why: str) -> AuthError:
    return AuthError(f"a batch must be a compact JWS signed by a registry DID: {why}",
                     code="batch.unsigned")


async def _read_batch(request: web.Request) -> tuple[str, Any]:
    """Large batches come as ``application/jose`` (up to ``sync_max_batch_bytes``); the JSON
    wrapper keeps the app-wide ``max_body_bytes``. The token, and the JSON wrapper (not yet
    validated: that waits for the signature)."""
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
            return raw.decode("ascii").strip(), None
        except UnicodeDecodeError as exc:
            raise _unsigned("a compact JWS is ASCII") from exc
    try:
        data = parse_json_bytes(raw, max_depth=request.app["settings"].max_json_depth)
    except InputError as exc:
        raise _unsigned("the body is not JSON") from exc
    token = data.get("batch") if isinstance(data, dict) else None
    if not isinstance(token, str):
        raise _unsigned('no "batch" string in the JSON body')
    return token, data


async def _authenticate(request: web.Request, component: SyncComponent, token: str) -> str:
    """Step 2 of the module docstring: the registry DID that signed ``token``."""
    try:
        jws = parse_compact_jws(token.strip(), max_len=len(token) + 1)
    except InputError as exc:
        raise _unsigned(exc.message) from exc
    kid = jws.header.get("kid")
    if isinstance(kid, str) and kid.startswith("#"):  # relative to the payload's registry
        try:
            registry = jws.payload_json().get("registry")
        except (InputError, AttributeError) as exc:
            raise _unsigned("a relative kid needs a payload naming the registry") from exc
        kid = f"{registry}{kid}" if isinstance(registry, str) else None
    if not isinstance(kid, str) or not kid.startswith("did:") or "#" not in kid:
        raise _unsigned("the JWS header has no kid naming a DID key")
    resolver = component.engine.resolver
    if resolver is None:
        raise FetchError("no DID resolver to check the batch signature", code="did.unresolvable")
    try:
        key = public_key_of(await resolver.dereference(kid, relationship="assertionMethod"))
    except DIDError as exc:
        if exc.transient:
            raise FetchError(f"the signer's DID could not be resolved now: {exc.message}",
                             code="did.unresolvable") from exc
        raise AuthError(f"{kid} is not an assertionMethod key: {exc.message}",
                        code="batch.signature_invalid") from exc
    except InputError as exc:
        raise AuthError(f"{kid} is not a usable key: {exc.message}",
                        code="batch.signature_invalid") from exc
    try:
        verify_jws(jws, key, allowed_algs=DEFAULT_ALGS)
    except InputError as exc:
        raise AuthError(f"the batch signature does not verify with {kid}",
                        code="batch.signature_invalid") from exc
    signer = kid.split("#", 1)[0]
    if await component.engine.authorised_jurisdictions(signer, component.engine.clock()) is None:
        raise AuthError(f"{signer} is not an authorised registry here",
                        code="batch.not_authorised", forbidden=True)
    return signer


@routes.route(
    "POST", "/v1/registry/batches",
    summary="Apply a signed batch of registry changes from a national registry, all or nothing.",
    tags=_TAGS, body=BatchBody,
    body_content_types=("application/json", "application/jose", "application/jwt"),
    response=BatchApplied,
    responses={200: "Applied, or identical to an applied batch (status: duplicate)",
               400: "Malformed payload, or changes refused (rejected lists each)",
               401: "Not a JWS signed by a DID key, or the signature does not verify",
               403: "The signing registry is not authorised here",
               429: "This registry pushes too often (Retry-After)",
               409: "Replayed sequence with other content, or out of order",
               413: "Larger than sync_max_batch_bytes (JOSE) or max_body_bytes (JSON)"})
async def post_batch(request: web.Request) -> web.Response:
    component = sync_of(request.app["services"])
    token, wrapper = await _read_batch(request)
    signer = await _authenticate(request, component, token)
    buckets = registry_buckets(request.app)
    if buckets is not None and (wait := buckets.take(signer)) > 0:
        return too_many(request, wait, "this registry")
    if wrapper is not None:
        validate(BatchBody, wrapper)
    result = await component.engine.submit(token)
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
    page = await sync_of(request.app["services"]).engine.log_page_json(after, limit)
    return web.Response(text=page, content_type="application/json")


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
