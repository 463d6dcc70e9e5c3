"""Per-client rate limits on the verification endpoints: in-process token buckets.

This sits on the hot path (``POST /v1/verify``), so it costs one dict lookup and a little
arithmetic per request: no Redis round trip, no lock, no task. Each node (each worker
process) limits on its own, so N workers admit up to N times the configured rate.

1. Only ``POST`` to a path in ``LIMITED_PATHS`` is counted; everything else passes at once.
2. The client is the tenant of a *configured* API key (``X-API-Key`` or ``Authorization:
   Bearer``, looked up by its SHA-256 digest in ``hr_api_keys``), else the peer address
   (``request.remote``; with ``rate_limit_trust_forwarded`` the last ``X-Forwarded-For``
   hop, i.e. the address our own proxy saw). An unknown key counts as its peer address,
   so inventing keys does not buy fresh buckets.
3. A bucket holds ``rate_limit_verify_burst`` tokens and refills at
   ``rate_limit_verify_per_second``; a request takes one. With none left the answer is
   ``429 request.rate_limited`` (problem+json) with ``Retry-After`` in whole seconds.
4. Memory is bounded: past ``MAX_CLIENTS`` buckets, the idle (full) ones are dropped, and if
   that is not enough, all of them (limits restart rather than memory growing).

``0`` for the rate turns limiting off. Sync pushes are limited per *registry* (the signer,
after the signature is checked) with ``TokenBuckets`` too, in ``api/sync.py``.
"""

from __future__ import annotations

import hashlib
import math
import time
import weakref
from collections.abc import Callable, Mapping

from aiohttp import web
from aiohttp.typedefs import Handler

from trustbridge.api.middlewares import Gate
from trustbridge.api.problems import problem_response
from trustbridge.config import Settings

LIMITED_PATHS = frozenset({
    "/v1/verify", "/v1/verify/batch", "/v1/jobs", "/v1/receipts/verify",
    "/credentials/verify", "/presentations/verify",
})
MAX_CLIENTS = 100_000


class TokenBuckets:
    """One token bucket per client key; ``take`` is O(1) (amortised, with pruning)."""

    __slots__ = ("_buckets", "_now", "burst", "max_clients", "rate")

    def __init__(self, rate: float, burst: float, *, max_clients: int = MAX_CLIENTS,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.rate = rate
        self.burst = max(1.0, burst)
        self.max_clients = max_clients
        self._now = monotonic
        self._buckets: dict[str, list[float]] = {}  # client -> [tokens, last refill]

    def take(self, client: str) -> float:
        """0.0 when the request may proceed, else the seconds until a token is back."""
        now = self._now()
        bucket = self._buckets.get(client)
        if bucket is None:
            if len(self._buckets) >= self.max_clients:
                self._prune(now)
            self._buckets[client] = [self.burst - 1.0, now]
            return 0.0
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * self.rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / self.rate

    def _prune(self, now: float) -> None:
        full = self.burst / self.rate
        idle = [k for k, (_, last) in self._buckets.items() if now - last >= full]
        for key in idle:
            del self._buckets[key]
        if len(self._buckets) >= self.max_clients:
            self._buckets.clear()

    def __len__(self) -> int:
        return len(self._buckets)


def too_many(request: web.Request, wait: float, who: str) -> web.Response:
    """``429 request.rate_limited`` with ``Retry-After`` (whole seconds, at least 1)."""
    retry = max(1, math.ceil(wait))
    return problem_response(429, "request.rate_limited", "Too many requests",
                            f"{who} is over its request rate; retry in {retry} s",
                            instance=request.path, headers={"Retry-After": str(retry)})


class _Limiter:
    __slots__ = ("buckets", "forwarded", "tenants")

    def __init__(self, buckets: TokenBuckets, tenants: Mapping[str, str], forwarded: bool
                 ) -> None:
        self.buckets = buckets
        self.tenants = {digest.strip().lower(): tenant for digest, tenant in tenants.items()}
        self.forwarded = forwarded

    def client(self, request: web.Request) -> str:
        if self.tenants:
            headers = request.headers
            key = headers.get("X-API-Key")
            if not key:
                scheme, _, token = headers.get("Authorization", "").partition(" ")
                key = token if scheme.lower() == "bearer" else None
            if key:
                tenant = self.tenants.get(hashlib.sha256(key.strip().encode()).hexdigest())
                if tenant is not None:
                    return "t:" + tenant
        if self.forwarded:
            hops = request.headers.get("X-Forwarded-For")
            if hops:
                return "a:" + hops.rsplit(",", 1)[-1].strip()
        return "a:" + (request.remote or "-")


_REGISTRIES: weakref.WeakKeyDictionary[web.Application, TokenBuckets | None] = \
    weakref.WeakKeyDictionary()


def registry_buckets(app: web.Application) -> TokenBuckets | None:
    """The per-registry buckets of sync pushes (``rate_limit_sync_batches_per_minute``, burst
    as large as one minute's allowance), or None when off."""
    try:
        return _REGISTRIES[app]
    except KeyError:
        per_minute = float(app["settings"].rate_limit_sync_batches_per_minute)
        buckets = TokenBuckets(per_minute / 60.0, per_minute) if per_minute > 0 else None
        _REGISTRIES[app] = buckets
        return buckets


def gate(settings: Settings) -> Gate | None:
    """Counts only ``POST`` to ``LIMITED_PATHS``, and nothing with a rate of 0; runs before
    idempotency (a 429 is never remembered as the answer to an ``Idempotency-Key``)."""
    if settings.rate_limit_verify_per_second <= 0:
        return None
    limiter = _Limiter(TokenBuckets(settings.rate_limit_verify_per_second,
                                    settings.rate_limit_verify_burst),
                       settings.hr_api_keys, settings.rate_limit_trust_forwarded)

    def wants(request: web.Request) -> bool:
        return request.method == "POST" and request.path in LIMITED_PATHS

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        wait = limiter.buckets.take(limiter.client(request))
        if wait > 0.0:
            return too_many(request, wait, "this client")
        return await handler(request)

    return wants, middleware


__all__ = ["LIMITED_PATHS", "TokenBuckets", "gate", "registry_buckets", "too_many"]
