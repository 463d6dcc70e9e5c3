"""Hostile-input tests: the counts they gather are printed in pytest's terminal summary.

``hostile_stats`` is a session-wide tally (``{"forgery corpus": {"mutations": n,
"accepted": k}, ...}``); ``pytest_terminal_summary`` prints one line per entry, e.g.
``forgery corpus: 1372 mutations, 0 accepted``, so the closing numbers are visible in
every run without ``-s``.
"""

from __future__ import annotations

from typing import Any

import pytest

_STATS: dict[str, dict[str, int]] = {}


@pytest.fixture(scope="session")
def hostile_stats() -> dict[str, dict[str, int]]:
    return _STATS


def pytest_terminal_summary(terminalreporter: Any) -> None:
    if not _STATS:
        return
    terminalreporter.section("hostile input")
    for name, counts in _STATS.items():
        parts = [f"{n} {label}" for label, n in counts.items()]
        terminalreporter.write_line(f"{name}: {', '.join(parts)}")
