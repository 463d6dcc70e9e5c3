"""Request id, structured access log, metrics, and problem+json for every error."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from aiohttp import web
from aiohttp.typedefs import Handler

from trustbridge.api.metrics import Metrics
from trustbridge.api.problems import from_error, from_http_exception, problem_response
from trustbridge.errors import TrustBridgeError

log = logging.getLogger("trustbridge.access")
errlog = logging.getLogger("trustbridge.error")

REQUEST_ID = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_metrics_key = web.AppKey("metrics", Metrics)


def _route_name(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


@web.middleware
async def request_context(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Outermost: request id, timing, metrics, one JSON log line (never bodies)."""
    incoming = request.headers.get(REQUEST_ID, "")
    rid = incoming if _SAFE_ID.match(incoming) else uuid.uuid4().hex
    request["request_id"] = rid
    start = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        response.headers[REQUEST_ID] = rid
        return response
    finally:
        elapsed = time.perf_counter() - start
        route = _route_name(request)
        metrics: Metrics = request.app[_metrics_key]
        metrics.observe(request.method, route, status, elapsed)
        if log.isEnabledFor(logging.INFO):  # the line is built only when it is written
            _log_request(request, rid, route, status, elapsed)


def _log_request(request: web.Request, rid: str, route: str, status: int,
                 elapsed: float) -> None:
    entry = {
        "event": "request",
        "request_id": rid,
        "method": request.method,
        "route": route,
        "status": status,
        "duration_ms": round(elapsed * 1000, 2),
    }
    verdict = request.get("verdict")
    if verdict is not None:
        entry["verdict"] = verdict
    log.info(json.dumps(entry))


@web.middleware
async def problem_details(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Every error leaves as RFC 9457 problem+json with a stable ``code``."""
    instance = request.path
    try:
        return await handler(request)
    except TrustBridgeError as exc:
        resp = from_error(exc, instance)
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        resp = from_http_exception(exc, instance)
    except Exception:
        errlog.exception("unhandled error request_id=%s", request.get("request_id"))
        resp = problem_response(500, "internal.error", "Internal error",
                                "An unexpected error occurred; it has been logged.",
                                instance=instance)
    if "request_id" in request:
        resp.headers[REQUEST_ID] = request["request_id"]
    return resp


__all__ = ["REQUEST_ID", "_metrics_key", "problem_details", "request_context"]
