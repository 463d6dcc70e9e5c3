"""Latency-tail tracing for a ``trustbridge serve`` process (``scaling.py --trace DIR``).

Loaded through ``PYTHONPATH`` (Python imports ``sitecustomize`` at startup); does nothing
unless the process is a ``serve`` and ``TAILPROBE_DIR`` is set. Per process (each worker
too), appended once a second to ``$TAILPROBE_DIR/<pid>-gc.txt`` and ``<pid>-lag.txt``:

* every cyclic-GC collection: ``start generation wall_s collected cpu_s tracked``
  (``tracked``: containers left in the generations after a full collection, 0 otherwise);
* event-loop lag: a thread asks the loop to run a callback every 2 ms; each one that runs
  more than 2 ms late is ``sent lag_s loop_thread_cpu_s``. When the loop thread had the CPU
  for most of the lag, the loop was busy (a long callback, a GC pause, a backlog); when it
  had it for little of it, the process was waiting for a CPU (other work on the machine).

Times are ``time.monotonic()`` (CLOCK_MONOTONIC), as ``openloop``'s ``start_monotonic_s``.
asyncio's own loop only (not uvloop). Costs a few % of a core; a diagnosis tool.
"""

from __future__ import annotations

import os
import sys

if "serve" in sys.argv and os.environ.get("TAILPROBE_DIR"):
    import asyncio
    import gc
    import threading
    import time
    from typing import Any

    _dir = os.environ["TAILPROBE_DIR"]
    _rows: dict[str, list[tuple[float, ...]]] = {"gc": [], "lag": []}
    _started: list[float] = [0.0, 0.0]

    def _on_gc(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            _started[:] = [time.monotonic(), time.thread_time()]
            return
        wall, cpu = time.monotonic() - _started[0], time.thread_time() - _started[1]
        tracked = len(gc.get_objects()) if info["generation"] == 2 else 0
        _rows["gc"].append((_started[0], info["generation"], wall, info["collected"], cpu,
                            tracked))

    def _flush_forever() -> None:
        while True:
            time.sleep(1)
            for name, rows in _rows.items():
                taken = rows[:]
                del rows[:len(taken)]
                if taken:
                    with open(f"{_dir}/{os.getpid()}-{name}.txt", "a") as out:
                        out.writelines(" ".join(f"{v:.6f}" if isinstance(v, float) else str(v)
                                                for v in row) + "\n" for row in taken)

    def _ping_forever(loop: asyncio.AbstractEventLoop, clock: int) -> None:
        while not loop.is_closed():
            sent, cpu = time.monotonic(), time.clock_gettime(clock)

            def arrived(sent: float = sent, cpu: float = cpu) -> None:
                lag = time.monotonic() - sent
                if lag > 0.002:
                    _rows["lag"].append((sent, lag, time.clock_gettime(clock) - cpu))

            try:
                loop.call_soon_threadsafe(arrived)
            except RuntimeError:  # closed meanwhile
                return
            time.sleep(0.002)

    _run_forever = asyncio.BaseEventLoop.run_forever

    def _traced_run_forever(self: asyncio.BaseEventLoop) -> None:
        clock = time.pthread_getcpuclockid(threading.get_ident())
        threading.Thread(target=_ping_forever, args=(self, clock), daemon=True).start()
        threading.Thread(target=_flush_forever, daemon=True).start()
        _run_forever(self)

    gc.callbacks.append(_on_gc)
    asyncio.BaseEventLoop.run_forever = _traced_run_forever  # type: ignore[method-assign]
