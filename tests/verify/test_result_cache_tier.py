"""The in-process tier in front of a shared cache: bounded by bytes, never staler than the key."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trustbridge.cache.memory import MemoryCache
from trustbridge.model.report import CheckResult, Verdict, VerificationReport
from trustbridge.verify.result_cache import ResultCache, request_digest, request_key


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
