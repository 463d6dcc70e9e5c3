"""The cyclic GC's full collections, kept short in a serving process.

A full (generation 2) collection walks every tracked container that is alive, and the event
loop answers nothing meanwhile. After startup a serving process holds ~85,000 of them
(modules, pydantic models and schemas, JSON-LD contexts, routes, memos); walking them took
65-90 ms of CPU on the 2-core bench machine, once every 10-20 s under cached load -- at 2,000
requests/s a few hundred requests wait behind it, which alone puts a 3 s window's p99 far
over 10 ms. ``freeze_after_startup`` collects once and then parks everything alive in the
permanent generation (``gc.freeze``), so later full collections walk only what was created
since (a full collection of the parked set is then ~0.02 ms). Parked objects are still freed
by reference counting; only cyclic garbage among them waits for the next unfreeze, and what
is alive at the end of startup is the process's lasting state.

``long_lived()`` parks a large working set for a while (the registry mirror's pulled range);
leaving the outermost block unfreezes everything, and when the startup baseline is in force
it collects and parks again: one full collection per applied pull, which drops every cached
verification result anyway.

``gc_paused()`` holds off only the automatic full collections while a large batch is
verified and applied (a registry push or mirrored range); young collections go on.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

_state = {"depth": 0, "baseline": False}


def freeze_after_startup() -> int:
    """Collect, then park every object alive in the permanent generation; how many."""
    gc.collect()
    gc.freeze()
    _state["baseline"] = True
    return gc.get_freeze_count()


def release_baseline() -> None:
    """Undo ``freeze_after_startup`` (tests; a process that stops serving)."""
    _state["baseline"] = False
    if _state["depth"] == 0:
        gc.unfreeze()


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """Inside the block, ``gc.freeze()`` parks what is alive at that point outside full
    collections (callers may freeze again inside it as they accumulate); leaving the
    outermost block unfreezes, then re-parks the baseline when there is one."""
    _state["depth"] += 1
    gc.freeze()
    try:
        yield
    finally:
        _state["depth"] -= 1
        if _state["depth"] == 0:
            gc.unfreeze()
            if _state["baseline"]:
                freeze_after_startup()


_NO_FULL_COLLECTION = 1 << 30
# Young collections during a batch: every 700 allocations (the default) the collector
# walked the young objects -- mostly a batch's parsed changes and models, alive until
# applied -- and every tenth young collection the middle generation as well.
_YOUNG_DURING_BATCH = 20_000
_pause: dict[str, Any] = {"depth": 0, "threshold": None}


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """No automatic FULL collection while a batch is verified and applied (seconds): each one
    walked the whole process, batch included, and the held batch set them off again and
    again (14 % of a 100,000-issuer push's CPU). Young collections go on, less often (every
    ``_YOUNG_DURING_BATCH`` allocations), so cycles that requests served meanwhile make are
    still freed; older ones wait for the first full collection after the block. Nestable;
    concurrent batches share one pause."""
    if _pause["depth"] == 0:
        threshold = gc.get_threshold()
        _pause["threshold"] = threshold
        gc.set_threshold(max(threshold[0], _YOUNG_DURING_BATCH), threshold[1],
                         _NO_FULL_COLLECTION)
    _pause["depth"] += 1
    try:
        yield
    finally:
        _pause["depth"] -= 1
        if _pause["depth"] == 0:
            gc.set_threshold(*_pause["threshold"])


__all__ = ["freeze_after_startup", "gc_paused", "long_lived", "release_baseline"]
