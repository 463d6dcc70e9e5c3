"""``SingleFlight``: callers of one key (a generation) share the read under way; a newer key,
a finished read or a cancelled caller never hand anyone a stale or lost value."""

from __future__ import annotations

import asyncio

import pytest

from trustbridge.runtime.single_flight import SingleFlight


class Source:
    """A value read slowly: each read takes the value it finds when it is released."""

    def __init__(self) -> None:
        self.value = 0
        self.reads = 0
        self.release = asyncio.Event()

    async def read(self) -> int:
        self.reads += 1
        await self.release.wait()
        return self.value


async def test_concurrent_callers_share_one_read() -> None:
    flight: SingleFlight[int, int] = SingleFlight()
    source = Source()
    callers = [asyncio.ensure_future(flight.run(0, source.read)) for _ in range(16)]
    await asyncio.sleep(0)
    source.value = 7
    source.release.set()
    assert await asyncio.gather(*callers) == [7] * 16
    assert source.reads == 1


async def test_a_finished_read_is_not_reused() -> None:
    flight: SingleFlight[int, int] = SingleFlight()
    source = Source()
    source.release.set()
    assert await flight.run(0, source.read) == 0
    source.value = 1
    assert await flight.run(0, source.read) == 1
    assert source.reads == 2


async def test_a_newer_generation_does_not_join_an_older_read() -> None:
    """A caller that has seen a change must not get a value read before it."""
    flight: SingleFlight[int, int] = SingleFlight()
    old = Source()
    before = asyncio.ensure_future(flight.run(0, old.read))
    await asyncio.sleep(0)
    new = Source()
    new.value = 2
    new.release.set()
    assert await flight.run(1, new.read) == 2
    assert new.reads == 1
    old.release.set()
    assert await before == 0


async def test_a_cancelled_caller_does_not_cancel_the_read_for_the_others() -> None:
    flight: SingleFlight[int, int] = SingleFlight()
    source = Source()
    first = asyncio.ensure_future(flight.run(0, source.read))
    second = asyncio.ensure_future(flight.run(0, source.read))
    await asyncio.sleep(0)
    first.cancel()
    await asyncio.sleep(0)
    source.value = 5
    source.release.set()
    assert await second == 5
    assert first.cancelled()
    assert source.reads == 1


async def test_a_failed_read_reaches_every_caller_and_the_next_one_reads_again() -> None:
    flight: SingleFlight[int, int] = SingleFlight()
    gate = asyncio.Event()

    async def broken() -> int:
        await gate.wait()
        raise ConnectionError("store down")

    callers = [asyncio.ensure_future(flight.run(0, broken)) for _ in range(3)]
    await asyncio.sleep(0)
    gate.set()
    for caller in callers:
        with pytest.raises(ConnectionError):
            await caller
    source = Source()
    source.release.set()
    assert await flight.run(0, source.read) == 0
    assert source.reads == 1


async def test_cancel_stops_every_read_in_flight() -> None:
    flight: SingleFlight[str, int] = SingleFlight()
    sources = {"a": Source(), "b": Source()}
    callers = [asyncio.ensure_future(flight.run(k, s.read)) for k, s in sources.items()]
    for _ in range(3):  # the callers start their reads, the reads start
        await asyncio.sleep(0)
    assert [s.reads for s in sources.values()] == [1, 1]
    flight.cancel()
    for caller in callers:
        with pytest.raises(asyncio.CancelledError):
            await caller
