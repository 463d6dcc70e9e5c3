"""Step 4 of signature verification -- ``crypto.jws.verify_jws`` itself, unchanged -- for many
JWS at once in worker processes, so a sync batch of thousands of accreditations is not
bound to one core (``cryptography`` holds the GIL while it verifies, so threads do not help).

Only the arithmetic moves: parsing, binding the ``kid`` to the issuer DID and dereferencing
the key (steps 1-3, ``registry.facts``) stay in the caller. A worker receives the parsed
JWS, the public key as DER SubjectPublicKeyInfo and the algorithm allow-list, and answers
``None`` (verified) or the refusal message ``verify_jws`` raised. Fewer than
``MIN_PARALLEL`` signatures, a one-core machine, or a pool that cannot start: the same
function runs in this process.

A worker exits by itself when the process that owns the pool is gone: a server killed with
SIGKILL (or by the OOM killer) never sends the pool its shutdown, and its workers would
otherwise wait on the call queue forever, keeping the forkserver alive with them.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import select
import threading
import time
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from cryptography.hazmat.primitives import serialization

from trustbridge.crypto import jws as _jws
from trustbridge.crypto.jwk import PublicKey
from trustbridge.errors import InputError

log = logging.getLogger(__name__)

MIN_PARALLEL = 512
CHUNK = 500
MAX_WORKERS = 4

_pool: ProcessPoolExecutor | None = None
_disabled = False


def _workers() -> int:
    return max(0, min(MAX_WORKERS, (os.cpu_count() or 1)))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _watch_owner(owner: int, poll_seconds: float = 1.0) -> None:
    """Block until process ``owner`` has exited (a pidfd where the kernel has them)."""
    try:
        fd = os.pidfd_open(owner)
    except ProcessLookupError:
        return
    except (AttributeError, OSError):  # no pidfd (old kernel, other OS): poll
        while _alive(owner):
            time.sleep(poll_seconds)
        return
    try:
        select.select([fd], [], [])  # readable once the owner has exited
    finally:
        os.close(fd)


def _exit_with_owner(owner: int) -> None:
    """Worker initializer: leave as soon as the owning process is gone."""

    def watch() -> None:
        _watch_owner(owner)
        os._exit(0)

    threading.Thread(target=watch, name="owner-watch", daemon=True).start()


def _executor() -> ProcessPoolExecutor | None:
    global _pool, _disabled
    if _pool is None and not _disabled:
        workers = _workers()
        if workers < 2:
            _disabled = True
            return None
        try:
            _pool = ProcessPoolExecutor(max_workers=workers,
                                        mp_context=multiprocessing.get_context("forkserver"),
                                        initializer=_exit_with_owner,
                                        initargs=(os.getpid(),))
        except (OSError, ValueError) as exc:  # no forkserver, no semaphores: stay in process
            log.warning("signature worker processes unavailable (%s); verifying in process",
                        exc)
            _disabled = True
    return _pool


def shutdown() -> None:
    """Stop the worker processes (tests; they also stop at interpreter exit)."""
    global _pool
    if _pool is not None:
        _pool.shutdown(wait=True, cancel_futures=True)
        _pool = None


Job = tuple[dict[str, Any], bytes, bytes, bytes]
"""What a worker receives for one signature: the JWS header, signing input and signature
(all ``verify_jws`` reads of a ``CompactJWS``; the payload stays here) and the key's SPKI DER.
Plain tuples: pickling a ``CompactJWS`` dataclass (payload included) for the queue cost the
owning process more than the tuple."""


def verify_chunk(items: Sequence[Job], allowed_algs: frozenset[str]) -> list[str | None]:
    """``verify_jws`` for each job: ``None`` or the refusal message."""
    keys: dict[bytes, PublicKey] = {}
    out: list[str | None] = []
    for header, signing_input, signature, der in items:
        try:
            key = keys.get(der)
            if key is None:
                loaded: Any = serialization.load_der_public_key(der)  # SPKI of a JWK key
                key = keys[der] = loaded
            _jws.verify_jws(_jws.CompactJWS(header, b"", signing_input, signature), key,
                            allowed_algs=allowed_algs)
        except (InputError, ValueError) as exc:
            out.append(str(exc))
        else:
            out.append(None)
    return out


def _der(key: PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.DER,
                            serialization.PublicFormat.SubjectPublicKeyInfo)


def _work(items: Sequence[tuple[_jws.CompactJWS, PublicKey]]) -> list[Job]:
    ders: dict[int, bytes] = {}
    return [(jws.header, jws.signing_input, jws.signature,
             ders.get(id(key)) or ders.setdefault(id(key), _der(key))) for jws, key in items]


def parallel(count: int) -> bool:
    """Whether ``verify_many`` of ``count`` items would use the worker processes."""
    return count >= MIN_PARALLEL and _executor() is not None


def start(items: Sequence[tuple[_jws.CompactJWS, PublicKey]], allowed_algs: frozenset[str]
          ) -> asyncio.Future[list[str | None]]:
    """``verify_many`` of ``items`` (at most ``CHUNK``: one worker's share) begun now in a
    worker process, for a caller that has other work meanwhile (``parallel`` said the pool
    is there); its answers come in order. Cancelling the future withdraws the job if no
    worker has taken it yet. A broken pool: verified in this process when awaited."""
    work = _work(items)
    pool = _executor()
    if pool is None:
        return asyncio.ensure_future(_here(work, allowed_algs))
    return asyncio.ensure_future(_answers(
        asyncio.get_running_loop().run_in_executor(pool, verify_chunk, work, allowed_algs),
        work, allowed_algs))


async def _here(work: list[Job], allowed_algs: frozenset[str]) -> list[str | None]:
    return verify_chunk(work, allowed_algs)


async def _answers(answers: asyncio.Future[list[str | None]], work: list[Job],
                   allowed_algs: frozenset[str]) -> list[str | None]:
    try:
        return await answers
    except BrokenProcessPool:  # as in ``verify_many``
        log.warning("signature worker pool broke; verifying in process")
        shutdown()
        return verify_chunk(work, allowed_algs)


async def verify_many(items: Sequence[tuple[_jws.CompactJWS, PublicKey]],
                      allowed_algs: frozenset[str]) -> list[str | None]:
    """``verify_jws`` over every ``(jws, key)``, in worker processes when there are many;
    one answer per item, in order (``None`` = the signature verifies)."""
    work = _work(items)
    pool = _executor() if len(work) >= MIN_PARALLEL else None
    if pool is None:
        return verify_chunk(work, allowed_algs)
    loop = asyncio.get_running_loop()
    chunks = [work[i:i + CHUNK] for i in range(0, len(work), CHUNK)]
    try:
        answers = await asyncio.gather(*(loop.run_in_executor(pool, verify_chunk, chunk,
                                                              allowed_algs)
                                         for chunk in chunks))
    except BrokenProcessPool:  # a worker died (OOM killer, signal): verify here instead
        log.warning("signature worker pool broke; verifying in process")
        shutdown()
        return verify_chunk(work, allowed_algs)
    return [answer for chunk in answers for answer in chunk]


__all__ = ["CHUNK", "MIN_PARALLEL", "parallel", "shutdown", "start", "verify_chunk", "verify_many"]
