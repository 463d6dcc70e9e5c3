"""The OpenID4VP verifier: creates presentation sessions, serves requests, judges responses.

Attached as ``services.components["oid4vp"]``; get it with ``presentations_of``.
All state lives in the cache (see ``session.py``), so with Redis any node can
finish a flow another node started.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Literal

from trustbridge.errors import InputError, NotFound
from trustbridge.model.report import CheckResult, Verdict, VerificationReport
from trustbridge.oid4vp import authorization
from trustbridge.oid4vp.matching import (
    MatchResult,
    check_binding,
    match_dcql,
    match_pex,
    validate_definition,
)
from trustbridge.oid4vp.query import DcqlQuery, PresentationDefinition
from trustbridge.oid4vp.response import WalletResponseError, parse_wallet_response
from trustbridge.oid4vp.session import (
    FINAL,
    MAX_REJECTIONS_KEPT,
    PresentationSession,
    SessionError,
    SessionStatus,
    SessionStore,
    WebhookState,
    events_channel,
    new_nonce,
    new_session_id,
    new_state,
)
from trustbridge.oid4vp.verification import PipelineVerifier, PresentationVerifier, merge_reports
from trustbridge.oid4vp.verifier_key import VerifierKey, load_verifier_key
from trustbridge.oid4vp.webhook import WebhookRefused, check_url, deliver
from trustbridge.services import Services

log = logging.getLogger(__name__)

COMPONENT = "oid4vp"
BASE_PATH = "/v1/presentation-requests"


@dataclass(frozen=True)
class PresentationSpec:
    """What the HR system asked for, already validated."""

    dcql_query: DcqlQuery | None = None
    presentation_definition: PresentationDefinition | None = None
    required_schema: str | None = None
    policy: dict[str, Any] = field(default_factory=dict)
    client_id_prefix: Literal["decentralized_identifier", "redirect_uri"] = (
        "decentralized_identifier"
    )
    expires_in: int | None = None
    webhook_url: str | None = None
    webhook_secret: str | None = None
    wallet_redirect_uri: str | None = None


@dataclass(frozen=True)
class WalletAnswer:
    """What the Response URI sends back to the wallet (section 8.2): 200 + JSON."""

    status: int
    body: dict[str, Any]


class PresentationService:
    """Sessions, request objects and response handling for one node."""

    def __init__(self, services: Services, key: VerifierKey,
                 verifier: PresentationVerifier | None = None) -> None:
        self._services = services
        self._settings = services.settings
        self._clock = services.clock
        self._store = SessionStore(services.cache)
        self._rejections = services.cache
        self.key = key
        self._verifier: PresentationVerifier = verifier or PipelineVerifier(services)
        self._tasks: set[asyncio.Task[None]] = set()

    # --- 1. creation --------------------------------------------------------------------------

    async def create(self, spec: PresentationSpec, base_url: str) -> PresentationSession:
        """A new session with fresh ``state`` and single-use ``nonce`` (sections 5.2, 14.1)."""
        if (spec.dcql_query is None) == (spec.presentation_definition is None):
            raise InputError("give exactly one of dcql_query, presentation_definition or types",
                             code="oid4vp.query_missing")
        if spec.presentation_definition is not None:
            validate_definition(spec.presentation_definition)
        ttl = spec.expires_in or self._settings.oid4vp_session_ttl_seconds
        if not 1 <= ttl <= self._settings.oid4vp_max_session_ttl_seconds:
            raise InputError("expires_in out of range", code="oid4vp.expires_in_invalid")
        webhook: WebhookState | None = None
        if spec.webhook_url is not None:
            try:
                check_url(spec.webhook_url,
                          allow_private=self._settings.oid4vp_webhook_allow_private)
            except WebhookRefused as exc:
                raise InputError(str(exc), code="oid4vp.webhook_refused") from exc
            webhook = WebhookState(url=spec.webhook_url,
                                   secret=spec.webhook_secret or secrets.token_urlsafe(32))
        now = self._clock()
        sid = new_session_id()
        base = base_url.rstrip("/") + f"{BASE_PATH}/{sid}"
        response_uri = base + "/response"
        signed = spec.client_id_prefix == "decentralized_identifier"
        session = PresentationSession(
            id=sid,
            state=new_state(),
            nonce=new_nonce(),
            client_id=self.key.client_id if signed else "redirect_uri:" + response_uri,
            signed=signed,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl),
            query_language="dcql" if spec.dcql_query is not None else "presentation_exchange",
            dcql_query=(spec.dcql_query.model_dump(mode="json", exclude_none=True)
                        if spec.dcql_query is not None else None),
            presentation_definition=(
                spec.presentation_definition.model_dump(mode="json", exclude_none=True)
                if spec.presentation_definition is not None else None),
            required_schema=spec.required_schema,
            policy=dict(spec.policy),
            response_uri=response_uri,
            request_uri=base + "/request",
            wallet_redirect_uri=spec.wallet_redirect_uri,
            webhook=webhook,
        )
        await self._store.create(session, self._retention(ttl))
        return session

    def _retention(self, ttl: float) -> float:
        return ttl + self._settings.oid4vp_result_ttl_seconds

    async def get(self, session_id: str) -> PresentationSession:
        """The session as the HR system sees it: expiry applied, refused responses attached."""
        session = await self._store.get(session_id)
        if session is None:
            raise NotFound("no such presentation request (unknown or purged)",
                           code="session.unknown")
        session.status = session.status_at(self._clock())
        session.rejected_responses = await self._load_rejections(session_id)
        return session

    # --- 2. the request for the wallet ---------------------------------------------------------

    async def request_object(self, session_id: str) -> str:
        """RFC 9101 ``request_uri`` target: only while the session waits for the wallet."""
        session = await self.get(session_id)
        if session.status == SessionStatus.EXPIRED:
            raise InputError("this presentation request has expired", code="session.expired")
        if session.status != SessionStatus.PENDING:
            raise InputError("this presentation request was already answered",
                             code="session.already_used")
        return authorization.request_object(session, self.key)

    # --- 3. the wallet's response (section 8.2, 8.6, 14.1) -------------------------------------

    async def handle_response(self, session_id: str, body: bytes | None,
                              content_type: str) -> WalletAnswer:
        """Judge one Authorization Response; raises ``WalletResponseError`` to refuse it."""
        # 1. The session the Response URI belongs to.
        session = await self._store.get(session_id)
        if session is None:
            raise WalletResponseError("session.unknown", "unknown or purged request", status=404)
        try:
            # 2. A readable form body within the size limit.
            if body is None:
                raise WalletResponseError(
                    "oid4vp.response_too_large",
                    f"response exceeds {self._settings.oid4vp_max_response_bytes} bytes",
                    status=413)
            response = parse_wallet_response(body, content_type)
            # 3. ``state`` ties the response to this session (section 8.2 / 13.3).
            # compare_digest refuses non-ASCII str: compare the UTF-8 bytes instead.
            if response.state is None or not secrets.compare_digest(
                response.state.encode("utf-8", "surrogatepass"), session.state.encode("utf-8")
            ):
                raise WalletResponseError("state.mismatch", "state does not match this request")
            # 4. Only a waiting, unexpired session accepts a response.
            status = session.status_at(self._clock())
            if status == SessionStatus.EXPIRED:
                await self._finish(session, SessionStatus.EXPIRED, None,
                                   self._error("session.expired", "response after expiry"))
                raise WalletResponseError("session.expired", "this request has expired")
            if status != SessionStatus.PENDING:
                raise WalletResponseError("session.already_used",
                                          "this request was already answered")
            # 5. Consume the nonce: atomic across nodes, so exactly one response proceeds.
            if await self._store.consume_nonce(session.id) is None:
                raise WalletResponseError("nonce.replayed",
                                          "this request's nonce was already used")
        except WalletResponseError as exc:
            await self._record_rejection(session, exc)
            raise
        session.status = SessionStatus.RECEIVED
        await self._save(session)
        return await self._judge(session, response)

    async def _judge(self, session: PresentationSession, response: Any) -> WalletAnswer:
        """Steps 6-9, after the nonce is ours: every outcome is final and recorded."""
        try:
            # 6. An Authorization Error Response from the wallet ends the session (section 8.5).
            if response.error is not None:
                code = "wallet." + "".join(c for c in response.error if c.isalnum() or c == "_")
                await self._finish(session, SessionStatus.FAILED, None,
                                   self._error(code,
                                               response.error_description or response.error))
                return WalletAnswer(200, self._wallet_redirect(session))
            if response.vp_token is None:
                raise WalletResponseError("oid4vp.vp_token_missing", "vp_token is required")
            # 7. Match the response against the query (DCQL section 8.1 / PE submission).
            match = self._match(session, response)
            # 8. Unverified binding look, then the full verification per presentation.
            check_binding(match, nonce=session.nonce, client_id=session.client_id)
            report = await self._verify(session, match)
        except WalletResponseError as exc:
            await self._finish(session, SessionStatus.FAILED, None,
                               self._error(exc.code, exc.description))
            raise
        # 9. The verdict decides the session's end state.
        if report.verdict == Verdict.VALID:
            await self._finish(session, SessionStatus.VERIFIED, report, None)
            return WalletAnswer(200, self._wallet_redirect(session))
        first = next((c for c in report.checks if c.status in ("failed", "error")), None)
        detail = f"{first.code}: {first.message}" if first else report.verdict.value
        await self._finish(session, SessionStatus.FAILED, report,
                           self._error(f"verification.{report.verdict.value}", detail))
        raise WalletResponseError(f"verification.{report.verdict.value}",
                                  "the presentation did not verify")

    def _match(self, session: PresentationSession, response: Any) -> MatchResult:
        if session.dcql_query is not None:
            return match_dcql(DcqlQuery.model_validate(session.dcql_query), response.vp_token,
                              required_schema=session.required_schema)
        definition = PresentationDefinition.model_validate(session.presentation_definition)
        return match_pex(definition, response.presentation_submission, response.vp_token)

    async def _verify(self, session: PresentationSession,
                      match: MatchResult) -> VerificationReport:
        reports = await asyncio.gather(*(
            self._verifier.verify_presentation(p.raw, nonce=session.nonce,
                                               audience=session.client_id,
                                               policy=session.policy)
            for p in match.presentations
        ))
        protocol = [
            CheckResult.passed("oid4vp.submission", "the response answers the request",
                               answered=match.answered),
            CheckResult.passed("oid4vp.binding", "nonce and client_id match this request"),
        ]
        return merge_reports(reports, protocol, self._clock())

    def _wallet_redirect(self, session: PresentationSession) -> dict[str, Any]:
        """Section 8.2 ``redirect_uri`` with a fresh random value, when the HR system gave one."""
        if session.wallet_redirect_uri is None:
            return {}
        sep = "&" if "#" in session.wallet_redirect_uri else "#"
        code = secrets.token_urlsafe(16)
        return {"redirect_uri": f"{session.wallet_redirect_uri}{sep}response_code={code}"}

    # --- bookkeeping ---------------------------------------------------------------------------

    def _error(self, code: str, description: str) -> SessionError:
        return SessionError(code=code, description=description[:500], at=self._clock())

    async def _save(self, session: PresentationSession) -> None:
        remaining = (session.expires_at - self._clock()).total_seconds()
        await self._store.save(session, self._retention(max(remaining, 0.0)))
        await self._store.announce(session)

    async def _finish(self, session: PresentationSession, status: SessionStatus,
                      report: VerificationReport | None, error: SessionError | None) -> None:
        session.status = status
        session.report = report.model_dump(mode="json") if report is not None else None
        session.verdict = report.verdict.value if report is not None else None
        session.error = error
        session.completed_at = self._clock()
        await self._save(session)
        log.info("presentation request %s finished: %s%s", session.id, status.value,
                 f" ({error.code})" if error else "")
        if session.webhook is not None and status != SessionStatus.RECEIVED:
            task = asyncio.create_task(self._notify(session.id))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _record_rejection(self, session: PresentationSession,
                                exc: WalletResponseError) -> None:
        """Refused responses are kept beside the session (never overwriting its status)."""
        key = f"oid4vp:rejections:{session.id}"
        items = await self._load_rejections(session.id)
        items = [*items, self._error(exc.code, exc.description)][-MAX_REJECTIONS_KEPT:]
        payload = "[" + ",".join(i.model_dump_json() for i in items) + "]"
        remaining = (session.expires_at - self._clock()).total_seconds()
        await self._rejections.set(key, payload.encode(), self._retention(max(remaining, 0.0)))

    async def _load_rejections(self, session_id: str) -> list[SessionError]:
        raw = await self._rejections.get(f"oid4vp:rejections:{session_id}")
        if raw is None:
            return []
        return [SessionError.model_validate(i) for i in json.loads(raw)]

    async def _notify(self, session_id: str) -> None:
        """Webhook delivery with retries; the outcome is written back on the session."""
        session = await self._store.get(session_id)
        if session is None or session.webhook is None:
            return
        payload = {
            "event": "presentation_request.completed",
            "id": session.id,
            "status": session.status.value,
            "verdict": session.verdict,
            "error": session.error.model_dump(mode="json") if session.error else None,
            "completed_at": session.completed_at,
        }
        s = self._settings
        result = await deliver(
            session.webhook.url, session.webhook.secret, "presentation_request.completed",
            payload, now=lambda: int(self._clock().timestamp()),
            allow_private=s.oid4vp_webhook_allow_private,
            max_attempts=s.oid4vp_webhook_max_attempts,
            backoff=s.oid4vp_webhook_backoff_seconds,
            attempt_seconds=s.oid4vp_webhook_timeout_seconds,
        )
        session.webhook.delivered = result.delivered
        session.webhook.attempts = result.attempts
        session.webhook.last_error = result.last_error
        await self._save(session)

    # --- 4. following a session -----------------------------------------------------------------

    async def follow(self, session_id: str) -> AsyncGenerator[PresentationSession, None]:
        """The session now and after every change, until final or the events time limit.

        Pub/sub wakes the loop early; a one-second re-read covers messages lost
        before the subscription was live, and expiry, which nobody announces.
        """
        session = await self.get(session_id)
        yield session
        if session.status in FINAL:
            return
        queue: asyncio.Queue[bytes] = asyncio.Queue()

        async def pump() -> None:
            async for message in self._services.cache.subscribe(events_channel(session_id)):
                queue.put_nowait(message)

        pump_task = asyncio.create_task(pump())
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._settings.oid4vp_events_max_seconds
        last = session.status
        try:
            while loop.time() < deadline:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(queue.get(), timeout=1.0)
                session = await self.get(session_id)
                if session.status != last:
                    last = session.status
                    yield session
                if session.status in FINAL:
                    return
        finally:
            pump_task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await pump_task

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task


async def attach(services: Services) -> None:
    """Load (or create and store) the verifier key and register the component."""
    pem = services.settings.oid4vp_verifier_key_pem
    key = await load_verifier_key(services.db, pem.get_secret_value() if pem else None)
    services.components[COMPONENT] = PresentationService(services, key)


def presentations_of(services: Services) -> PresentationService:
    """The node's OpenID4VP verifier component."""
    component = services.components.get(COMPONENT)
    if not isinstance(component, PresentationService):
        raise RuntimeError("the oid4vp component is not attached")
    return component


__all__ = [
    "BASE_PATH",
    "PresentationService",
    "PresentationSpec",
    "WalletAnswer",
    "attach",
    "presentations_of",
]
