"""``EpochMemo``: reused while young, one read for many callers, never a value from before a
change once the change is known, never an older read over a newer one."""

from __future__ import annotations

import asyncio

from trustbridge.runtime.epoch_memo import EpochMemo


class Store:
    """An epoch counter whose reads can be held open, one gate per read."""

    def __init__(self) -> None:
        self.value = 0
        self.reads = 0
        self.gates: list[asyncio.Event] = []
        self.started: asyncio.Queue[int] = asyncio.Queue()

    async def read(self) -> int:
        self.reads += 1
        value = self.value
        gate = asyncio.Event()
        self.gates.append(gate)
        self.started.put_nowait(value)
        await gate.wait()
        return value

    async def reading(self) -> int:
        """Wait until the next read has its value in hand; that value."""
        return await asyncio.wait_for(self.started.get(), 5)

    def open_all(self) -> None:
        for gate in self.gates:
            gate.set()


async def _settle(task: asyncio.Future[int]) -> int:
    return await asyncio.wait_for(task, 5)


async def test_a_young_value_is_reused_and_an_old_one_read_again() -> None:
    store, age = Store(), [3600.0]
    memo = EpochMemo(store.read, lambda: age[0])
    first = asyncio.ensure_future(memo.get())
    await store.reading()
    store.open_all()
    assert await _settle(first) == 0
    store.value = 1
    assert await memo.get() == 0 and store.reads == 1  # young: no read
    age[0] = 0.0
    again = asyncio.ensure_future(memo.get())
    assert await store.reading() == 1
    store.open_all()
    assert await _settle(again) == 1 and store.reads == 2


async def test_callers_that_find_it_stale_share_one_read() -> None:
    store = Store()
    memo = EpochMemo(store.read, lambda: 3600.0)
    callers = [asyncio.ensure_future(memo.get()) for _ in range(16)]
    await store.reading()
    store.open_all()
    assert [await _settle(c) for c in callers] == [0] * 16
    assert store.reads == 1


async def test_a_read_across_a_change_is_answered_but_not_remembered() -> None:
    store = Store()
    memo = EpochMemo(store.read, lambda: 3600.0)
    before = asyncio.ensure_future(memo.get())
    assert await store.reading() == 0  # the read holds epoch 0
    store.value = 1
    memo.forget()  # the change is known now
    store.open_all()
    assert await _settle(before) == 0  # its caller asked before the change
    later = asyncio.ensure_future(memo.get())  # not answered from that read
    assert await store.reading() == 1
    store.open_all()
    assert await _settle(later) == 1 and await memo.get() == 1


async def test_nobody_joins_a_read_that_started_before_a_change_they_know() -> None:
    store = Store()
    memo = EpochMemo(store.read, lambda: 3600.0)
    before = asyncio.ensure_future(memo.get())
    assert await store.reading() == 0
    store.value = 1
    memo.forget()
    after = asyncio.ensure_future(memo.get())
    assert await store.reading() == 1  # a read of its own
    store.open_all()
    assert (await _settle(before), await _settle(after)) == (0, 1)
    assert await memo.get() == 1 and store.reads == 2


async def test_an_older_read_never_replaces_a_newer_one() -> None:
    store = Store()
    memo = EpochMemo(store.read, lambda: 3600.0)
    old = asyncio.ensure_future(memo.refresh())
    assert await store.reading() == 0
    store.value = 1
    new = asyncio.ensure_future(memo.refresh())
    assert await store.reading() == 1
    store.gates[1].set()  # the newer read lands first
    assert await _settle(new) == 1
    store.gates[0].set()
    assert await _settle(old) == 0
    assert await memo.get() == 1 and store.reads == 2
