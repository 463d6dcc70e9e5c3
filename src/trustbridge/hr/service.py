"""Plug point: ``services.components["hr"]`` (``hr_of``): job store, batch runner, receipt
signer (the node key of the registry sync), and this node's job worker."""

from __future__ import annotations

from dataclasses import dataclass

from trustbridge.hr.batch import BatchRunner
from trustbridge.hr.job_store import JobStore
from trustbridge.hr.jobs import JobWorker
from trustbridge.hr.receipts import ReceiptSigner
from trustbridge.hr.webhooks import WebhookPolicy
from trustbridge.registry.signed import NodeKey
from trustbridge.services import Services
from trustbridge.verify.service import verifier_of

NAME = "hr"


@dataclass
class HrComponent:
    store: JobStore
    runner: BatchRunner
    signer: ReceiptSigner
    worker: JobWorker | None

    def job_submitted(self) -> None:
        """Wake this node's worker at once instead of at its next poll."""
        if self.worker is not None:
            self.worker.wake.set()

    async def aclose(self) -> None:
        if self.worker is not None:
            await self.worker.aclose()


async def node_key(services: Services) -> NodeKey:
    """The registry sync's node key (configured, or kept in ``node_state``): receipts and the
    change log are signed by one identity. Loaded the same way when sync is not attached."""
    sync = services.components.get("sync")
    engine = getattr(sync, "engine", None)
    key = getattr(engine, "node_key", None)
    if isinstance(key, NodeKey):
        return key
    from trustbridge.registry.sync_store import SyncStore

    s = services.settings
    if s.sync_node_key_pem is not None:
        return NodeKey.from_pem(s.sync_node_key_pem.get_secret_value(), did=s.sync_node_did,
                                kid=s.sync_node_kid)
    store = SyncStore(services.db)
    pem = await store.node_key_pem() or await store.save_node_key_pem(NodeKey.generate().to_pem())
    return NodeKey.from_pem(pem, did=s.sync_node_did, kid=s.sync_node_kid)


async def attach(services: Services) -> None:
    await services.db.migrate()  # the hr tables register when job_store is imported
    s = services.settings
    store = JobStore(services.db)
    signer = ReceiptSigner(await node_key(services))
    runner = BatchRunner(lambda: verifier_of(services), lambda: signer,
                         concurrency=s.hr_batch_concurrency)
    worker: JobWorker | None = None
    if s.hr_job_worker:
        worker = JobWorker(
            store=store, runner=runner, clock=lambda: services.clock(),
            webhooks=WebhookPolicy(s.hr_webhook_allow_private, s.hr_webhook_max_attempts,
                                   s.hr_webhook_backoff_seconds, s.hr_webhook_timeout_seconds),
            chunk_size=max(1, s.hr_job_chunk_size), lease_seconds=s.hr_job_lease_seconds,
            poll_seconds=s.hr_job_poll_seconds, retention_seconds=s.hr_job_retention_seconds)
        worker.start()
    services.components[NAME] = HrComponent(store, runner, signer, worker)


def hr_of(services: Services) -> HrComponent:
    component = services.components.get(NAME)
    if not isinstance(component, HrComponent):
        raise RuntimeError("hr component is not attached")
    return component


__all__ = ["HrComponent", "attach", "hr_of", "node_key"]
