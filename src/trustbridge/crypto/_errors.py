"""The error type every crypto parser raises for malformed input.

It is an ``InputError`` (bad data, a 4xx at the edge) and also a ``ValueError``,
so generic callers that guard third-party parsing with ``except ValueError`` keep
working when they are handed ours.
"""

from __future__ import annotations

from trustbridge.errors import InputError


class MalformedInput(InputError, ValueError):
    """Bytes or text that do not decode to what the caller asked for."""

    code = "input.malformed"


__all__ = ["MalformedInput"]
