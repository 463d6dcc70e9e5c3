"""``Idempotency-Key`` on POSTs: a retried request gets the first answer, never a second effect.

Follows the IETF httpapi draft "The Idempotency-Key HTTP Header Field": the first answer
(status, body and a few headers) is kept for ``hr_idempotency_ttl_seconds`` under
``(tenant, key, method, path)``; a retry with the same body is answered from it with
``Idempotent-Replayed: true``; the same key with another body is ``422
idempotency.key_reused``; a duplicate arriving while the first still runs is ``409
idempotency.in_progress``. Answers of 5xx and raised errors free the key (a retry
runs again). Records live in the shared cache (Redis across nodes).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass

from aiohttp import web
from aiohttp.typedefs import Handler

from trustbridge.api.body import read_body
from trustbridge.api.middlewares import Gate
from trustbridge.api.problems import problem_response
from trustbridge.cache import Cache
from trustbridge.config import Settings
from trustbridge.hr.digests import body_digest
from trustbridge.hr.tenants import tenant_of

HEADER = "Idempotency-Key"
REPLAYED = "Idempotent-Replayed"
KEY_PREFIX = "hr:idem:"
MAX_KEY_CHARS = 255
PENDING_TTL_FLOOR = 60.0
KEPT_HEADERS = ("Content-Type", "Location", "TrustBridge-Receipt")

# POST routes that honour the header; the value says whether they require a tenant key.
ROUTES: dict[str, bool] = {
    "/v1/verify": False,
    "/v1/verify/batch": True,
    "/v1/jobs": True,
    "/v1/presentation-requests": False,
}


def record_key(tenant: str, key: str, method: str, path: str) -> str:
    material = json.dumps([tenant, key, method, path], separators=(",", ":"))
    return KEY_PREFIX + hashlib.sha256(material.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Record:
    """What is kept per key: the request fingerprint, and the answer once there is one."""

    fingerprint: str
    status: int | None = None
    body: str | None = None
    headers: dict[str, str] | None = None

    @property
    def done(self) -> bool:
        return self.status is not None

    def dump(self) -> bytes:
        return json.dumps({"f": self.fingerprint, "s": self.status, "b": self.body,
                           "h": self.headers}).encode("utf-8")

    @classmethod
    def load(cls, raw: bytes) -> Record:
        data = json.loads(raw)
        return cls(str(data["f"]), data.get("s"), data.get("b"), data.get("h"))


def fingerprint(request: web.Request, body: bytes) -> str:
    return body_digest(request.content_type.encode("utf-8") + b"\n" + body)


def _problem(request: web.Request, status: int, code: str, title: str, detail: str
             ) -> web.Response:
    return problem_response(status, code, title, detail, instance=request.path)


def _replay(record: Record) -> web.Response:
    headers = dict(record.headers or {})
    headers[REPLAYED] = "true"
    body = (record.body or "").encode("latin-1")
    return web.Response(status=record.status or 200, body=body, headers=headers)


def _answer(record: Record | None, mine: str, request: web.Request) -> web.Response | None:
    """The answer for a key someone already holds, or None when it has just been freed."""
    if record is None:
        return None
    if record.fingerprint != mine:
        return _problem(request, 422, "idempotency.key_reused", "Unprocessable content",
                        "this Idempotency-Key was used with a different request body")
    if not record.done:
        return _problem(request, 409, "idempotency.in_progress", "Conflict",
                        "a request with this Idempotency-Key is still being processed")
    return _replay(record)


async def _keep(cache: Cache, key: str, mine: str, response: web.StreamResponse,
                ttl: float) -> None:
    if not isinstance(response, web.Response) or response.status >= 500 or response.body is None:
        await cache.delete(key)
        return
    body = response.body
    if not isinstance(body, bytes | bytearray):
        await cache.delete(key)
        return
    headers = {h: response.headers[h] for h in KEPT_HEADERS if h in response.headers}
    record = Record(mine, response.status, bytes(body).decode("latin-1"), headers)
    await cache.set(key, record.dump(), ttl=ttl)


def _wants(request: web.Request) -> bool:
    return request.method == "POST" and HEADER in request.headers and request.path in ROUTES


@web.middleware
async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Runs for POSTs to ``ROUTES`` that carry the header (``_wants``)."""
    idem = request.headers[HEADER].strip()
    if not idem or len(idem) > MAX_KEY_CHARS or not idem.isprintable():
        return _problem(request, 400, "idempotency.key_invalid", "Bad request",
                        f"{HEADER} must be 1-{MAX_KEY_CHARS} printable characters")
    tenant = tenant_of(request, required=ROUTES[request.path])
    settings = request.app["settings"]
    cache: Cache = request.app["services"].cache
    mine = fingerprint(request, await read_body(request))
    key = record_key(tenant, idem, request.method, request.path)
    pending_ttl = max(PENDING_TTL_FLOOR, 2 * settings.request_timeout_seconds)
    for _ in range(3):
        if await cache.set_if_absent(key, Record(mine).dump(), ttl=pending_ttl):
            break
        raw = await cache.get(key)
        answer = _answer(Record.load(raw) if raw is not None else None, mine, request)
        if answer is not None:
            return answer
    else:  # pragma: no cover - the key flapped three times: tell the caller to retry
        return _problem(request, 409, "idempotency.in_progress", "Conflict",
                        "a request with this Idempotency-Key is still being processed")
    try:
        response = await handler(request)
    except BaseException:
        await cache.delete(key)
        raise
    await _keep(cache, key, mine, response, float(settings.hr_idempotency_ttl_seconds))
    return response


def gate(settings: Settings) -> Gate:
    """Acts only on POSTs to ``ROUTES`` that carry the header."""
    return _wants, middleware


__all__ = ["HEADER", "REPLAYED", "ROUTES", "Record", "gate", "record_key"]
