"""Batch verification: many items at once, bounded concurrency, facts fetched once.

Sharing: DID documents are already single-flight in the resolver and cached; status
lists are cached but two concurrent items could both miss, so each batch runs on a
copy of the verifier whose status-list fetcher shares one in-flight fetch per URL
(``SharedStatusLists``). Identical items in one batch are verified once.
Order: results come back in item order whatever finishes first.
"""

from __future__ import annotations

import asyncio
import copy
import logging
from collections.abc import Callable, Sequence
from typing import Any

from trustbridge.errors import TrustBridgeError
from trustbridge.hr.digests import canonical_json
from trustbridge.hr.items import ItemOutcome, input_of, minimised, parse_item, presented, problem_of
from trustbridge.hr.receipts import ReceiptSigner
from trustbridge.runtime.outcome import discard_outcome
from trustbridge.status.fetcher import RawStatusList, StatusListFetcher
from trustbridge.verify.pipeline import Verifier

log = logging.getLogger(__name__)


class SharedStatusLists(StatusListFetcher):
    """The shared fetcher, with one in-flight fetch per URL for the life of a batch."""

    def __init__(self, inner: StatusListFetcher) -> None:
        self.__dict__.update(inner.__dict__)  # same backend, cache and limits
        self._inner = inner
        self._flights: dict[str, asyncio.Future[RawStatusList]] = {}

    async def fetch_list(self, url: str) -> RawStatusList:
        flight = self._flights.get(url)
        if flight is None:
            flight = asyncio.ensure_future(self._inner.fetch_list(url))
            flight.add_done_callback(discard_outcome)
            self._flights[url] = flight
        return await asyncio.shield(flight)

    async def retain(self, raw: RawStatusList, ttl: float | None) -> float:
        return await self._inner.retain(raw, ttl)

    async def forget(self, url: str) -> None:
        self._flights.pop(url, None)
        await self._inner.forget(url)


async def registry_epoch(verifier: Verifier) -> str:
    """The registry epoch a result depends on, as text (``"0"`` without a registry)."""
    getter = getattr(verifier.registry, "epoch", None)
    if getter is None:
        return str(verifier.seen_epoch)
    try:
        value = getter()
        if asyncio.iscoroutine(value):
            value = await value
    except Exception:  # the receipt says what was known; an outage must not fail it
        log.warning("registry epoch unavailable for a receipt")
        return str(verifier.seen_epoch)
    return str(value)


def batch_verifier(verifier: Verifier) -> Verifier:
    """A per-batch copy of ``verifier`` sharing status-list fetches between items."""
    shared = copy.copy(verifier)
    if verifier.status_lists is not None:
        shared.status_lists = SharedStatusLists(verifier.status_lists)
    return shared


class BatchRunner:
    """Verifies items in order-preserving, bounded-concurrency batches."""

    def __init__(self, verifier: Callable[[], Verifier], signer: Callable[[], ReceiptSigner],
                 *, concurrency: int) -> None:
        self._verifier = verifier
        self._signer = signer
        self.concurrency = max(1, concurrency)

    async def run(self, items: Sequence[Any], *, receipts: bool = False,
                  minimise: bool = False, indexes: Sequence[int] | None = None
                  ) -> list[ItemOutcome]:
        """One outcome per item, in order; ``indexes`` name the items (default 0..n-1)."""
        verifier = batch_verifier(self._verifier())
        signer = self._signer() if receipts else None
        epoch = await registry_epoch(verifier) if receipts else ""
        gate = asyncio.Semaphore(self.concurrency)
        memo: dict[bytes, asyncio.Future[dict[str, Any]]] = {}

        async def report_for(raw: Any) -> dict[str, Any]:
            item = parse_item(raw)
            key = canonical_json(item.model_dump(mode="json"))
            flight = memo.get(key)
            if flight is None:
                async def verify() -> dict[str, Any]:
                    async with gate:
                        report = await verifier.verify(input_of(item))
                    return dict(report.model_dump(mode="json"))

                flight = asyncio.ensure_future(verify())
                memo[key] = flight
            return await asyncio.shield(flight)

        async def one(index: int, raw: Any) -> ItemOutcome:
            try:
                report = await report_for(raw)
            except TrustBridgeError as exc:
                problem = problem_of(exc)
                return ItemOutcome(index, int(problem["status"]), problem=problem)
            if minimise:
                report = minimised(report)
            receipt = None
            if signer is not None:
                item = parse_item(raw)
                receipt = signer.sign(report=report, presented=presented(item),
                                      policy=item.policy.cache_key(), epoch=epoch)
            return ItemOutcome(index, 200, report=report, receipt=receipt)

        names = list(indexes) if indexes is not None else list(range(len(items)))
        return list(await asyncio.gather(*(one(i, raw)
                                           for i, raw in zip(names, items, strict=True))))


__all__ = ["BatchRunner", "SharedStatusLists", "batch_verifier", "registry_epoch"]
