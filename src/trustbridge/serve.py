"""Running the HTTP service: in this process, or as a supervisor of N worker processes.

``trustbridge serve`` (``--workers 1``, the default) runs the aiohttp app in this process
with ``web.run_app``, as it always has. ``--workers N`` (N > 1, POSIX) does this instead:

1. **Refuse without Redis.** Nonces, OpenID4VP sessions, idempotency keys and cached results
   live in the cache; the in-process cache is private to one process, so a nonce spent on
   one worker could be replayed on another and a session made on one would be unknown to
   the rest. There is no flag to allow it: that would be a replay hole. (The verification
   rate limits of ``api/ratelimit.py`` are token buckets in each worker's memory, Redis or
   not: with N workers a client may get up to N times the configured rate.)
2. **Bind in the supervisor.** One listening socket per worker slot with ``SO_REUSEPORT`` (the
   kernel spreads new connections over the slots), or one shared socket where the platform
   lacks it. The supervisor keeps the sockets open, so connections queued on a slot whose
   worker died wait for its replacement instead of being reset, and "address in use" is
   reported once, before anything starts.
3. **One-time startup work once, here**, before any worker exists: ``build_services`` with
   the periodic jobs off (store migrations, seeding the registry from ``registry/*.json``
   into an empty store, the node and OpenID4VP verifier keys created and stored), then
   closed. Workers then find all of it done and only load it. (Migrations are also safe
   concurrently: SQLite ``BEGIN IMMEDIATE``, PostgreSQL an advisory lock.)
4. **Fork the workers.** Each runs the app on its slot's socket with ``web.run_app`` (same
   shutdown path as one process), in its own process group: a terminal's Ctrl-C reaches only
   the supervisor, which forwards one SIGTERM. A worker whose supervisor disappears stops
   itself within a second. Responses carry ``X-TrustBridge-Worker: <slot>`` (1..N).
5. **Supervise.** A worker that exits while the service is running is restarted after a
   back-off (0.1 s doubling to 5 s; reset once a worker has lived 30 s). A slot that fails
   ``MAX_RAPID_FAILURES`` times in a row, each within 30 s of starting, makes the supervisor
   stop the others and exit 1. SIGTERM/SIGINT/SIGHUP: SIGTERM to every worker, which
   finishes in-flight requests within ``--shutdown-timeout``; any still alive 5 s after that
   is killed. Exit status 0 only if every worker stopped cleanly.

Either way, the last startup step parks what startup built outside the cyclic GC's full
collections (``trustbridge.gc_tuning``): a full collection no longer walks ~85,000 startup
objects, which stalled the event loop for 65-90 ms every 10-20 s under load.

SQLite with several workers: each worker has its own connection to the same file, which is
in WAL mode (readers never block, one writer at a time) with ``busy_timeout=5000`` and every
write in ``BEGIN IMMEDIATE``, so concurrent writers queue instead of failing; the registry
memo is keyed on the store's epoch, which every write moves, so no worker serves a stale
record. This is sound on one machine's local disk only (not NFS); across machines use
PostgreSQL (``DATABASE_URL``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import AsyncIterator, Callable
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from typing import Literal

from aiohttp import web

from trustbridge import gc_tuning
from trustbridge.config import Settings
from trustbridge.runtime.memory import fix_mmap_threshold

log = logging.getLogger("trustbridge.serve")

LoopName = Literal["asyncio", "uvloop", "auto"]
WORKER_HEADER = "X-TrustBridge-Worker"
BACKOFF_FIRST_S = 0.1
BACKOFF_MAX_S = 5.0
HEALTHY_AFTER_S = 30.0  # a worker that lived this long resets its slot's back-off
MAX_RAPID_FAILURES = 5
KILL_GRACE_S = 5.0  # after --shutdown-timeout, before SIGKILL
PARENT_CHECK_S = 1.0
_STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)
_WATCHED = {*_STOP_SIGNALS, signal.SIGCHLD}


class ServeError(Exception):
    """The service cannot start as asked (the message says what to change)."""


def new_event_loop(name: LoopName) -> asyncio.AbstractEventLoop:
    """An event loop of the kind asked; ``auto`` is uvloop when installed, else asyncio."""
    if name not in ("asyncio", "uvloop", "auto"):
        raise ServeError(f"unknown event loop {name!r}: asyncio, uvloop or auto")
    if name in ("uvloop", "auto"):
        try:
            import uvloop
        except ImportError:
            if name == "uvloop":
                raise ServeError("--loop uvloop: uvloop is not installed") from None
        else:
            loop: asyncio.AbstractEventLoop = uvloop.new_event_loop()
            return loop
    return asyncio.new_event_loop()


def check_workers(settings: Settings, workers: int) -> None:
    """Refuse a worker count the configured backends cannot share state for."""
    if workers < 1:
        raise ServeError("--workers must be at least 1")
    if workers == 1:
        return
    if not settings.redis_url:
        raise ServeError(
            f"--workers {workers} needs a shared cache: set REDIS_URL. With the in-process "
            "cache each worker would keep its own nonces, OpenID4VP sessions, idempotency "
            "keys and cached results, so a nonce spent on one worker could be replayed on "
            "another.")
    if not hasattr(os, "fork"):
        raise ServeError("--workers > 1 needs os.fork (Linux, macOS)")


async def _park_startup_state(app: web.Application) -> None:
    """The last startup step: what startup built is parked outside the cyclic GC's full
    collections (``trustbridge.gc_tuning``), so they no longer stall the loop for tens of
    ms."""
    parked = gc_tuning.freeze_after_startup()
    log.debug("startup state parked outside full GC collections: %d objects", parked)


def serving_app(settings: Settings) -> web.Application:
    """The app ``serve`` runs (one process or each worker): ``create_app`` plus the GC
    parking after startup and glibc's fixed mmap threshold (``runtime/memory.py``) -- not in
    ``create_app``: tests build many apps in one process."""
    from trustbridge.api import create_app

    fix_mmap_threshold(settings.malloc_mmap_threshold_bytes)
    app = create_app(settings)
    app.on_startup.append(_park_startup_state)
    return app


def serve_single(settings: Settings, *, shutdown_timeout: float, loop: LoopName) -> None:
    """Today's ``serve``: the app in this process until SIGTERM/SIGINT."""
    web.run_app(serving_app(settings), host=settings.host, port=settings.port, access_log=None,
                shutdown_timeout=shutdown_timeout, print=None, handle_signals=True,
                loop=new_event_loop(loop))


