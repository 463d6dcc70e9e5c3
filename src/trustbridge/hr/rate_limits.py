"""Per-tenant rate limits on the expensive HR POSTs: a fixed one-minute window counted in the
shared cache (so every node sharing a Redis counts together); over the limit, ``429
request.rate_limited`` with ``Retry-After`` seconds until the window turns."""

from __future__ import annotations

import hashlib

from aiohttp import web

from trustbridge.api.problems import problem_response
from trustbridge.cache import Cache

WINDOW_SECONDS = 60
KEY_PREFIX = "hr:rate:"


async def retry_after(cache: Cache, tenant: str, *, limit: int, now: float) -> int | None:
    """Count one request; seconds to wait when this one is over ``limit``, else None."""
    if limit <= 0:
        return None
    window = int(now // WINDOW_SECONDS)
    tag = hashlib.sha256(tenant.encode("utf-8")).hexdigest()[:32]
    key = f"{KEY_PREFIX}{tag}:{window}"
    await cache.set_if_absent(key, b"0", ttl=2 * WINDOW_SECONDS)
    if await cache.incr(key) <= limit:
        return None
    return max(1, WINDOW_SECONDS - int(now % WINDOW_SECONDS))


async def limited(request: web.Request, tenant: str) -> web.Response | None:
    """The 429 answer for this request, or None when it may proceed."""
    services = request.app["services"]
    wait = await retry_after(services.cache, tenant,
                             limit=request.app["settings"].hr_rate_limit_per_minute,
                             now=services.clock().timestamp())
    if wait is None:
        return None
    return problem_response(429, "request.rate_limited", "Too many requests",
                            f"this tenant's limit of requests per minute is used up; retry "
                            f"in {wait} s", instance=request.path,
                            headers={"Retry-After": str(wait)})


__all__ = ["limited", "retry_after"]
