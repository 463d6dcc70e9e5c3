"""Startup state parked outside the cyclic GC's full collections (``trustbridge.gc_tuning``),
and the registry mirror's ``long_lived`` blocks living with it."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import make_settings
from trustbridge import gc_tuning
from trustbridge.registry import mirror
from trustbridge.serve import serving_app


class Node:
    """A container the cyclic GC tracks; a weakref tells whether it was freed."""

    def __init__(self) -> None:
        self.other: Any = None


@pytest.fixture(autouse=True)
def _no_baseline() -> Iterator[None]:
    gc_tuning.release_baseline()
    assert gc.get_freeze_count() == 0
    yield
    gc_tuning.release_baseline()
    gc.unfreeze()


def cycle() -> weakref.ref[Node]:
    """A reference cycle nobody holds: only the cyclic GC can free it."""
    a, b = Node(), Node()
    a.other, b.other = b, a
    return weakref.ref(a)


def test_freeze_after_startup_parks_what_is_alive_and_collects_garbage_first() -> None:
    garbage = cycle()
    alive = Node()
    parked = gc_tuning.freeze_after_startup()
    assert garbage() is None  # collected before parking, not parked for good
    assert parked == gc.get_freeze_count() > 0
    assert not any(obj is alive for obj in gc.get_objects())  # out of every generation
    gc_tuning.release_baseline()
    assert gc.get_freeze_count() == 0
    assert any(obj is alive for obj in gc.get_objects())


def test_long_lived_without_a_baseline_unfreezes_when_the_outermost_block_ends() -> None:
    with gc_tuning.long_lived():
        assert gc.get_freeze_count() > 0
        with gc_tuning.long_lived():
            pass
        assert gc.get_freeze_count() > 0  # the inner block does not unfreeze
    assert gc.get_freeze_count() == 0


def test_long_lived_re_parks_the_baseline_and_frees_cycles_made_meanwhile() -> None:
    gc_tuning.freeze_after_startup()
    with gc_tuning.long_lived():
        dropped = cycle()
        gc.freeze()  # as the mirror does while it accumulates a pulled range
    assert dropped() is None  # the re-park collected first: nothing leaks into the baseline
    assert gc.get_freeze_count() > 0  # the baseline is in force again


def test_the_mirror_uses_the_shared_long_lived() -> None:
    assert mirror.long_lived is gc_tuning.long_lived


async def test_serving_app_parks_startup_state_after_the_services_are_built(
        tmp_path: Path) -> None:
    app = serving_app(make_settings(tmp_path))
    assert gc.get_freeze_count() == 0
    client: TestClient[Any, Any] = TestClient(TestServer(app, host="127.0.0.1"))
    await client.start_server()
    try:
        assert gc.get_freeze_count() > 0
        services = app["services"]  # built by startup, then parked with the rest
        assert not any(obj is services for obj in gc.get_objects())
        assert (await client.get("/health")).status == 200
    finally:
        await client.close()