# -- supervisor ------------------------------------------------------------------------------

def bind_sockets(host: str, port: int, count: int) -> list[socket.socket]:
    """``count`` listening sockets sharing ``host:port`` (SO_REUSEPORT), else one shared."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    if not infos:
        raise ServeError(f"cannot resolve {host!r}")
    family, kind, proto, _, address = infos[0]
    per_slot = hasattr(socket, "SO_REUSEPORT")
    socks: list[socket.socket] = []
    try:
        for _ in range(count if per_slot else 1):
            sock = socket.socket(family, kind, proto)
            socks.append(sock)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if per_slot:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
            sock.bind(address)
            sock.listen(1024)
            sock.setblocking(False)
    except OSError as exc:
        for sock in socks:
            sock.close()
        raise ServeError(f"cannot listen on {host}:{port}: {exc}") from exc
    return socks


async def prepare(settings: Settings) -> None:
    """The one-time startup work (migrations, registry seed, stored keys), then close.

    Periodic jobs are off here: this short-lived service graph must not claim an HR job or
    start a sync round that it would abandon a moment later."""
    from trustbridge.services import build_services

    once = settings.model_copy(update={"hr_job_worker": False,
                                       "sync_mirror_interval_seconds": 0.0,
                                       "sync_upstream_interval_seconds": 0.0})
    services = await build_services(once)
    await services.close()


@dataclass
class _Slot:
    number: int
    sock: socket.socket
    pid: int | None = None
    started: float = 0.0
    rapid_failures: int = 0
    restart_at: float | None = None


@dataclass
class Supervisor:
    """Forks, watches and restarts the workers; see the module docstring for the rules."""

    settings: Settings
    workers: int
    shutdown_timeout: float
    loop: LoopName
    worker_main: Callable[[Settings, socket.socket, int, float, LoopName, int], None]
    slots: list[_Slot] = field(default_factory=list)
    stopping_since: float | None = None
    failed: bool = False

    def run(self) -> int:
        socks = bind_sockets(self.settings.host, self.settings.port, self.workers)
        self.slots = [_Slot(i + 1, socks[i % len(socks)]) for i in range(self.workers)]
        old_mask = signal.pthread_sigmask(signal.SIG_BLOCK, _WATCHED)
        try:
            asyncio.run(prepare(self.settings))
            if threading.active_count() > 1:
                log.warning("threads alive before fork: %s", threading.enumerate())
            for slot in self.slots:
                self._start(slot, old_mask)
            while self._live() or self.stopping_since is None:
                self._step(old_mask)
        finally:
            for slot in self.slots:  # workers left only on an error in the supervisor
                self._kill(slot, signal.SIGKILL)
            for sock in socks:
                sock.close()
            signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
        log.info("all workers stopped%s", " (with failures)" if self.failed else "")
        return 1 if self.failed else 0

    def _live(self) -> list[_Slot]:
        return [s for s in self.slots if s.pid is not None]

    def _start(self, slot: _Slot, old_mask: AbstractSet[int]) -> None:
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:  # the worker: never returns into the supervisor's code
            code = 1
            try:
                os.setpgid(0, 0)
                signal.pthread_sigmask(signal.SIG_SETMASK, old_mask)
                for other in {s.sock for s in self.slots} - {slot.sock}:
                    other.close()
                self.worker_main(self.settings, slot.sock, slot.number, self.shutdown_timeout,
                                 self.loop, os.getppid())
                code = 0
            except BaseException:
                log.exception("worker %d failed", slot.number)
            finally:
                logging.shutdown()
                os._exit(code)
        slot.pid, slot.started, slot.restart_at = pid, time.monotonic(), None
        log.info("worker %d started, pid %d", slot.number, pid)

    def _step(self, old_mask: AbstractSet[int]) -> None:
        now = time.monotonic()
        wakeups = [s.restart_at for s in self.slots if s.restart_at is not None]
        if self.stopping_since is not None:
            wakeups.append(self.stopping_since + self.shutdown_timeout + KILL_GRACE_S)
        timeout = max(0.0, min(wakeups, default=now + 1.0) - now)
        info = signal.sigtimedwait(_WATCHED, timeout)
        if info is not None and info.si_signo in _STOP_SIGNALS:
            self.stop(f"signal {signal.Signals(info.si_signo).name}")
        self._reap()
        now = time.monotonic()
        if self.stopping_since is not None:
            if now >= self.stopping_since + self.shutdown_timeout + KILL_GRACE_S:
                for slot in self._live():
                    self._kill(slot, signal.SIGKILL)
                    log.error("worker %d (pid %s) still running after the shutdown timeout: "
                              "killed", slot.number, slot.pid)
                    self.failed = True
                self.stopping_since = now  # reap what was killed; SIGKILL cannot be refused
            return
        for slot in self.slots:
            if slot.pid is None and slot.restart_at is not None and now >= slot.restart_at:
                self._start(slot, old_mask)

    def stop(self, reason: str) -> None:
        if self.stopping_since is not None:
            return
        log.info("stopping %d workers (%s)", len(self._live()), reason)
        self.stopping_since = time.monotonic()
        for slot in self.slots:
            slot.restart_at = None
            self._kill(slot, signal.SIGTERM)

    @staticmethod
    def _kill(slot: _Slot, signum: signal.Signals) -> None:
        if slot.pid is not None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(slot.pid, signum)

    def _reap(self) -> None:
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                return
            if pid == 0:
                return
            slot = next((s for s in self.slots if s.pid == pid), None)
            if slot is None:
                continue
            slot.pid = None
            self._exited(slot, status)

    def _exited(self, slot: _Slot, status: int) -> None:
        code = os.waitstatus_to_exitcode(status)
        how = f"exit status {code}" if code >= 0 else f"signal {signal.Signals(-code).name}"
        if self.stopping_since is not None:
            if code != 0:
                self.failed = True
            log.info("worker %d stopped (%s)", slot.number, how)
            return
        lived = time.monotonic() - slot.started
        slot.rapid_failures = slot.rapid_failures + 1 if lived < HEALTHY_AFTER_S else 1
        if slot.rapid_failures >= MAX_RAPID_FAILURES:
            log.error("worker %d exited (%s) %d times in a row within %.0f s of starting: "
                      "giving up", slot.number, how, slot.rapid_failures, HEALTHY_AFTER_S)
            self.failed = True
            self.stop("a worker keeps failing")
            return
        delay = min(BACKOFF_MAX_S, BACKOFF_FIRST_S * 2 ** (slot.rapid_failures - 1))
        slot.restart_at = time.monotonic() + delay
        log.warning("worker %d exited unexpectedly (%s) after %.1f s: restarting in %.1f s",
                    slot.number, how, lived, delay)


# -- worker ----------------------------------------------------------------------------------

def run_worker(settings: Settings, sock: socket.socket, number: int, shutdown_timeout: float,
               loop: LoopName, parent_pid: int) -> None:
    """One worker process: the app on ``sock`` until SIGTERM (or its supervisor is gone)."""
    app = serving_app(settings)
    label = str(number)

    async def tag(request: web.Request, response: web.StreamResponse) -> None:
        response.headers[WORKER_HEADER] = label

    async def orphan_watch(app: web.Application) -> AsyncIterator[None]:
        async def watch() -> None:
            # No event tells a process its parent died (short of prctl): poll, once a second.
            while os.getppid() == parent_pid:  # noqa: ASYNC110
                await asyncio.sleep(PARENT_CHECK_S)
            log.error("worker %d: supervisor %d is gone, stopping", number, parent_pid)
            os.kill(os.getpid(), signal.SIGTERM)

        task = asyncio.get_running_loop().create_task(watch(), name="orphan-watch")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    app.on_response_prepare.append(tag)
    app.cleanup_ctx.append(orphan_watch)
    web.run_app(app, sock=sock, access_log=None, shutdown_timeout=shutdown_timeout, print=None,
                handle_signals=True, loop=new_event_loop(loop))


def serve_workers(settings: Settings, *, workers: int, shutdown_timeout: float,
                  loop: LoopName) -> int:
    """Supervise ``workers`` processes serving ``settings.host:port``; the exit status."""
    check_workers(settings, workers)
    return Supervisor(settings, workers, shutdown_timeout, loop, run_worker).run()


__all__ = ["WORKER_HEADER", "ServeError", "Supervisor", "bind_sockets", "check_workers",
           "new_event_loop", "prepare", "run_worker", "serve_single", "serve_workers",
           "serving_app"]
