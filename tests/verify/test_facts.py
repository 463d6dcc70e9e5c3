"""Facts behave: timeouts and missing facts give indeterminate, $ref never reaches the network,
remote schemas are fetched once, a registry epoch bump invalidates cached results."""

from __future__ import annotations

import asyncio
import json
from types import SimpleNamespace
from typing import Any

from tests.verify.support import (
    OWN,
    MemoryFetcher,
    StaticRegistry,
    failing_codes,
    input_of,
    load,
    make_verifier,
    own_status_lists,
)
from trustbridge.cache.memory import MemoryCache
from trustbridge.verify.result_cache import ResultCache
from trustbridge.verify.schemas import SchemaStore

VC = load(OWN / "vectors" / "vc-valid-eddsa.json")
SCHEMA_ID = "https://schemas.trustbridge.test/microcredential/v1.json"


class SlowFetcher(MemoryFetcher):
    async def fetch(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        await asyncio.sleep(5)
        return await super().fetch(url, accept=accept, max_bytes=max_bytes)


async def test_slow_status_list_times_out_indeterminate() -> None:
    verifier = make_verifier(fetcher=SlowFetcher(own_status_lists()),
                             registry=StaticRegistry(VC["accredited"]))
    verifier.config.fact_timeout_seconds = 0.2
    report = await verifier.verify(input_of(VC))
    assert report.verdict == "indeterminate"
    assert "status.list_timeout" in failing_codes(report)


class SlowRegistry(StaticRegistry):
    async def check_issuer(self, issuer_did: str, **kwargs: Any) -> Any:
        await asyncio.sleep(5)
        return await super().check_issuer(issuer_did, **kwargs)


async def test_slow_registry_times_out_indeterminate() -> None:
    verifier = make_verifier(docs=own_status_lists(), registry=SlowRegistry(VC["accredited"]))
    verifier.config.fact_timeout_seconds = 0.2
    report = await verifier.verify(input_of(VC))
    assert report.verdict == "indeterminate"
    assert "issuer.registry_timeout" in failing_codes(report)


async def test_remote_schema_fetched_once_and_refs_only_prefetched() -> None:
    local = json.loads((OWN / "schemas" / "microcredential.json").read_text())
    # The remote copy $refs a document that is neither local nor fetchable.
    remote = {**local, "$id": SCHEMA_ID, "properties": {"credentialSubject": {
        "$ref": "https://elsewhere.test/subject.json"}}}
    fetcher = MemoryFetcher({SCHEMA_ID: json.dumps(remote)})
    store = SchemaStore(local_dir=None, fetcher=fetcher, cache=MemoryCache(), fetch_remote=True,
                        max_bytes=65536, ttl=60)
    verifier = make_verifier(docs=own_status_lists(), registry=StaticRegistry(VC["accredited"]))
    verifier.schemas = store
    first = await verifier.verify(input_of(VC))
    second = await verifier.verify(input_of(VC))
    schema_check = next(c for c in first.credentials[0].checks if c.check == "schema")
    assert schema_check.status == "error" and schema_check.code == "schema.ref_unresolvable"
    assert second.verdict == "indeterminate"
    assert fetcher.requests.count(SCHEMA_ID) == 1
    # The $ref target is only ever tried by the capped, SSRF-safe prefetch (here a 404),
    # never by jsonschema during validation; failures are not cached, one try per run.
    assert fetcher.requests.count("https://elsewhere.test/subject.json") == 2


async def test_schema_store_refuses_plain_http() -> None:
    store = SchemaStore(local_dir=None, fetcher=MemoryFetcher({}), cache=MemoryCache(),
                        fetch_remote=True, max_bytes=65536, ttl=60)
    verifier = make_verifier(docs=own_status_lists(), registry=StaticRegistry(VC["accredited"]))
    verifier.schemas = store
    report = await verifier.verify(input_of(VC))
    assert "schema.unavailable" in failing_codes(report)


async def test_unannounced_epoch_bump_invalidates_within_max_age() -> None:
    """Another worker's registry write (no event here) is seen once the epoch memo ages."""
    registry = StaticRegistry(VC["accredited"])
    verifier = make_verifier(docs=own_status_lists(), registry=registry,
                             result_cache=ResultCache(MemoryCache(), max_ttl=300))
    verifier.config.epoch_max_age_seconds = 0.05
    first = await verifier.verify(input_of(VC))
    hit = await verifier.verify(input_of(VC))
    assert (first.cached, hit.cached) == (False, True)
    registry.accredited.clear()
    registry.bump()
    await asyncio.sleep(0.06)
    after = await verifier.verify(input_of(VC))
    assert after.cached is False and after.verdict == "invalid"
    assert "issuer.not_accredited" in failing_codes(after)


async def test_announced_registry_change_invalidates_at_once() -> None:
    """This worker's own change (a ``registry.changed`` event) needs no waiting."""
    registry = StaticRegistry(VC["accredited"])
    verifier = make_verifier(docs=own_status_lists(), registry=registry,
                             result_cache=ResultCache(MemoryCache(), max_ttl=300))
    verifier.config.epoch_max_age_seconds = 3600
    await verifier.verify(input_of(VC))
    assert (await verifier.verify(input_of(VC))).cached is True
    registry.accredited.clear()
    registry.bump()
    await verifier.registry_changed(SimpleNamespace(epoch=await registry.epoch()))
    after = await verifier.verify(input_of(VC))
    assert after.cached is False and after.verdict == "invalid"


async def test_indeterminate_is_never_cached() -> None:
    verifier = make_verifier(docs={}, registry=StaticRegistry(VC["accredited"]),
                             result_cache=ResultCache(MemoryCache(), max_ttl=300))
    await verifier.verify(input_of(VC))
    again = await verifier.verify(input_of(VC))
    assert again.verdict == "indeterminate" and again.cached is False


class RecordingCache(MemoryCache):
    """The real in-process cache, remembering the TTL each key was stored with."""

    def __init__(self) -> None:
        super().__init__()
        self.ttls: dict[str, float | None] = {}

    async def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        self.ttls[key] = ttl
        await super().set(key, value, ttl)


async def test_result_ttl_bounded_by_status_list_ttl() -> None:
    cache = RecordingCache()
    verifier = make_verifier(docs=own_status_lists(), registry=StaticRegistry(VC["accredited"]),
                             result_cache=ResultCache(cache, max_ttl=3600))
    await verifier.verify(input_of(VC))
    ttls = [ttl for key, ttl in cache.ttls.items() if key.startswith("verify:result:")]
    assert ttls == [300.0]  # the list's ttl (300 000 ms) beats the configured 3600 s


async def test_unsafe_noop_still_checks_signatures() -> None:
    from trustbridge.verify.policy import UnsafeNoOp

    tampered = load(OWN / "vectors" / "vc-signature-one-byte.json")
    report = await make_verifier().verify(input_of(tampered, UnsafeNoOp()))
    assert report.verdict == "invalid"
    relaxed = await make_verifier().verify(input_of(VC, UnsafeNoOp()))
    assert relaxed.verdict == "valid"


class BrokenRegistry(StaticRegistry):
    async def check_issuer(self, issuer_did: str, **kwargs: Any) -> Any:
        raise RuntimeError("database gone")


async def test_crashing_registry_is_indeterminate(caplog: Any) -> None:
    verifier = make_verifier(docs=own_status_lists(), registry=BrokenRegistry([]))
    report = await verifier.verify(input_of(VC))
    assert report.verdict == "indeterminate"
    assert "issuer.registry_unavailable" in failing_codes(report)


class CrashingFormat:
    """A format with a bug: it claims everything and crashes in every method."""

    name = "jwt_vc"

    def detect(self, obj: Any) -> bool:
        return True

    def parse_credential(self, obj: Any) -> Any:
        raise KeyError("bug")

    def parse_presentation(self, obj: Any) -> Any:
        raise KeyError("bug")


async def test_crashing_parser_is_indeterminate_not_500() -> None:
    verifier = make_verifier(docs=own_status_lists(), registry=StaticRegistry(VC["accredited"]))
    verifier.formats = [CrashingFormat()]  # type: ignore[list-item]
    report = await verifier.verify(input_of(VC))
    assert report.verdict == "indeterminate"
    assert "format.unexpected_error" in failing_codes(report)


class SlowEpochRegistry(StaticRegistry):
    """Its epoch read waits until released, so a change can land while it is in flight."""

    def __init__(self, accredited: list[str]) -> None:
        super().__init__(accredited)
        self.release = asyncio.Event()
        self.reading = asyncio.Event()

    async def epoch(self) -> int:
        value = self._epoch
        self.reading.set()
        await self.release.wait()
        return value


async def test_an_epoch_read_overtaken_by_a_change_is_not_remembered() -> None:
    registry = SlowEpochRegistry(VC["accredited"])
    registry.release.set()
    verifier = make_verifier(docs=own_status_lists(), registry=registry,
                             result_cache=ResultCache(MemoryCache(), max_ttl=300))
    verifier.config.epoch_max_age_seconds = 3600
    assert (await verifier.verify(input_of(VC))).verdict == "valid"
    verifier.epoch_memo.forget()  # make the next verification read the epoch again
    registry.release.clear()
    registry.reading.clear()
    first = asyncio.ensure_future(verifier.verify(input_of(VC)))
    await registry.reading.wait()  # the read has the old epoch in hand
    registry.accredited.clear()
    registry.bump()
    await verifier.registry_changed(SimpleNamespace(epoch=2))
    registry.release.set()
    await first
    after = await verifier.verify(input_of(VC))  # reads the new epoch, not the stale one
    assert after.cached is False and after.verdict == "invalid"


class CountingEpochRegistry(StaticRegistry):
    """Counts epoch reads; each read yields to the loop like a database round trip."""

    def __init__(self, accredited: list[str]) -> None:
        super().__init__(accredited)
        self.reads = 0

    async def epoch(self) -> int:
        self.reads += 1
        await asyncio.sleep(0.01)
        return self._epoch


async def test_concurrent_verifications_share_one_epoch_read() -> None:
    registry = CountingEpochRegistry(VC["accredited"])
    verifier = make_verifier(docs=own_status_lists(), registry=registry,
                             result_cache=ResultCache(MemoryCache(), max_ttl=300))
    verifier.config.epoch_max_age_seconds = 3600
    assert (await verifier.verify(input_of(VC))).verdict == "valid"
    verifier.epoch_memo.forget()  # the memo has aged
    reads = registry.reads
    reports = await asyncio.gather(*(verifier.verify(input_of(VC)) for _ in range(16)))
    assert {r.verdict for r in reports} == {"valid"}
    assert registry.reads == reads + 1


class NoEpochRegistry(StaticRegistry):
    """Answers trust questions, but its epoch cannot be read (a database blip)."""

    async def epoch(self) -> int:
        raise RuntimeError("epoch unavailable")


async def test_without_an_epoch_a_cached_report_is_not_shared_with_another_process() -> None:
    """Keyed on event epochs alone (every registry's, on a shared Redis), a report could
    reach a process of another registry: it stays with the process that made it."""
    shared = MemoryCache()
    ours = make_verifier(docs=own_status_lists(), registry=NoEpochRegistry(VC["accredited"]),
                         result_cache=ResultCache(shared, max_ttl=300))
    theirs = make_verifier(docs=own_status_lists(), registry=NoEpochRegistry([]),
                           result_cache=ResultCache(shared, max_ttl=300))
    assert (await ours.verify(input_of(VC))).verdict == "valid"
    assert (await ours.verify(input_of(VC))).cached is True
    other = await theirs.verify(input_of(VC))
    assert other.cached is False and other.verdict == "invalid"
