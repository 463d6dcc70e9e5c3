"""Registry over HTTP: EBSI TIR v5 reads, the accreditation query, search, admin writes.

* ``GET /trusted-issuers-registry/v5/issuers[/{did}[/attributes[/{attributeId}]]]`` answer
  the shapes of EBSI's TIR v5 OpenAPI (``self``/``items``/``total``/``pageSize``/``links``,
  ``page[size]`` at most 50, ``page[after]`` a cursor), so EBSI clients can use this node.
* ``GET /v1/registry/accreditation`` answers "may this issuer issue this credential?" with
  the chain and the reason (in the spirit of the ToIP Trust Registry Query Protocol).
* Writes need ``Authorization: Bearer <admin_token>`` (compared in constant time, checked
  before the body is read: anonymous callers get 401, never a schema error) and are
  disabled (403) when no token is configured. Every accreditation in a write is verified
  and its chain evaluated first; one bad attribute refuses the whole write.
"""

from __future__ import annotations

import hmac
import re
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

from aiohttp import web
from pydantic import BaseModel, Field

from trustbridge.api.body import read_model
from trustbridge.api.openapi import ApiRoutes
from trustbridge.errors import (
    AuthError,
    ConflictError,
    FetchError,
    InputError,
    NotFound,
    PayloadTooLarge,
)
from trustbridge.registry.chain import Accredited, NotAccredited, evaluate_attribute
from trustbridge.registry.facts import gather_chain_facts
from trustbridge.registry.model import Attribute as StoredAttribute
from trustbridge.registry.model import (
    AttributeIn,
    AttributesIn,
    IssuerIn,
    IssuerRecord,
    RevokeIn,
    TirAttributeDetails,
    TirAttributesPage,
    TirIssuer,
    TirIssuersPage,
    attribute_id,
    parse_accreditation,
)
from trustbridge.registry.service import TrustRegistry, registry_of

routes = ApiRoutes()

TIR = "/trusted-issuers-registry/v5"
_TIR_TAGS = ("trusted issuers registry (EBSI TIR v5)",)
_TAGS = ("registry",)
MAX_TIR_PAGE = 50
DEFAULT_TIR_PAGE = 10
_DID = re.compile(r"^did:[a-z0-9]+:[A-Za-z0-9._:%-]+$")
_HEX64 = re.compile(r"^(0x)?[0-9a-fA-F]{64}$")
_PAGE_QUERY = (("page[after]", "cursor: the last item of the previous page", False),
               ("page[size]", f"items per page (1..{MAX_TIR_PAGE}, default "
                              f"{DEFAULT_TIR_PAGE})", False))


def _registry(request: web.Request) -> TrustRegistry:
    return registry_of(request.app["services"])


def _did_param(request: web.Request) -> str:
    did = request.match_info["did"]
    if not _DID.match(did) or len(did) > 2048:
        raise InputError("The format of {did} parameter is not valid", code="did.invalid")
    return did


def _int_param(request: web.Request, name: str, default: int, *, low: int, high: int,
               code: str = "paging.invalid") -> int:
    raw = request.query.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError as exc:
        raise InputError(f"{name} must be an integer", code=code) from exc
    if not low <= value <= high:
        raise InputError(f"{name} should be between {low} and {high}"
                         if name != "page[size]" else
                         f"PageSize should not be greater than {high}", code=code)
    return value


def _page_size(request: web.Request) -> int:
    return _int_param(request, "page[size]", DEFAULT_TIR_PAGE, low=1, high=MAX_TIR_PAGE)


def _origin(request: web.Request) -> str:
    return str(request.url.origin())


def _page_url(base: str, after: int, size: int) -> str:
    return f"{base}?page[after]={after}&page[size]={size}"


# -- EBSI TIR v5 reads --------------------------------------------------------------------

@routes.route("GET", f"{TIR}/issuers", summary="List trusted issuers (EBSI TIR v5)",
              tags=_TIR_TAGS, response=TirIssuersPage, query=_PAGE_QUERY,
              responses={400: "page[size] over 50 or a malformed cursor"})
async def list_issuers(request: web.Request) -> web.Response:
    store = _registry(request).store
    size = _page_size(request)
    after = _int_param(request, "page[after]", 0, low=0, high=2**62)
    rows = await store.list_issuers(after, size)
    total = await store.count_issuers()
    base = f"{_origin(request)}{TIR}/issuers"
    last_seq = rows[-1].seq if rows else after
    next_after = last_seq if len(rows) == size else after
    last = await store.last_page_cursor(size)
    body = {
        "self": _page_url(base, after, size),
        "items": [{"did": r.did, "href": f"{base}/{r.did}"} for r in rows],
        "total": total,
        "pageSize": size,
        "links": {"first": _page_url(base, 0, size),
                  "prev": _page_url(base, await store.cursor_before(after, size), size),
                  "next": _page_url(base, next_after, size),
                  "last": _page_url(base, last, size)},
    }
    return web.json_response(body)


