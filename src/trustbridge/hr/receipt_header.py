"""Receipts for ``POST /v1/verify`` without touching its contract: a caller that sends
``TrustBridge-Receipt: true`` gets the receipt of the returned report in the response
header ``TrustBridge-Receipt`` (the body stays exactly the issue-14 report)."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler

from trustbridge.api.body import parse_json_bytes, read_body
from trustbridge.api.middlewares import Gate
from trustbridge.api.verify import JWT_TYPES
from trustbridge.config import Settings
from trustbridge.hr.batch import registry_epoch
from trustbridge.verify.policy import Policy
from trustbridge.verify.service import verifier_of

HEADER = "TrustBridge-Receipt"
PATH = "/v1/verify"


def _presented_and_policy(request: web.Request, body: bytes) -> tuple[Any, dict[str, Any]]:
    if request.content_type in JWT_TYPES:
        return body.decode("ascii").strip(), Policy().cache_key()
    data = parse_json_bytes(body, max_depth=request.app["settings"].max_json_depth)
    presented = data.get("presentation")
    if presented is None:
        presented = data.get("credential")
    return presented, Policy.model_validate(data.get("policy") or {}).cache_key()


def _wants(request: web.Request) -> bool:
    return (request.headers.get(HEADER, "").strip().lower() in ("true", "1", "yes")
            and request.method == "POST" and request.path == PATH)


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Runs for ``POST /v1/verify`` asking for a receipt (``_wants``)."""
    response = await handler(request)  # a bad request raises before anything is signed
    if response.status != 200 or not isinstance(response, web.Response):
        return response
    body = response.body
    if not isinstance(body, bytes | bytearray):
        return response
    from trustbridge.hr.service import hr_of

    services = request.app["services"]
    presented, policy = _presented_and_policy(request, await read_body(request))
    report = json.loads(bytes(body))
    epoch = await registry_epoch(verifier_of(services))
    response.headers[HEADER] = hr_of(services).signer.sign(
        report=report, presented=presented, policy=policy, epoch=epoch)
    return response


def gate(settings: Settings) -> Gate:
    """Acts only on ``POST /v1/verify`` with ``TrustBridge-Receipt: true``."""
    return _wants, middleware


__all__ = ["HEADER", "gate"]
