"""Request id, structured access log, metrics, problem+json for every error, and the
feature gates (rate limit, idempotency, receipts) -- all in one middleware.

One layer instead of five: every ``await`` inside a request resumes through each
middleware's frame, so a verification that suspends a few dozen times paid for the stack
each time; and features that act only on some requests (a header, a path) are wrapped
around the handler only for those.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from functools import partial
from secrets import token_hex

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from trustbridge.api.metrics import Metrics
from trustbridge.api.problems import from_error, from_http_exception, problem_response
from trustbridge.errors import TrustBridgeError

log = logging.getLogger("trustbridge.access")
errlog = logging.getLogger("trustbridge.error")

REQUEST_ID = "X-Request-ID"
_SAFE_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_metrics_key = web.AppKey("metrics", Metrics)

# A feature's middleware and the cheap test of whether it acts on a request at all.
Gate = tuple[Callable[[web.Request], bool], Middleware]


def _route_name(request: web.Request) -> str:
    info = request.match_info.route.resource
    return info.canonical if info is not None else "unmatched"


def edge(gates: Sequence[Gate] = ()) -> Middleware:
    """The app's only middleware; ``gates`` run inside it, the first outermost."""
    inner_first = tuple(reversed(gates))

    @web.middleware
    async def edge_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        """Request id, timing, metrics, one JSON log line (never bodies); every error
        leaves as RFC 9457 problem+json with a stable ``code``."""
        incoming = request.headers.get(REQUEST_ID)
        rid = incoming if incoming and _SAFE_ID.match(incoming) else token_hex(16)
        request["request_id"] = rid
        start = time.perf_counter()
        status = 500
        try:
            try:
                for wants, middleware in inner_first:
                    if wants(request):
                        handler = partial(middleware, handler=handler)
                response = await handler(request)
            except TrustBridgeError as exc:
                response = from_error(exc, request.path)
            except web.HTTPException as exc:
                if exc.status < 400:
                    raise
                response = from_http_exception(exc, request.path)
            except Exception:
                errlog.exception("unhandled error request_id=%s", rid)
                response = problem_response(
                    500, "internal.error", "Internal error",
                    "An unexpected error occurred; it has been logged.", instance=request.path)
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

    return edge_middleware


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


__all__ = ["REQUEST_ID", "Gate", "_metrics_key", "edge"]
