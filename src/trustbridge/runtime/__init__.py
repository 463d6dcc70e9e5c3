"""Process-level runtime concerns of a serving node (allocator tuning)."""
