"""Upstream and peer reads retry transient failures with exponential backoff, and only those."""

from __future__ import annotations

import pytest

from trustbridge.errors import FetchError
from trustbridge.registry._sync_http import RetryingGetter


class FlakyGetter:
    """Fails with the given errors first, then answers."""

    def __init__(self, *errors: FetchError) -> None:
        self.errors = list(errors)
        self.calls = 0

    async def get(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return b'{"ok": true}'


def _status(n: int) -> FetchError:
    return FetchError(f"answered {n}", code=f"fetch.status_{n}", details={"status": n})


async def test_transient_failures_are_retried_with_growing_delays() -> None:
    delays: list[float] = []

    async def sleep(seconds: float) -> None:
        delays.append(seconds)

    inner = FlakyGetter(_status(503), FetchError("reset", code="fetch.failed"), _status(429))
    getter = RetryingGetter(inner, attempts=4, base_delay=1.0, sleep=sleep)
    assert await getter.get_json("https://tir.example/issuers", max_bytes=100) == {"ok": True}
    assert inner.calls == 4 and getter.retries == 3
    assert len(delays) == 3
    assert all(0.5 * 2**i <= d <= 2**i for i, d in enumerate(delays))  # 1, 2, 4 with jitter


@pytest.mark.parametrize("error", [_status(404), FetchError("no", code="fetch.refused"),
                                   FetchError("big", code="fetch.too_large")])
async def test_permanent_failures_are_not_retried(error: FetchError) -> None:
    async def sleep(seconds: float) -> None:
        raise AssertionError("no retry expected")

    inner = FlakyGetter(error)
    with pytest.raises(FetchError):
        await RetryingGetter(inner, sleep=sleep).get("https://x.example", accept="*/*",
                                                     max_bytes=10)
    assert inner.calls == 1


async def test_gives_up_after_the_last_attempt() -> None:
    async def sleep(seconds: float) -> None:
        return None

    inner = FlakyGetter(*[_status(502)] * 5)
    with pytest.raises(FetchError) as err:
        await RetryingGetter(inner, attempts=3, sleep=sleep).get(
            "https://x.example", accept="*/*", max_bytes=10)
    assert err.value.code == "fetch.status_502" and inner.calls == 3
