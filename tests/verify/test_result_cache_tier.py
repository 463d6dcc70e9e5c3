"""The in-process tier in front of a shared cache: bounded by bytes, never staler than the key,
filled from the shared cache no longer than the shared entry lives."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from trustbridge.cache.memory import MemoryCache
from trustbridge.cache.redis import RedisCache
from trustbridge.model.report import CheckResult, Verdict, VerificationReport
from trustbridge.verify.result_cache import (
    CachedReport,
    ResultCache,
    request_digest,
    request_key,
)


def report(padding: int) -> VerificationReport:
    check = CheckResult.passed("structure", "x" * padding)
    return VerificationReport(verdict=Verdict.VALID, checks=[check],
                              checked_at=datetime(2026, 1, 1, tzinfo=UTC))


async def test_local_tier_stays_within_its_byte_budget_and_serves_hits() -> None:
    shared = MemoryCache()
    results = ResultCache(shared, max_ttl=300, local_tier=True, local_max_bytes=50_000)
    keys = [request_key(request_digest("application/json", str(i).encode()), epoch=1)
            for i in range(40)]
    for key in keys:
        assert await results.put(key, report(4_000), ttl=60)
    assert results._local is not None
    assert results._local.nbytes <= 50_000  # about a dozen ~4 KB reports fit
    assert 0 < len(results._local) < 40
    # the newest are served from the tier, the evicted ones from the shared cache
    for key in (keys[-1], keys[0]):
        hit = await results.get_rendered(key)
        assert hit is not None and hit.verdict == "valid" and b'"cached":true' in hit.json


async def test_clear_empties_both_tiers() -> None:
    shared = MemoryCache()
    results = ResultCache(shared, max_ttl=300, local_tier=True)
    key = request_key("d", epoch=1)
    await results.put(key, report(10), ttl=60)
    await results.clear()
    assert await results.get_rendered(key) is None
    assert results._local is not None and results._local.nbytes == 0


def test_result_scope_follows_report_settings_and_version(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from trustbridge.config import Settings
    from trustbridge.verify import service

    base = Settings(environment="test")
    scope = service.result_scope(base)
    assert service.result_scope(base.model_copy(update={"port": 9999})) == scope  # no effect
    for change in ({"trust_denylist": ["did:example:vetoed"]}, {"allow_rsa": True},
                   {"trust_anchors": ["did:example:anchor"]},
                   {"presentation_max_age_seconds": 60}):
        assert service.result_scope(base.model_copy(update=change)) != scope, change
    monkeypatch.setattr(service, "__version__", "99.0.0")
    assert service.result_scope(base) != scope


@pytest.fixture
async def redis_cache(redis_url: str) -> AsyncIterator[RedisCache]:
    cache = RedisCache.from_url(redis_url, prefix=f"t{uuid.uuid4().hex[:8]}:")
    yield cache
    await cache.close()


@pytest.mark.redis
async def test_another_workers_report_is_fetched_from_redis_once(
        redis_cache: RedisCache) -> None:
    """Two workers share Redis: the second one copies a report it finds there into its own
    tier, so it asks Redis once, and the copy expires with the shared entry."""
    writer = ResultCache(redis_cache, max_ttl=300, local_tier=True)
    reader = ResultCache(redis_cache, max_ttl=300, local_tier=True)
    key = request_key(request_digest("application/json", b"{}"), epoch=1)
    assert await writer.put(key, report(10), ttl=60)
    first = await reader.get_rendered(key)
    assert first is not None and first.expires is not None
    assert 58 < first.expires - time.time() <= 60
    await redis_cache.delete(key)  # what the reader still finds now is its own copy
    again = await reader.get_rendered(key)
    assert again is not None and again.json == first.json
    assert reader._local is not None
    local_left = reader._local._data[key][1] - reader._local._now()
    assert 58 < local_left <= 60


async def test_a_shared_entry_about_to_expire_is_not_copied() -> None:
    shared = MemoryCache()
    reader = ResultCache(shared, max_ttl=300, local_tier=True)
    key = request_key("d", epoch=1)
    stored = CachedReport("valid", b'{"cached":true}', expires=time.time() + 0.5)
    await shared.set(key, stored.dump(), ttl=60)
    assert (await reader.get_rendered(key)) is not None
    assert reader._local is not None and len(reader._local) == 0


def test_entries_stored_without_an_expiry_still_load() -> None:
    """Entries written before the expiry was stored with them."""
    old = CachedReport.load(b'invalid\n{"verdict":"invalid"}')
    assert old is not None and old.verdict == "invalid" and old.expires is None
    assert CachedReport.load(b"valid 12x\n{}") is None