async def _record(request: web.Request) -> IssuerRecord:
    did = _did_param(request)
    record = await _registry(request).store.get_issuer(did)
    if record is None:
        raise NotFound("Not found", code="issuer.not_registered")
    return record


@routes.route("GET", f"{TIR}/issuers/{{did}}", summary="An issuer and its attributes "
              "(EBSI TIR v5)", tags=_TIR_TAGS, response=TirIssuer,
              responses={400: "not a DID", 404: "not registered"})
async def get_issuer(request: web.Request) -> web.Response:
    record = await _record(request)
    return web.json_response({"did": record.did,
                              "attributes": [a.to_tir() for a in record.attributes]})


@routes.route("GET", f"{TIR}/issuers/{{did}}/attributes", summary="An issuer's attribute ids "
              "(EBSI TIR v5)", tags=_TIR_TAGS, response=TirAttributesPage, query=_PAGE_QUERY,
              responses={400: "not a DID or bad paging", 404: "not registered"})
async def list_attributes(request: web.Request) -> web.Response:
    record = await _record(request)
    size = _page_size(request)
    after = _int_param(request, "page[after]", 0, low=0, high=10_000)
    attrs = list(record.attributes)
    page = attrs[after:after + size]
    base = f"{_origin(request)}{TIR}/issuers/{record.did}/attributes"
    last = max(0, (len(attrs) - 1) // size * size)
    return web.json_response({
        "self": _page_url(base, after, size),
        "items": [{"id": a.id, "href": f"{base}/{a.id}"} for a in page],
        "total": len(attrs),
        "pageSize": size,
        "links": {"first": _page_url(base, 0, size),
                  "prev": _page_url(base, max(0, after - size), size),
                  "next": _page_url(base, after + size if after + size < len(attrs)
                                    else after, size),
                  "last": _page_url(base, last, size)},
    })


@routes.route("GET", f"{TIR}/issuers/{{did}}/attributes/{{attributeId}}",
              summary="One attribute: the accreditation JWT and its registry data "
              "(EBSI TIR v5)", tags=_TIR_TAGS, response=TirAttributeDetails,
              responses={400: "not a DID or attribute id", 404: "not found"})
async def get_attribute(request: web.Request) -> web.Response:
    did = _did_param(request)
    attr_id = request.match_info["attributeId"]
    if not _HEX64.match(attr_id):
        raise InputError("The format of {attributeId} parameter is not valid",
                         code="attribute.invalid")
    attr = await _registry(request).store.get_attribute(did, attr_id.removeprefix("0x").lower())
    if attr is None:
        raise NotFound("Not found", code="attribute.not_found")
    return web.json_response({"did": did, "attribute": attr.to_tir()})


# -- the accreditation query ---------------------------------------------------------------

class AccreditationAnswer(BaseModel):
    """``accredited`` with the chain (TI … RootTAO), or why not (stable ``code``)."""

    accredited: bool
    indeterminate: bool = Field(default=False, description="a fact could not be fetched: "
                                "neither yes nor no")
    code: str
    reason: str
    issuer: str
    issuer_name: str | None = None
    country: str | None = None
    at: datetime
    chain: list[dict[str, Any]]


def _parse_at(raw: str | None) -> datetime:
    if not raw:
        return datetime.now(UTC)
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError("at must be an RFC 3339 date-time", code="query.invalid") from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


@routes.route("GET", "/v1/registry/accreditation", summary="Is this issuer accredited for "
              "this credential type, schema and jurisdiction at this time?", tags=_TAGS,
              response=AccreditationAnswer,
              query=(("issuer", "issuer DID", True),
                     ("type", "credential type (repeat, or comma-separated)", False),
                     ("schema", "credentialSchema id", False),
                     ("jurisdiction", "ISO 3166 alpha-2, alpha-3 or EU", False),
                     ("at", "RFC 3339 time (default: now)", False)),
              responses={400: "missing issuer or malformed parameter"})
async def accreditation(request: web.Request) -> web.Response:
    issuer = request.query.get("issuer", "")
    if not _DID.match(issuer):
        raise InputError("issuer must be a DID", code="query.invalid")
    types = [t.strip() for raw in request.query.getall("type", []) for t in raw.split(",")
             if t.strip()]
    at = _parse_at(request.query.get("at"))
    answer = await _registry(request).evaluate(
        issuer, types=types, schema_id=request.query.get("schema") or None,
        jurisdiction=request.query.get("jurisdiction") or None, at=at)
    if isinstance(answer, Accredited):
        body = AccreditationAnswer(accredited=True, code=answer.code, reason=answer.reason,
                                   issuer=issuer, issuer_name=answer.issuer_name,
                                   country=answer.country, at=at,
                                   chain=[c.model_dump(mode="json") for c in answer.chain])
    else:
        body = AccreditationAnswer(accredited=False, indeterminate=answer.indeterminate,
                                   code=answer.code, reason=answer.reason, issuer=issuer, at=at,
                                   chain=[c.model_dump(mode="json")
                                          for c in answer.partial_chain])
    return web.json_response(body.model_dump(mode="json"))


# -- search for the HR UI ------------------------------------------------------------------

class IssuerHit(BaseModel):
    did: str
    name: str | None
    country: str | None
    revoked: bool
    href: str


class IssuerSearch(BaseModel):
    items: list[IssuerHit]
    next: int | None = Field(description="page_after for the next page, if any")


@routes.route("GET", "/v1/registry/issuers", summary="Search issuers by name/DID and country",
              tags=_TAGS, response=IssuerSearch,
              query=(("q", "text in the name or DID", False),
                     ("country", "ISO 3166 alpha-2", False),
                     ("page_after", "cursor from the previous page", False),
                     ("page_size", "1..100 (default 20)", False)))
async def search(request: web.Request) -> web.Response:
    q = request.query.get("q", "")[:200] or None
    country = request.query.get("country") or None
    if country is not None and not re.fullmatch(r"[A-Za-z]{2}", country):
        raise InputError("country must be an ISO 3166 alpha-2 code", code="query.invalid")
    size = _int_param(request, "page_size", 20, low=1, high=100, code="query.invalid")
    after = _int_param(request, "page_after", 0, low=0, high=2**62, code="query.invalid")
    rows = await _registry(request).store.search(q, country=country, page_after=after,
                                                 page_size=size)
    base = f"{_origin(request)}{TIR}/issuers"
    return web.json_response({
        "items": [{"did": r.did, "name": r.name, "country": r.country, "revoked": r.revoked,
                   "href": f"{base}/{quote(r.did, safe=':')}"} for r in rows],
        "next": rows[-1].seq if len(rows) == size else None})


# -- admin writes ---------------------------------------------------------------------------

def _authorise(request: web.Request) -> None:
    """Bearer admin token, compared in constant time; writes off without a configured token.

    Runs before the body is read or judged (only a declared size over ``max_body_bytes`` is
    refused first, 413: a transport limit, it says nothing about the schema)."""
    limit: int = request.app["settings"].max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"request body of {request.content_length} bytes exceeds {limit}")
    token = request.app["settings"].admin_token
    if token is None or not token.get_secret_value():
        raise AuthError("registry writes are disabled: no admin token is configured",
                        code="registry.writes_disabled", forbidden=True)
    header = request.headers.get("Authorization", "")
    scheme, _, given = header.partition(" ")
    if scheme.lower() != "bearer" or not given:
        raise AuthError("an admin bearer token is required", code="auth.required")
    if not hmac.compare_digest(given.strip().encode("utf-8"),
                               token.get_secret_value().encode("utf-8")):
        raise AuthError("the admin token is not valid", code="auth.invalid")


