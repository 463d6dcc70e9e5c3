"""Long-lived responses (server-sent events) register here so shutdown can end them.

Without this, graceful shutdown would wait its whole timeout for open streams.
"""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp import web


class OpenStreams:
    """The tasks currently serving a stream."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[Any]] = set()

    def add(self, task: asyncio.Task[Any]) -> None:
        self._tasks.add(task)

    def discard(self, task: asyncio.Task[Any]) -> None:
        self._tasks.discard(task)

    def cancel_all(self) -> None:
        for task in list(self._tasks):
            task.cancel()


LONG_LIVED = web.AppKey("long_lived", OpenStreams)


def install(app: web.Application) -> None:
    """Give ``app`` a stream registry and cancel every open stream on shutdown."""
    app[LONG_LIVED] = OpenStreams()

    async def end_streams(app: web.Application) -> None:
        app[LONG_LIVED].cancel_all()

    app.on_shutdown.append(end_streams)


__all__ = ["LONG_LIVED", "OpenStreams", "install"]
