"""Job-completion webhooks: OpenID4VP's signed, retried, SSRF-safe ``deliver`` reused as is,
with each delivery recorded in the tenant's log (``GET /v1/webhooks/deliveries``).

Signature header (Stripe-style, documented in docs/hr-integration.md):
``X-TrustBridge-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>``;
receivers check it with ``trustbridge.oid4vp.webhook.verify_signature``.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from trustbridge.hr.job_store import Delivery, Job, JobStore
from trustbridge.oid4vp.webhook import SIGNATURE_HEADER, Sleep, deliver, verify_signature

EVENT_COMPLETED = "job.completed"


@dataclass(frozen=True)
class WebhookPolicy:
    allow_private: bool
    max_attempts: int
    backoff_seconds: float
    timeout_seconds: float


def completion_payload(job: Job, summary: dict[str, int], finished_at: int) -> dict[str, Any]:
    """What the receiver learns: ids, counts and where to fetch results -- no personal data."""
    return {"event": EVENT_COMPLETED, "job_id": job.id, "state": "succeeded",
            "total": job.total, "summary": summary, "finished_at": finished_at,
            "results": f"/v1/jobs/{job.id}"}


async def notify(store: JobStore, job: Job, payload: dict[str, Any], *, policy: WebhookPolicy,
                 now_ms: Callable[[], int], sleep: Sleep | None = None) -> Delivery | None:
    """Deliver the completion webhook (if the job has one) and log the outcome."""
    if not job.webhook_url or not job.webhook_secret:
        return None
    kwargs: dict[str, Any] = {} if sleep is None else {"sleep": sleep}
    result = await deliver(job.webhook_url, job.webhook_secret, EVENT_COMPLETED, payload,
                           now=lambda: now_ms() // 1000, allow_private=policy.allow_private,
                           max_attempts=policy.max_attempts, backoff=policy.backoff_seconds,
                           attempt_seconds=policy.timeout_seconds, **kwargs)
    entry = Delivery(uuid.uuid4().hex, job.tenant, job.id, EVENT_COMPLETED, job.webhook_url,
                     result.delivered, result.attempts, result.last_error, now_ms())
    await store.log_delivery(entry)
    await store.set_webhook_state(job.id, "delivered" if result.delivered else "failed")
    return entry


__all__ = ["EVENT_COMPLETED", "SIGNATURE_HEADER", "WebhookPolicy", "completion_payload", "notify",
           "verify_signature"]
