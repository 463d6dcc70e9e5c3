"""TrustBridge's exception tree.

Two families are kept apart (see DESIGN.md): *bad data* from a caller, which
becomes a 4xx at the HTTP edge, and *could not get data* (infrastructure),
which becomes a 5xx/503 or an ``indeterminate`` verdict -- never ``valid``.

    TrustBridgeError
    ├── InputError            bad request data (400 family); has a stable ``code``
    │   ├── PayloadTooLarge   413
    │   ├── UnsupportedMediaType 415
    │   └── NotFound          404
    ├── AuthError             401/403 for registry writes and admin calls
    ├── ConflictError         409 (replayed batch, duplicate)
    └── InfrastructureError   a store, cache or upstream failed (503)
        └── FetchError        a remote fact could not be fetched (timeout, size, status)

Only ``api/problems.py`` maps these to HTTP status codes and problem+json.
"""

from __future__ import annotations

from typing import Any


class TrustBridgeError(Exception):
    """Base of every error TrustBridge raises on purpose."""

    code: str = "internal.error"

    def __init__(
        self, message: str, *, code: str | None = None, details: dict[str, Any] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code
        self.details: dict[str, Any] = details or {}


class InputError(TrustBridgeError):
    """The caller sent something unusable."""

    code = "request.invalid"


class PayloadTooLarge(InputError):
    code = "request.too_large"


class UnsupportedMediaType(InputError):
    code = "request.unsupported_media_type"


class NotFound(InputError):
    code = "resource.not_found"


class AuthError(TrustBridgeError):
    """Missing or wrong credentials for a protected operation."""

    code = "auth.required"

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        details: dict[str, Any] | None = None,
        forbidden: bool = False,
    ) -> None:
        super().__init__(message, code=code, details=details)
        self.forbidden = forbidden


class ConflictError(TrustBridgeError):
    code = "request.conflict"


class InfrastructureError(TrustBridgeError):
    """A backing service (store, cache, upstream) failed."""

    code = "infrastructure.unavailable"


class FetchError(InfrastructureError):
    """A remote document could not be fetched within limits."""

    code = "fetch.failed"


__all__ = [
    "AuthError",
    "ConflictError",
    "FetchError",
    "InfrastructureError",
    "InputError",
    "NotFound",
    "PayloadTooLarge",
    "TrustBridgeError",
    "UnsupportedMediaType",
]
