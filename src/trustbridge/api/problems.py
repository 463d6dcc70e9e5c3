"""RFC 9457 problem details: the only place errors become HTTP statuses."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from trustbridge.errors import (
    AuthError,
    ConflictError,
    InfrastructureError,
    InputError,
    NotFound,
    PayloadTooLarge,
    TrustBridgeError,
    UnsupportedMediaType,
)

PROBLEM_JSON = "application/problem+json"
TYPE_BASE = "https://trustbridge.example/problems/"


def problem_response(
    status: int,
    code: str,
    title: str,
    detail: str,
    *,
    instance: str | None = None,
    extra: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """Build a problem+json response with a stable ``code``."""
    body: dict[str, Any] = {
        "type": TYPE_BASE + code,
        "title": title,
        "status": status,
        "detail": detail,
        "code": code,
    }
    if instance:
        body["instance"] = instance
    if extra:
        body.update({k: v for k, v in extra.items() if k not in body})
    return web.Response(
        status=status,
        text=json.dumps(body, default=str),
        content_type=PROBLEM_JSON,
        headers=headers,
    )


def status_for(exc: TrustBridgeError) -> tuple[int, str]:
    """HTTP status and title for one of our errors."""
    if isinstance(exc, PayloadTooLarge):
        return 413, "Payload too large"
    if isinstance(exc, UnsupportedMediaType):
        return 415, "Unsupported media type"
    if isinstance(exc, NotFound):
        return 404, "Not found"
    if isinstance(exc, InputError):
        return 400, "Bad request"
    if isinstance(exc, AuthError):
        return (403, "Forbidden") if exc.forbidden else (401, "Unauthorized")
    if isinstance(exc, ConflictError):
        return 409, "Conflict"
    if isinstance(exc, InfrastructureError):
        return 503, "Service unavailable"
    return 500, "Internal error"


def from_error(exc: TrustBridgeError, instance: str | None = None) -> web.Response:
    status, title = status_for(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    extra = dict(exc.details) if exc.details else None
    return problem_response(status, exc.code, title, exc.message, instance=instance,
                            extra=extra, headers=headers)


_HTTP_CODES: dict[int, str] = {
    400: "request.invalid",
    404: "route.not_found",
    405: "method.not_allowed",
    406: "request.not_acceptable",
    413: "request.too_large",
    415: "request.unsupported_media_type",
    429: "request.rate_limited",
}


def from_http_exception(exc: web.HTTPException, instance: str | None = None) -> web.Response:
    """aiohttp's own errors (unknown route, wrong method, body too large) as problems."""
    code = _HTTP_CODES.get(exc.status, f"http.{exc.status}")
    headers = {k: v for k, v in exc.headers.items() if k.lower() in ("allow", "retry-after")}
    detail = exc.text or exc.reason
    if exc.status == 413:
        detail = "Request body exceeds the configured limit (TRUSTBRIDGE_MAX_BODY_BYTES)."
    return problem_response(exc.status, code, exc.reason, detail, instance=instance,
                            headers=headers or None)


__all__ = ["PROBLEM_JSON", "from_error", "from_http_exception", "problem_response", "status_for"]