class WriteResult(BaseModel):
    did: str
    attributes: list[dict[str, Any]]
    epoch: int


async def _checked(registry: TrustRegistry, did: str, existing: IssuerRecord | None,
                   new: list[AttributeIn], *, name: str | None, country: str | None
                   ) -> list[StoredAttribute]:
    """Verify every new attribute against the registry as it would be after the write."""
    attrs: list[StoredAttribute] = []
    problems: list[dict[str, Any]] = []
    for index, a in enumerate(new):
        try:
            acc = parse_accreditation(a.jwt)
        except InputError as exc:
            problems.append({"index": index, "code": exc.code, "reason": exc.message})
            continue
        if acc.subject != did:
            problems.append({"index": index, "code": "accreditation.subject_mismatch",
                             "reason": f"the accreditation is about {acc.subject}, not {did}"})
            continue
        if a.tao is not None and a.tao != acc.issuer:
            problems.append({"index": index, "code": "accreditation.issuer_mismatch",
                             "reason": f"tao {a.tao} did not issue this accreditation"})
            continue
        attrs.append(StoredAttribute(id=attribute_id(a.jwt), did=did, body=a.jwt,
                                     issuer_type=a.issuer_type, tao=a.tao or acc.issuer,
                                     root_tao=a.root_tao))
    if not problems:
        base = existing or IssuerRecord(did=did, name=name, country=country)
        kept = tuple(x for x in base.attributes if x.id not in {n.id for n in attrs})
        proposed = base.model_copy(update={"attributes": (*kept, *attrs)})
        facts = await gather_chain_facts(registry.store, registry.verifier, did,
                                         max_depth=registry.max_depth, overlay={did: proposed})
        now = datetime.now(UTC)
        for index, attr in enumerate(attrs):
            answer = evaluate_attribute(did, attr.id, at=now, records=facts.records,
                                        verified=facts.verified, anchors=registry.anchors,
                                        max_depth=registry.max_depth)
            if isinstance(answer, NotAccredited):
                if answer.indeterminate:
                    raise FetchError(answer.reason, code=answer.code)
                problems.append({"index": index, "code": answer.code, "reason": answer.reason})
    if problems:
        raise InputError(f"{len(problems)} of {len(new)} accreditations were refused; "
                         "nothing was stored", code="registry.attribute_rejected",
                         details={"rejected": problems})
    return attrs


