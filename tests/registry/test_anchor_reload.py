"""Trust anchors declared by an imported trust list reach every worker and node sharing the
database without a restart: at once through ``registry.changed`` (Redis), and without an
event bus once the epoch memo ages (the anchors move the epoch with the list's records)."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import make_settings
from tests.registry.support import AT, BASE, EV, SCHEMA, three_levels
from trustbridge.registry.events import events_of
from trustbridge.registry.seed import dump_trust_list
from trustbridge.registry.service import import_trust_lists, registry_of
from trustbridge.services import Services, build_services


@pytest.fixture
async def two_nodes(tmp_path: Path) -> AsyncIterator[Any]:
    """Two service instances on one SQLite database (and whatever else is passed)."""
    made: list[Services] = []

    async def make(**overrides: Any) -> tuple[Services, Services]:
        shared = f"sqlite:///{tmp_path / 'shared.sqlite3'}"
        for name in ("a", "b"):
            made.append(await build_services(make_settings(
                tmp_path / name, database_url=shared, **overrides)))
        return made[-2], made[-1]

    yield make
    for svc in made:
        await svc.close()


def _trust_list(tmp_path: Path, name: str = "new-list") -> tuple[Path, str]:
    """A new hierarchy under its own anchor, as an importable trust list; the TI's DID."""
    w = three_levels()
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(dump_trust_list(w.records.values(), anchors=[w.did("root")])))
    return path, w.did("ti")


async def _accredited(services: Services, did: str) -> tuple[bool, str]:
    answer = await registry_of(services).evaluate(did, types=[*BASE, EV], schema_id=SCHEMA,
                                                  jurisdiction=None, at=AT)
    return answer.accredited, answer.code


async def _eventually(check: Callable[[], Any], within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await check():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("not seen in time")
        await asyncio.sleep(0.05)


@pytest.mark.redis
async def test_imported_anchor_reaches_another_node_through_the_event(
        two_nodes: Any, redis_url: str, tmp_path: Path) -> None:
    a, b = await two_nodes(redis_url=redis_url, registry_epoch_max_age_seconds=3600)
    for node in (a, b):
        await events_of(node).wait_listening()
    path, ti = _trust_list(tmp_path)
    assert (await _accredited(b, ti))[0] is False  # B's epoch is now remembered for an hour
    received = events_of(b).received

    counts = await import_trust_lists(registry_of(a), [path])
    assert counts["files"] == 1
    assert await _accredited(a, ti) == (True, "issuer.accredited")  # here: at once
    await _eventually(lambda: _true(events_of(b).received > received))
    assert await _accredited(b, ti) == (True, "issuer.accredited")  # no restart
    assert registry_of(a).anchors == registry_of(b).anchors


async def test_imported_anchor_reaches_another_worker_without_events(
        two_nodes: Any, tmp_path: Path) -> None:
    """Workers with no shared event bus (in-process cache): the anchors come with the epoch."""
    a, b = await two_nodes(registry_epoch_max_age_seconds=0.2)
    path, ti = _trust_list(tmp_path)
    assert (await _accredited(b, ti))[0] is False
    await import_trust_lists(registry_of(a), [path])
    await asyncio.sleep(0.25)
    assert await _accredited(b, ti) == (True, "issuer.accredited")


async def test_anchors_declared_by_another_worker_are_kept(two_nodes: Any,
                                                           tmp_path: Path) -> None:
    """Declaring merges with what the database holds, not with this worker's stale copy."""
    a, b = await two_nodes(registry_epoch_max_age_seconds=3600)
    before = set(registry_of(b).anchors)
    first, _ = _trust_list(tmp_path, "one")
    second, _ = _trust_list(tmp_path, "two")
    await import_trust_lists(registry_of(a), [first])
    await import_trust_lists(registry_of(b), [second])  # b had not seen a's anchor yet
    await registry_of(a).invalidate()
    assert len(registry_of(a).anchors - before) == 2
    assert registry_of(a).anchors == registry_of(b).anchors


async def _true(value: bool) -> bool:
    return value
