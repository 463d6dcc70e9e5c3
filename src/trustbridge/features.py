"""Feature packages plug into the service by module name; absent ones are skipped.

A module is *absent* when it, or a package above it, does not exist. Any other
``ModuleNotFoundError`` (a missing third-party dependency inside a present
module) is a real error and propagates.
"""

from __future__ import annotations

import importlib
from types import ModuleType


def import_feature(name: str) -> ModuleType | None:
    """Import ``name`` or return None when that feature is not installed."""
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        missing = exc.name or ""
        if missing and (name == missing or name.startswith(missing + ".")):
            return None
        raise


__all__ = ["import_feature"]