async def _written(registry: TrustRegistry, did: str, status: int) -> web.Response:
    record = await registry.store.get_issuer(did)
    assert record is not None
    body = {"did": did, "attributes": [a.to_tir() for a in record.attributes],
            "epoch": await registry.epoch_number()}
    return web.json_response(body, status=status)


@routes.route("POST", "/v1/registry/issuers", summary="Register an issuer with its "
              "accreditations (admin)", tags=_TAGS, body=IssuerIn, response=WriteResult,
              auth=True, responses={201: "registered", 400: "an accreditation was refused",
                                    401: "no or wrong admin token",
                                    403: "writes disabled", 409: "already registered"})
async def add_issuer(request: web.Request) -> web.Response:
    _authorise(request)  # the token before the body: an anonymous caller gets 401, not 400
    body = await read_model(request, IssuerIn)
    registry = _registry(request)
    if await registry.store.get_issuer(body.did) is not None:
        raise ConflictError(f"{body.did} is already registered", code="issuer.exists")
    attrs = await _checked(registry, body.did, None, body.attributes, name=body.name,
                           country=body.country)
    async with registry.store.transaction() as writer:
        await writer.put_issuer(body.did, name=body.name,
                                country=body.country.upper() if body.country else None)
        for attr in attrs:
            await writer.add_attribute(attr)
    await registry.changed([body.did])
    return await _written(registry, body.did, 201)


@routes.route("POST", "/v1/registry/issuers/{did}/attributes", summary="Add accreditations "
              "to an issuer (admin)", tags=_TAGS, body=AttributesIn, response=WriteResult,
              auth=True, responses={201: "added", 400: "an accreditation was refused",
                                    401: "no or wrong admin token", 403: "writes disabled",
                                    404: "not registered"})
async def add_attributes(request: web.Request) -> web.Response:
    _authorise(request)
    body = await read_model(request, AttributesIn)
    did = _did_param(request)
    registry = _registry(request)
    existing = await registry.store.get_issuer(did)
    if existing is None:
        raise NotFound(f"{did} is not registered", code="issuer.not_registered")
    attrs = await _checked(registry, did, existing, body.attributes, name=None, country=None)
    async with registry.store.transaction() as writer:
        for attr in attrs:
            await writer.add_attribute(attr)
    await registry.changed([did])
    return await _written(registry, did, 201)


@routes.route("POST", "/v1/registry/issuers/{did}/revoke", summary="Revoke an attribute, or "
              "the whole issuer (admin)", tags=_TAGS, body=RevokeIn, response=WriteResult,
              auth=True, responses={401: "no or wrong admin token", 403: "writes disabled",
                                    404: "not registered"})
async def revoke(request: web.Request) -> web.Response:
    _authorise(request)
    body = await read_model(request, RevokeIn)
    did = _did_param(request)
    registry = _registry(request)
    async with registry.store.transaction() as writer:
        if body.attribute_id:
            await writer.revoke_attribute(did, body.attribute_id.removeprefix("0x").lower())
        else:
            await writer.revoke_issuer(did)
    await registry.changed([did])
    return await _written(registry, did, 200)


__all__ = ["routes"]
