"""Tenants named by API keys: the operator configures ``sha256(key) -> tenant``; keys are never
kept in the clear and are compared as digests in constant time.

Without configured keys the service is single-tenant (``default``) and open, as the
embedded default must run without set-up; once any key is configured, HR endpoints
refuse requests without a valid one.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass

from aiohttp import web

from trustbridge.errors import AuthError

DEFAULT_TENANT = "default"
ANONYMOUS = "-"
API_KEY_HEADER = "X-API-Key"


def key_digest(api_key: str) -> str:
    """The form a key is configured and compared in: lowercase hex SHA-256 of its UTF-8 bytes."""
    return hashlib.sha256(api_key.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class TenantKeys:
    """The configured key digests; ``tenant_for`` walks all of them (no early exit)."""

    digests: Mapping[str, str]

    @property
    def enabled(self) -> bool:
        return bool(self.digests)

    def tenant_for(self, api_key: str) -> str | None:
        presented = key_digest(api_key).encode("ascii")
        found: str | None = None
        for digest, tenant in self.digests.items():
            if hmac.compare_digest(presented, digest.strip().lower().encode("ascii", "replace")):
                found = tenant
        return found


def presented_key(request: web.Request) -> str | None:
    """``X-API-Key: <key>`` or ``Authorization: Bearer <key>``."""
    key = request.headers.get(API_KEY_HEADER)
    if key:
        return key.strip()
    auth = request.headers.get("Authorization", "")
    scheme, _, token = auth.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return None


def identify(keys: TenantKeys, request: web.Request, *, required: bool) -> str:
    """The caller's tenant. A presented key must be valid; a missing one is refused only
    when tenants are configured and the route requires one (``ANONYMOUS`` otherwise)."""
    if not keys.enabled:
        return DEFAULT_TENANT
    key = presented_key(request)
    if key is None:
        if required:
            raise AuthError("an API key is required (X-API-Key or Authorization: Bearer)",
                            code="auth.api_key_required")
        return ANONYMOUS
    tenant = keys.tenant_for(key)
    if tenant is None:
        raise AuthError("the API key is not valid", code="auth.api_key_invalid")
    return tenant


TENANT_KEY = "hr.tenant"


def tenant_of(request: web.Request, *, required: bool = True) -> str:
    """The tenant for this request (memoised on the request by the idempotency middleware)."""
    cached = request.get(TENANT_KEY)
    if isinstance(cached, str) and (cached != ANONYMOUS or not required):
        return cached
    keys = TenantKeys(request.app["settings"].hr_api_keys)
    tenant = identify(keys, request, required=required)
    request[TENANT_KEY] = tenant
    return tenant


__all__ = ["ANONYMOUS", "API_KEY_HEADER", "DEFAULT_TENANT", "TenantKeys", "identify",
           "key_digest", "presented_key", "tenant_of"]
