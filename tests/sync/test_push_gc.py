"""Pushes and mirrored batches are verified and applied without full collections
(``gc_tuning.gc_paused``); the GC's thresholds are restored afterwards, applied or refused."""

from __future__ import annotations

import gc

import pytest

from tests.conftest import ClientFactory
from tests.sync.support import Actor, Hierarchy, accredited, base_url, mirror, push
from trustbridge import gc_tuning
from trustbridge.registry import sync


async def test_batches_are_verified_without_full_collections_then_thresholds_return(
        make_client: ClientFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    h = Hierarchy()
    a = await make_client(**h.settings())
    b = await make_client(**h.settings(sync_mirror_peers=[base_url(a)]))
    before = gc.get_threshold()
    seen: list[tuple[int, int, int]] = []
    inner = sync.SyncEngine.verify_batch

    async def spy(self: sync.SyncEngine, jws: str, parsed: sync.ParsedBatch | None = None,
                  **options: bool) -> sync.VerifiedBatch:
        seen.append(gc.get_threshold())
        return await inner(self, jws, parsed, **options)

    monkeypatch.setattr(sync.SyncEngine, "verify_batch", spy)
    assert (await push(a, h.bootstrap()))[0] == 200
    provider = Actor()
    assert (await push(a, h.es.batch([h.ti(provider)])))[0] == 200
    assert gc.get_threshold() == before
    code, body = await push(a, h.es.batch([h.ti(Actor(), jurisdiction="FIN")]))
    assert code == 400 and body["code"] == "batch.rejected", body
    assert gc.get_threshold() == before
    [result] = await mirror(b)
    assert result["status"] == "applied" and result["batches"] == 2, result
    assert gc.get_threshold() == before
    assert len(seen) == 5  # three pushes, two mirrored batches
    # young collections go on, less often; the middle generation's threshold is kept
    assert all(t[0] == max(before[0], gc_tuning._YOUNG_DURING_BATCH) and t[1] == before[1]
               and t[2] > 10**6 for t in seen)
    assert await accredited(b, provider.did)


def test_pauses_nest_and_the_outermost_restores() -> None:
    before = gc.get_threshold()
    with gc_tuning.gc_paused():
        with gc_tuning.gc_paused():
            assert gc.get_threshold()[2] > 10**6
        assert gc.get_threshold()[2] > 10**6
        assert gc.get_threshold()[0] == max(before[0], gc_tuning._YOUNG_DURING_BATCH)
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError), gc_tuning.gc_paused():
        raise RuntimeError
    assert gc.get_threshold() == before
