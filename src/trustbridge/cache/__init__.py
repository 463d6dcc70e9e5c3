"""Caches behind one protocol: in-process LRU (default) and Redis."""

from trustbridge.cache.interface import Cache, open_cache

__all__ = ["Cache", "open_cache"]
