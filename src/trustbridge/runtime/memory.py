"""Giving freed memory back to the OS: glibc malloc tuning for long-running serve workers.

Why (issue 8, docs/soak.md): glibc raises its mmap threshold to the size of any mmapped
block that is freed (up to 32 MiB); one body, log page or sync batch of a few MiB is enough
(the soak's primary: 3.2 MiB after the prefill, read with gdb). From then on every block
below it comes from the heap -- above all the 256 KiB buffer asyncio's selector transport
allocates for each socket read and then shrinks to the bytes received (``recv(262144)``;
the only block of 128 KiB or more strace saw: ~8 per request on Redis + PostgreSQL, where
each request reads Redis and PostgreSQL replies). Carved from the heap and shrunk in place,
those reads evidently leave holes later 256 KiB reads do not reuse: the heap grows and its
free pages stay resident (``free`` only gives back the top of the heap): glibc's free bytes 9 ->
69 MiB and the heap 88 -> 132 MiB in 200 s, while in-use bytes (62 MiB) and Python's
objects (~213k) stayed flat. With the threshold fixed at 128 KiB (which also turns the
adjustment off) the reads are mapped and unmapped, the heap stayed at 79 MiB and RSS flat.

The default threshold is 512 KiB, not 128 KiB: mapped 256 KiB reads cost a mapping, a page
fault and an unmap -- ~90 us more per read on this (virtualised) machine, ~20 % of a cached
``POST /v1/verify`` (4,400 -> 5,500 per server CPU second at 512 KiB, same run). At 512 KiB
the reads stay in the heap and the threshold still cannot drift up to 32 MiB (multi-MiB
blocks keep their own mappings); the periodic trim returns what the reads leave free (soak:
a saw-tooth of ~12 MiB at 60 s, flat trend). ``TRUSTBRIDGE_MALLOC_MMAP_THRESHOLD_BYTES=131072``
gives the flattest heap at that CPU price; ``0`` keeps glibc's dynamic threshold.

Two measures, both no-ops where the C library is not glibc (musl, macOS):

* :func:`fix_mmap_threshold` -- ``mallopt(M_MMAP_THRESHOLD, n)`` once, at worker start
  (``serve.py``), before the first large block is freed;
* :class:`MemoryTrimmer` -- ``malloc_trim(0)`` every ``malloc_trim_interval_seconds``, from
  the app lifecycle. Since glibc 2.8 it also returns whole free pages in the *middle* of
  every arena (``MADV_DONTNEED``), which the automatic top-of-heap trim never does; what
  fragmentation remains is then not resident. A trim of a ~130 MiB heap took 1-15 ms here
  (the event loop waits for it), so once a minute costs nothing measurable.

Both are off with 0 (``TRUSTBRIDGE_MALLOC_MMAP_THRESHOLD_BYTES``,
``TRUSTBRIDGE_MALLOC_TRIM_INTERVAL_SECONDS``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import ctypes.util
import logging
import os
import platform
import time
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from typing import Protocol

log = logging.getLogger(__name__)

M_MMAP_THRESHOLD = -3  # <malloc.h>
MMAP_THRESHOLD_MAX = 32 * 1024 * 1024  # glibc refuses larger values on 64-bit
_PAGE = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096


class Glibc(Protocol):
    """The two glibc calls used here (a ``ctypes.CDLL`` or a test double)."""

    def mallopt(self, param: int, value: int) -> int: ...

    def malloc_trim(self, pad: int) -> int: ...


@cache
def glibc() -> Glibc | None:
    """This process's glibc with ``mallopt``/``malloc_trim``, or None (not glibc, no ctypes)."""
    if platform.system() != "Linux" or platform.libc_ver()[0] != "glibc":
        return None
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        mallopt, trim = libc.mallopt, libc.malloc_trim
    except (OSError, AttributeError):
        return None
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    trim.argtypes, trim.restype = [ctypes.c_size_t], ctypes.c_int
    found: Glibc = libc
    return found


def resident_bytes() -> int | None:
    """This process's resident set size (``/proc/self/statm``), or None where it is absent."""
    try:
        with open("/proc/self/statm", "rb") as f:
            return int(f.read().split()[1]) * _PAGE
    except (OSError, IndexError, ValueError):
        return None


def fix_mmap_threshold(size: int, *, libc: Glibc | None = None) -> bool:
    """Serve blocks of ``size`` bytes and more from their own mappings, for good.

    Setting the threshold also stops glibc from raising it when a large block is freed.
    ``size`` 0 leaves glibc's default (dynamic) behaviour. True if glibc took the value."""
    if size <= 0:
        return False
    lib = libc if libc is not None else glibc()
    if lib is None:
        return False
    if size > MMAP_THRESHOLD_MAX:
        raise ValueError(f"mmap threshold {size} is above glibc's maximum {MMAP_THRESHOLD_MAX}")
    ok = lib.mallopt(M_MMAP_THRESHOLD, size) == 1
    if not ok:
        log.warning("mallopt(M_MMAP_THRESHOLD, %d) refused", size)
    return ok


@dataclass
class TrimStats:
    """What the trims did so far (``/metrics`` shows them)."""

    trims: int = 0
    released_bytes: int = 0  # fall of RSS across the trims (never negative per trim)
    seconds: float = 0.0  # time spent inside malloc_trim


class MemoryTrimmer:
    """``malloc_trim(0)`` every ``interval`` seconds while the app runs; a no-op without glibc.

    ``on_trim(released_bytes)`` is called after each trim (the app counts it in /metrics)."""

    def __init__(self, interval: float, *, libc: Glibc | None = None,
                 rss: Callable[[], int | None] = resident_bytes,
                 on_trim: Callable[[int], None] | None = None) -> None:
        self.interval = interval
        self.libc = libc if libc is not None else glibc()
        self.stats = TrimStats()
        self._rss = rss
        self._on_trim = on_trim
        self._task: asyncio.Task[None] | None = None

    @property
    def enabled(self) -> bool:
        return self.interval > 0 and self.libc is not None

    def trim(self) -> int:
        """One trim now; the bytes by which RSS fell (0 without glibc)."""
        if self.libc is None:
            return 0
        before = self._rss()
        started = time.perf_counter()
        self.libc.malloc_trim(0)
        self.stats.seconds += time.perf_counter() - started
        after = self._rss()
        released = max(0, before - after) if before is not None and after is not None else 0
        self.stats.trims += 1
        self.stats.released_bytes += released
        if self._on_trim is not None:
            self._on_trim(released)
        return released

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            released = self.trim()
            log.debug("malloc_trim released %d bytes", released)

    def start(self) -> bool:
        """Start the periodic task (on the running loop); False when disabled."""
        if not self.enabled or self._task is not None:
            return False
        self._task = asyncio.get_running_loop().create_task(self._run(), name="malloc-trim")
        return True

    async def stop(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


__all__ = ["MMAP_THRESHOLD_MAX", "M_MMAP_THRESHOLD", "Glibc", "MemoryTrimmer", "TrimStats",
           "fix_mmap_threshold", "glibc", "resident_bytes"]
