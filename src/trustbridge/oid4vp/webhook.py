"""Completion webhooks for the HR system: HMAC-signed, retried with backoff, SSRF-safe.

Signature: ``X-TrustBridge-Signature: t=<unix time>,v1=<hex HMAC-SHA256(secret,
"<t>.<raw body>")>``; the receiver recomputes it and rejects stale timestamps.

The destination is attacker-influenced (whoever may create requests picks the
URL), so the connection goes only to addresses that were checked: a resolver
refuses loopback, private, link-local, multicast and reserved addresses
unless ``oid4vp_webhook_allow_private`` is set, and the connection is made to
exactly the checked address (no second lookup). Redirects are not followed.
ADAPTER note: ``trustbridge.fetch.SafeFetcher`` is GET-only when this was
written; this module keeps its own POST-capable resolver check.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "X-TrustBridge-Signature"
EVENT_HEADER = "X-TrustBridge-Event"


def sign_payload(secret: str, timestamp: int, body: bytes) -> str:
    """``t=…,v1=…`` over ``"<timestamp>.<body>"`` with HMAC-SHA256."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"t={timestamp},v1={mac.hexdigest()}"


def verify_signature(secret: str, header: str, body: bytes, *, now: int,
                     tolerance: int = 300) -> bool:
    """The receiver's check (used by tests and documented for HR integrators)."""
    try:
        parts = dict(p.split("=", 1) for p in header.split(","))
        ts = int(parts["t"])
    except (ValueError, KeyError):
        return False
    if abs(now - ts) > tolerance:
        return False
    expected = sign_payload(secret, ts, body)
    return hmac.compare_digest(expected.encode(), header.encode("utf-8", "surrogatepass"))


def address_allowed(host: str, allow_private: bool) -> bool:
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return False
    if allow_private:
        return not ip.is_unspecified and not ip.is_multicast
    return ip.is_global and not ip.is_multicast


class WebhookRefused(Exception):
    """The URL or its addresses are not allowed."""


class _CheckedResolver(AbstractResolver):
    """Resolves, then drops every address the policy refuses (connection pins to the rest)."""

    def __init__(self, allow_private: bool) -> None:
        self._inner = DefaultResolver()
        self._allow_private = allow_private

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if address_allowed(r["host"], self._allow_private)]
        if not allowed:
            raise OSError(f"webhook host {host!r} resolves only to refused addresses")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


def check_url(url: str, *, allow_private: bool) -> None:
    """Scheme and literal-address checks done when the request is created."""
    parts = urlsplit(url)
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise WebhookRefused("webhook URL must be an absolute https URL")
    if parts.scheme == "http" and not allow_private:
        raise WebhookRefused("webhook URL must use https")
    if parts.username or parts.password:
        raise WebhookRefused("webhook URL must not carry credentials")
    try:
        ipaddress.ip_address(parts.hostname.strip("[]"))
    except ValueError:
        return
    if not address_allowed(parts.hostname.strip("[]"), allow_private):
        raise WebhookRefused("webhook URL points to a refused address")


@dataclass(frozen=True)
class DeliveryResult:
    delivered: bool
    attempts: int
    last_error: str | None


Sleep = Callable[[float], Awaitable[None]]


async def deliver(url: str, secret: str, event: str, payload: dict[str, Any], *,
                  now: Callable[[], int], allow_private: bool, max_attempts: int,
                  backoff: float, attempt_seconds: float,
                  sleep: Sleep = asyncio.sleep) -> DeliveryResult:
    """POST ``payload`` until a 2xx, retrying 5xx/408/429/network errors with doubling waits."""
    body = json.dumps(payload, separators=(",", ":"), default=str).encode()
    last_error: str | None = None
    try:
        check_url(url, allow_private=allow_private)
    except WebhookRefused as exc:
        return DeliveryResult(False, 0, str(exc))
    connector = aiohttp.TCPConnector(resolver=_CheckedResolver(allow_private), use_dns_cache=False)
    async with aiohttp.ClientSession(connector=connector,
                                     timeout=aiohttp.ClientTimeout(total=attempt_seconds)) as http:
        for attempt in range(1, max_attempts + 1):
            headers = {"Content-Type": "application/json", EVENT_HEADER: event,
                       SIGNATURE_HEADER: sign_payload(secret, now(), body)}
            try:
                async with http.post(url, data=body, headers=headers,
                                     allow_redirects=False) as resp:
                    await resp.read()
                    if 200 <= resp.status < 300:
                        return DeliveryResult(True, attempt, None)
                    last_error = f"HTTP {resp.status}"
                    if resp.status < 500 and resp.status not in (408, 429):
                        return DeliveryResult(False, attempt, last_error)
            except (aiohttp.ClientError, OSError, TimeoutError) as exc:
                last_error = f"{type(exc).__name__}: {exc}"
            if attempt < max_attempts:
                await sleep(backoff * 2 ** (attempt - 1))
    log.warning("webhook delivery failed after %d attempts: %s", max_attempts, last_error)
    return DeliveryResult(False, max_attempts, last_error)


__all__ = [
    "EVENT_HEADER",
    "SIGNATURE_HEADER",
    "DeliveryResult",
    "WebhookRefused",
    "address_allowed",
    "check_url",
    "deliver",
    "sign_payload",
    "verify_signature",
]
