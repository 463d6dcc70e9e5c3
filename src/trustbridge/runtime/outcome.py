"""Retrieve a background future's outcome nobody else will await.

Why: asyncio logs "exception was never retrieved" for a future that failed and was never
awaited or asked; a background read, a withdrawn job or a rollback left to finish is such a
future, and its failure is already handled (or of no more use) where it matters. Used as a
done callback: ``future.add_done_callback(discard_outcome)``.
"""

from __future__ import annotations

import asyncio
from typing import Any


def discard_outcome(future: asyncio.Future[Any]) -> None:
    """Mark ``future``'s exception (if any) as retrieved; a cancelled one has none."""
    if not future.cancelled():
        future.exception()


__all__ = ["discard_outcome"]
