"""The registry's own answers reuse the epoch they read for ``epoch_max_age`` seconds: a
change made here applies at once, another worker's (no event) once the memo ages, and a read
overtaken by a change is not remembered."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest

from tests.conftest import FIXTURES, make_settings
from trustbridge.registry.chain import Answer
from trustbridge.registry.service import TrustRegistry, registry_of
from trustbridge.registry.store import RegistryStore
from trustbridge.services import Services, build_services

DEMO = json.loads((FIXTURES / "demo" / "demo.json").read_text())
PROVIDER = DEMO["navarra_provider"]
EV = ["VerifiableCredential", "VerifiableAttestation", "EVHighVoltageSafetyCredential"]
AT = datetime(2025, 6, 2, 10, tzinfo=UTC)


@pytest.fixture
async def services(tmp_path: Path) -> AsyncIterator[Services]:
    svc = await build_services(make_settings(tmp_path))
    yield svc
    await svc.close()


async def _ask(registry: TrustRegistry) -> Answer:
    return await registry.evaluate(PROVIDER, types=EV, schema_id=DEMO["schema"],
                                   jurisdiction=None, at=AT)


def _counting(store: RegistryStore) -> list[int]:
    """Count the store's epoch reads (patched on this instance only)."""
    reads: list[int] = []
    read = store.epoch_token

    async def counted() -> str:
        reads.append(1)
        return await read()

    store.epoch_token = counted  # type: ignore[method-assign]
    return reads


async def _revoke(store: RegistryStore) -> None:
    async with store.transaction() as writer:
        await writer.revoke_issuer(PROVIDER)


async def test_epoch_read_once_per_max_age(services: Services) -> None:
    registry = registry_of(services)
    registry.epoch_max_age = 3600
    reads = _counting(registry.store)
    for _ in range(5):
        assert (await _ask(registry)).accredited
    assert len(reads) == 1
    registry.epoch_max_age = 0
    await _ask(registry)
    await _ask(registry)
    assert len(reads) == 3


async def test_requests_that_find_the_memo_stale_share_one_epoch_read(
        services: Services) -> None:
    """Sixteen evaluations at once after the memo aged make one read, not sixteen queued on
    the store (they made p99 of a loaded node ~10x its p50)."""
    registry = registry_of(services)
    registry.epoch_max_age = 3600
    assert (await _ask(registry)).accredited
    registry.forget_epoch()
    reads = _counting(registry.store)
    answers = await asyncio.gather(*(_ask(registry) for _ in range(16)))
    assert all(a.accredited for a in answers)
    assert len(reads) == 1


async def test_own_change_applies_at_once(services: Services) -> None:
    registry = registry_of(services)
    registry.epoch_max_age = 3600
    assert (await _ask(registry)).accredited
    await _revoke(registry.store)
    await registry.invalidate([PROVIDER])  # what the admin API does after its write
    assert not (await _ask(registry)).accredited


async def test_another_workers_change_within_max_age(services: Services) -> None:
    """Another worker on the same database writes; no event reaches this one."""
    registry = registry_of(services)
    registry.epoch_max_age = 0.2
    assert (await _ask(registry)).accredited
    other = RegistryStore(services.db)  # the other worker's store object, same database
    await _revoke(other)
    await asyncio.sleep(0.25)
    assert not (await _ask(registry)).accredited


async def test_a_fresh_read_moves_the_memo_forward(services: Services) -> None:
    """The verifier's fresh read (``epoch``) is never newer than the evaluations after it."""
    registry = registry_of(services)
    registry.epoch_max_age = 3600
    assert (await _ask(registry)).accredited
    await _revoke(RegistryStore(services.db))
    fresh = await registry.epoch()
    assert await registry.current_epoch() == fresh
    assert not (await _ask(registry)).accredited


def _slow(store: RegistryStore) -> tuple[asyncio.Event, asyncio.Event]:
    """The store's epoch read holds its value until released."""
    reading, release = asyncio.Event(), asyncio.Event()
    read: Callable[[], Awaitable[str]] = store.epoch_token

    async def slow() -> str:
        value = await read()
        reading.set()
        await release.wait()
        return value

    store.epoch_token = slow  # type: ignore[method-assign]
    return reading, release


async def test_an_epoch_read_overtaken_by_a_change_is_not_remembered(
        services: Services) -> None:
    registry = registry_of(services)
    registry.epoch_max_age = 3600
    assert (await _ask(registry)).accredited  # cached under the current epoch
    registry.forget_epoch()  # make the next evaluation read the epoch again
    reading, release = _slow(registry.store)
    first = asyncio.ensure_future(_ask(registry))
    await reading.wait()  # the read has the old epoch in hand
    await _revoke(RegistryStore(services.db))
    await registry.invalidate([PROVIDER])  # the change's own registry.changed, here
    release.set()
    await first  # may answer from before the change: it was asked before
    after = await _ask(registry)  # reads the new epoch, not the one the slow read held
    assert not after.accredited, after
