"""``GET /1.0/identifiers/{did}``: DID resolution, compatible with the DIF Universal Resolver.

Errors are resolution results too (DID Resolution §"DID Resolution Result"), so this route
answers with the result body and a status derived from ``didResolutionMetadata.error`` — the
one place outside ``problems.py`` that picks a status, because the Universal Resolver's
contract says so: ``invalidDid`` 400, ``notFound`` 404, ``representationNotSupported`` 406,
``methodNotSupported`` 501, ``internalError`` 502 (an upstream — web server or DID
registry — failed or served something unusable; bad input never yields a 5xx here).

Content negotiation (``Accept``): ``application/did+ld+json`` / ``application/did+json`` give
the bare DID document in that representation; ``application/ld+json;profile=
"https://w3id.org/did-resolution"``, ``application/json``, ``*/*`` or none give the full
resolution result; anything else is 406.
"""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from trustbridge.api.openapi import ApiRoutes
from trustbridge.did.interface import REPRESENTATION_NOT_SUPPORTED
from trustbridge.did.resolver import Resolution
from trustbridge.did.service import resolver_of
from trustbridge.model.did import DID_JSON, DID_JSON_LD, ResolutionResult

routes = ApiRoutes()

RESULT_PROFILE = 'application/ld+json;profile="https://w3id.org/did-resolution"'
STATUS = {"invalidDid": 400, "invalidDidUrl": 400, "notFound": 404,
          "representationNotSupported": 406, "methodNotSupported": 501, "internalError": 502}


def negotiate(accept: str | None) -> tuple[str, str] | None:
    """``("document"|"result", media type)`` for an Accept header, or ``None`` (406).

    Preference follows the header's q-values; ties keep the header's order.
    """
    if not accept or not accept.strip():
        return "result", "application/json"
    offers: list[tuple[float, int, str, str]] = []
    for index, item in enumerate(accept.split(",")):
        media, *params = (p.strip() for p in item.split(";"))
        media = media.lower()
        q = 1.0
        profile = None
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            elif name.strip().lower() == "profile":
                profile = value.strip().strip('"')
        if q <= 0:
            continue
        if media in (DID_JSON_LD, DID_JSON):
            offers.append((-q, index, "document", media))
        elif media == "application/ld+json" and profile in (None, "https://w3id.org/did-resolution"):
            offers.append((-q, index, "result", RESULT_PROFILE))
        elif media in ("application/json", "*/*", "application/*"):
            offers.append((-q, index, "result", "application/json"))
    if not offers:
        return None
    _, _, kind, media = min(offers)
    return kind, media


def _respond(body: Any, status: int, content_type: str) -> web.Response:
    media, _, params = content_type.partition(";")
    response = web.Response(status=status, text=json.dumps(body), content_type=media)
    if params:
        response.headers["Content-Type"] = content_type + "; charset=utf-8"
    return response


@routes.route(
    "GET", "/1.0/identifiers/{did}",
    summary="Resolve a DID (DIF Universal Resolver compatible).",
    tags=("did",), response=ResolutionResult,
    responses={
        400: ("invalidDid: the DID is malformed", ResolutionResult),
        404: ("notFound: no document for this DID", ResolutionResult),
        406: ("representationNotSupported", ResolutionResult),
        501: ("methodNotSupported", ResolutionResult),
        502: ("internalError: the DID's web server or registry failed", ResolutionResult),
    },
)
async def resolve_identifier(request: web.Request) -> web.Response:
    did = request.match_info["did"]
    wanted = negotiate(request.headers.get("Accept"))
    resolver = resolver_of(request.app["services"])
    if wanted is None:
        failed = Resolution(did, None, error=REPRESENTATION_NOT_SUPPORTED,
                            message="Accept names no representation this resolver produces")
        return _respond(failed.to_json(), 406, "application/json")
    kind, media = wanted
    representation = media if kind == "document" else DID_JSON_LD
    resolution = await resolver.resolve_document(did, accept=representation)
    if resolution.error is not None:
        result_type = RESULT_PROFILE if media == RESULT_PROFILE else "application/json"
        return _respond(resolution.to_json(), STATUS.get(resolution.error, 502), result_type)
    if kind == "document":
        return _respond(resolution.document, 200, media)
    return _respond(resolution.to_json(), 200, media)


__all__ = ["negotiate", "routes"]
