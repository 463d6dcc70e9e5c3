"""Presentation sessions and their single-use nonces, kept in the shared cache.

A session lives in the cache (Redis when configured) so any node can serve
the wallet's request fetch, its response, and the HR system's polling. The
nonce marker is a separate key consumed with an atomic ``pop`` (Redis
``GETDEL``): of two concurrent responses, exactly one gets to proceed.
"""

from __future__ import annotations

import secrets
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

from pydantic import BaseModel, Field

from trustbridge.cache import Cache


class SessionStatus(StrEnum):
    PENDING = "pending"  # waiting for the wallet
    RECEIVED = "received"  # a response arrived; verification running
    VERIFIED = "verified"  # the presentation verified: verdict valid
    FAILED = "failed"  # response refused or verification not valid (see ``error``)
    EXPIRED = "expired"  # no response before ``expires_at``


FINAL = frozenset({SessionStatus.VERIFIED, SessionStatus.FAILED, SessionStatus.EXPIRED})


class SessionError(BaseModel):
    """Why a session failed, or why a refused response was refused (stable ``code``)."""

    code: str
    description: str
    at: datetime


class WebhookState(BaseModel):
    url: str
    secret: str
    delivered: bool = False
    attempts: int = 0
    last_error: str | None = None


class PresentationSession(BaseModel):
    """One HR request for a presentation, from creation to verdict."""

    id: str
    state: str
    nonce: str
    client_id: str
    signed: bool
    created_at: datetime
    expires_at: datetime
    status: SessionStatus = SessionStatus.PENDING
    query_language: Literal["dcql", "presentation_exchange"]
    dcql_query: dict[str, Any] | None = None
    presentation_definition: dict[str, Any] | None = None
    required_schema: str | None = None
    policy: dict[str, Any] = Field(default_factory=dict)  # trustbridge.verify.policy.Policy
    response_uri: str
    request_uri: str
    wallet_redirect_uri: str | None = None
    webhook: WebhookState | None = None
    report: dict[str, Any] | None = None
    verdict: str | None = None
    error: SessionError | None = None
    rejected_responses: list[SessionError] = Field(default_factory=list)
    completed_at: datetime | None = None

    def status_at(self, now: datetime) -> SessionStatus:
        """Expiry is derived from the clock, so no node has to sweep sessions."""
        if self.status == SessionStatus.PENDING and now >= self.expires_at:
            return SessionStatus.EXPIRED
        return self.status


def new_state() -> str:
    return secrets.token_urlsafe(32)


def new_nonce() -> str:
    """A fresh, unguessable nonce per request (OpenID4VP 1.0 section 14.1)."""
    return secrets.token_urlsafe(32)


def new_session_id() -> str:
    return secrets.token_urlsafe(18)


_SESSION = "oid4vp:session:"
_NONCE = "oid4vp:nonce:"
_EVENTS = "oid4vp:events:"
MAX_REJECTIONS_KEPT = 10


def events_channel(session_id: str) -> str:
    return _EVENTS + session_id


class SessionStore:
    """Sessions as JSON in the cache, nonce markers beside them."""

    def __init__(self, cache: Cache) -> None:
        self._cache = cache

    async def create(self, session: PresentationSession, ttl: float) -> None:
        await self._cache.set(_NONCE + session.id, session.nonce.encode(), ttl)
        await self.save(session, ttl)

    async def get(self, session_id: str) -> PresentationSession | None:
        raw = await self._cache.get(_SESSION + session_id)
        return None if raw is None else PresentationSession.model_validate_json(raw)

    async def save(self, session: PresentationSession, ttl: float) -> None:
        await self._cache.set(_SESSION + session.id, session.model_dump_json().encode(), ttl)

    async def consume_nonce(self, session_id: str) -> str | None:
        """The nonce, exactly once across all nodes; ``None`` when already consumed."""
        raw = await self._cache.pop(_NONCE + session_id)
        return None if raw is None else raw.decode()

    async def announce(self, session: PresentationSession) -> None:
        """Tell every node's event streams that the session changed."""
        await self._cache.publish(events_channel(session.id), session.status.value.encode())


__all__ = [
    "FINAL",
    "PresentationSession",
    "SessionError",
    "SessionStatus",
    "SessionStore",
    "WebhookState",
    "events_channel",
    "new_nonce",
    "new_session_id",
    "new_state",
]
