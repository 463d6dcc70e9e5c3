"""runtime/memory.py: the glibc mmap threshold and the periodic malloc_trim.

The fakes check the wiring (what is called, when, and that nothing is called without glibc);
the subprocess tests measure the real effect on RSS (``/proc/self/statm``) in a fresh
interpreter, so this test process's allocator is left alone."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import textwrap
from typing import Any

import pytest

from tests.conftest import ROOT
from trustbridge.api import create_app
from trustbridge.config import Settings
from trustbridge.runtime import memory
from trustbridge.runtime.memory import (
    M_MMAP_THRESHOLD,
    MMAP_THRESHOLD_MAX,
    MemoryTrimmer,
    fix_mmap_threshold,
)

HAVE_GLIBC = memory.glibc() is not None
needs_glibc = pytest.mark.skipif(not HAVE_GLIBC, reason="not glibc (malloc tuning is a no-op)")


class FakeLibc:
    def __init__(self) -> None:
        self.mallopts: list[tuple[int, int]] = []
        self.trims: list[int] = []

    def mallopt(self, param: int, value: int) -> int:
        self.mallopts.append((param, value))
        return 1

    def malloc_trim(self, pad: int) -> int:
        self.trims.append(pad)
        return 1


# -- wiring (fakes) ---------------------------------------------------------------------------

def test_fix_mmap_threshold_sets_the_fixed_threshold() -> None:
    libc = FakeLibc()
    assert fix_mmap_threshold(128 * 1024, libc=libc) is True
    assert libc.mallopts == [(M_MMAP_THRESHOLD, 128 * 1024)]


def test_fix_mmap_threshold_zero_leaves_glibc_alone() -> None:
    libc = FakeLibc()
    assert fix_mmap_threshold(0, libc=libc) is False
    assert libc.mallopts == []


def test_fix_mmap_threshold_refuses_what_glibc_would_ignore() -> None:
    with pytest.raises(ValueError, match="maximum"):
        fix_mmap_threshold(MMAP_THRESHOLD_MAX + 1, libc=FakeLibc())


def test_without_glibc_nothing_is_called(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "glibc", lambda: None)
    assert fix_mmap_threshold(128 * 1024) is False
    trimmer = MemoryTrimmer(0.01)
    assert trimmer.enabled is False
    assert trimmer.trim() == 0
    assert trimmer.stats.trims == 0


async def test_no_task_without_glibc(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(memory, "glibc", lambda: None)
    trimmer = MemoryTrimmer(0.01)
    assert trimmer.start() is False
    await asyncio.sleep(0.05)
    assert trimmer.stats.trims == 0
    await trimmer.stop()


async def test_interval_zero_is_off() -> None:
    libc = FakeLibc()
    trimmer = MemoryTrimmer(0, libc=libc)
    assert trimmer.start() is False
    await asyncio.sleep(0.05)
    assert libc.trims == []


async def test_trims_on_schedule_until_stopped() -> None:
    libc = FakeLibc()
    rss = iter([100, 60] * 1000)
    seen: list[int] = []
    trimmer = MemoryTrimmer(0.02, libc=libc, rss=lambda: next(rss), on_trim=seen.append)
    assert trimmer.start() is True
    assert trimmer.start() is False  # one task
    await asyncio.sleep(0.01)
    assert libc.trims == []  # not at once: after one interval
    for _ in range(200):
        if len(libc.trims) >= 3:
            break
        await asyncio.sleep(0.01)
    await trimmer.stop()
    calls = len(libc.trims)
    assert calls >= 3
    assert libc.trims == [0] * calls  # malloc_trim(0): keep no padding
    assert seen == [40] * calls  # RSS 100 -> 60 around each trim
    assert trimmer.stats.trims == calls and trimmer.stats.released_bytes == 40 * calls
    await asyncio.sleep(0.06)
    assert len(libc.trims) == calls  # stopped


def test_released_bytes_never_negative() -> None:
    rss = iter([50, 80])  # something else allocated meanwhile
    trimmer = MemoryTrimmer(1, libc=FakeLibc(), rss=lambda: next(rss))
    assert trimmer.trim() == 0


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRUSTBRIDGE_MALLOC_TRIM_INTERVAL_SECONDS", "0")
    monkeypatch.setenv("TRUSTBRIDGE_MALLOC_MMAP_THRESHOLD_BYTES", "262144")
    s = Settings()
    assert s.malloc_trim_interval_seconds == 0
    assert s.malloc_mmap_threshold_bytes == 262144
    with pytest.raises(ValueError):
        Settings(malloc_mmap_threshold_bytes=MMAP_THRESHOLD_MAX + 1)


def test_serve_fixes_the_threshold_before_building_the_app(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    from tests.conftest import make_settings
    from trustbridge import serve

    seen: list[int] = []
    monkeypatch.setattr(serve, "fix_mmap_threshold", seen.append)
    serve.serving_app(make_settings(tmp_path, malloc_mmap_threshold_bytes=262144))
    assert seen == [262144]


@needs_glibc
async def test_app_trims_and_counts_in_metrics(tmp_path: Any) -> None:
    from aiohttp.test_utils import TestClient, TestServer

    from tests.conftest import make_settings

    settings = make_settings(tmp_path, malloc_trim_interval_seconds=0.05)
    async with TestClient(TestServer(create_app(settings), host="127.0.0.1")) as client:
        text = ""
        for _ in range(100):
            await asyncio.sleep(0.05)
            text = await (await client.get("/metrics")).text()
            if "trustbridge_malloc_trims_total" in text:
                break
    lines = {ln.split()[0]: ln.split()[1] for ln in text.splitlines()
             if ln.startswith("trustbridge_malloc_")}
    assert int(lines["trustbridge_malloc_trims_total"]) >= 1
    assert int(lines["trustbridge_malloc_trim_released_bytes_total"]) >= 0


# -- real glibc, real RSS (subprocess) --------------------------------------------------------

# Frees a large mmapped block (glibc then raises its threshold to its size, unless fixed),
# then allocates 48 MiB as 256 KiB blocks with one smaller block above them (so the freed
# space is not at the top of the heap), frees the large ones and reports how much of the
# 48 MiB stays resident; then trims and reports it again.
_SCRIPT = textwrap.dedent("""
    import ctypes, json, sys
    from trustbridge.runtime.memory import MemoryTrimmer, fix_mmap_threshold, glibc, resident_bytes
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.malloc.argtypes = [ctypes.c_size_t]
    libc.free.argtypes = [ctypes.c_void_p]
    if sys.argv[1] == "fixed":
        assert fix_mmap_threshold(128 * 1024)
    big = libc.malloc(8 << 20); ctypes.memset(big, 1, 8 << 20); libc.free(big)
    base = resident_bytes()
    blocks = []
    for _ in range(192):
        p = libc.malloc(256 << 10); ctypes.memset(p, 1, 256 << 10); blocks.append(p)
    pin = libc.malloc(96 << 10); ctypes.memset(pin, 1, 96 << 10)  # no free chunk this size
    loaded = resident_bytes()
    for p in blocks:
        libc.free(p)
    freed = resident_bytes()
    released = MemoryTrimmer(60).trim()
    trimmed = resident_bytes()
    print(json.dumps({"loaded": loaded - base, "after_free": freed - base,
                      "after_trim": trimmed - base, "released": released}))
""")
MiB = 1 << 20


def _measure(mode: str) -> dict[str, int]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["PYTHONPATH"] = str(ROOT / "src")
    out = subprocess.run([sys.executable, "-c", _SCRIPT, mode], env=env, check=True,
                         capture_output=True, text=True, timeout=60).stdout
    result: dict[str, int] = json.loads(out)
    assert result["loaded"] > 40 * MiB, result  # the 48 MiB were touched
    return result


@needs_glibc
def test_dynamic_threshold_keeps_freed_blocks_resident_until_trimmed() -> None:
    """glibc's default: after the large free, 256 KiB blocks come from the heap, and once
    freed below a live block they stay resident -- until malloc_trim gives them back."""
    r = _measure("dynamic")
    assert r["after_free"] > 40 * MiB, r
    assert r["after_trim"] < 8 * MiB, r
    assert r["released"] > 32 * MiB, r


@needs_glibc
def test_fixed_threshold_returns_freed_blocks_at_once() -> None:
    r = _measure("fixed")
    assert r["after_free"] < 8 * MiB, r
