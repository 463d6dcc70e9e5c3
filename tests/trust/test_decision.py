"""The pure combination: policy parsing and the decision table (no I/O)."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from trustbridge.errors import InputError
from trustbridge.trust.decision import AllOf, AnyOf, Source, decide, parse_policy
from trustbridge.trust.interface import SourceAnswer, SourceStatus, TrustSubject
from trustbridge.trust.service import TrustService

NOW = datetime(2026, 6, 1, tzinfo=UTC)
GRACE = timedelta(days=1)
T, F, U, X = (SourceStatus.TRUSTED, SourceStatus.NOT_TRUSTED, SourceStatus.UNKNOWN,
              SourceStatus.UNAVAILABLE)


def a(source: str, status: SourceStatus, *, veto: bool = False,
      next_update: datetime | None = None) -> SourceAnswer:
    return SourceAnswer(source=source, status=status, code=f"{source}.{status.value}",
                        reason=f"{source} says {status.value}", authoritative=veto,
                        next_update=next_update, evidence={"from": source})


def test_policy_grammar() -> None:
    assert parse_policy("ebsi") == Source("ebsi")
    assert parse_policy("ebsi | etsi_tl & deqar") == AnyOf(
        (Source("ebsi"), AllOf((Source("etsi_tl"), Source("deqar")))))
    assert parse_policy("(a | b) & c") == AllOf((AnyOf((Source("a"), Source("b"))), Source("c")))
    for bad in ("", "a |", "(a", "a b", "a ) b", "a | | b", "a;b", "(" * 40 + "a" + ")" * 40):
        with pytest.raises(InputError) as exc:
            parse_policy(bad)
        assert exc.value.code == "trust.policy_invalid"


POLICY = "ebsi | (etsi_tl & deqar)"


@pytest.mark.parametrize(("answers", "status", "code"), [
    ([a("ebsi", T)], "trusted", "trust.trusted"),
    ([a("ebsi", F), a("etsi_tl", T), a("deqar", T)], "trusted", "trust.trusted"),
    ([a("ebsi", F), a("etsi_tl", T), a("deqar", F)], "not_trusted", "ebsi.not_trusted"),
    ([a("ebsi", U), a("etsi_tl", T), a("deqar", U)], "not_trusted", "ebsi.unknown"),
    # unavailable is undecided: never trusted, and not a refusal either
    ([a("ebsi", X), a("etsi_tl", T), a("deqar", T)], "trusted", "trust.trusted"),
    ([a("ebsi", X), a("etsi_tl", T), a("deqar", X)], "unknown", "ebsi.unavailable"),
    ([a("ebsi", F), a("etsi_tl", T)], "unknown", "trust.source_unavailable"),  # deqar missing
    ([a("ebsi", X), a("etsi_tl", F), a("deqar", X)], "unknown", "ebsi.unavailable"),
    # an authoritative refusal (deny-list, withdrawn) vetoes every trusted answer
    ([a("ebsi", T), a("etsi_tl", F, veto=True), a("deqar", T)], "not_trusted",
     "etsi_tl.not_trusted"),
    ([a("ebsi", T), a("allowlist", F, veto=True)], "not_trusted", "allowlist.not_trusted"),
])
def test_decision_table(answers: list[SourceAnswer], status: str, code: str) -> None:
    got = decide("did:example:i", answers, parse_policy(POLICY), now=NOW, grace=GRACE)
    assert (got.status, got.code) == (status, code), got.reason
    assert got.trusted is (status == "trusted")
    assert [e.source for e in got.evidence] == [x.source for x in answers]  # all evidence kept


def test_stale_source_past_grace_is_unavailable_never_trusted() -> None:
    old = NOW - GRACE - timedelta(seconds=1)
    got = decide("did:example:i", [a("etsi_tl", T, next_update=old)], parse_policy("etsi_tl"),
                 now=NOW, grace=GRACE)
    assert (got.status, got.code) == ("unknown", "trust.source_stale")
    assert got.evidence[0].evidence["stale_answer"] == "trusted"
    within = decide("did:example:i", [a("etsi_tl", T, next_update=NOW - GRACE)],
                    parse_policy("etsi_tl"), now=NOW, grace=GRACE)
    assert within.status == "trusted"


def test_stale_veto_no_longer_vetoes_but_still_fails_closed() -> None:
    old = NOW - timedelta(days=30)
    got = decide("did:example:i", [a("ebsi", T), a("deny", F, veto=True, next_update=old)],
                 parse_policy("ebsi & deny | ebsi"), now=NOW, grace=GRACE)
    assert got.status == "trusted"  # the stale list is unavailable, ebsi alone suffices
    got = decide("did:example:i", [a("ebsi", T), a("deny", F, veto=True, next_update=old)],
                 parse_policy("ebsi & deny"), now=NOW, grace=GRACE)
    assert got.status == "unknown"


def test_trusted_decision_carries_display_fields_from_the_source() -> None:
    ans = SourceAnswer(source="deqar", status=T, code="c", reason="r",
                       evidence={"issuer_name": "HS Teststadt", "country": "AT"})
    got = decide("did:example:i", [ans], parse_policy("deqar"), now=NOW, grace=GRACE)
    assert (got.issuer_name, got.country, got.accredited) == ("HS Teststadt", "AT", True)


class _Slow:
    """A source that answers after ``delay`` seconds (or raises)."""

    def __init__(self, name: str, delay: float, status: SourceStatus = SourceStatus.TRUSTED,
                 fail: bool = False) -> None:
        self.name, self.delay, self.status, self.fail = name, delay, status, fail

    async def evaluate(self, subject: Any) -> SourceAnswer:
        await asyncio.sleep(self.delay)
        if self.fail:
            raise RuntimeError("source broke")
        return a(self.name, self.status)


@pytest.mark.parametrize("sources", [1, 2])
async def test_a_source_past_the_timeout_or_failing_is_unavailable(sources: int) -> None:
    # One source is asked directly, several concurrently: both bound each ask by the timeout.
    slow = [_Slow("ebsi", 5.0), _Slow("other", 0.0, fail=True)][:sources]
    service = TrustService(slow, clock=lambda: datetime.now(UTC), timeout=0.05)
    started = time.monotonic()
    answers = await service.answers(TrustSubject(issuer="did:key:z6Mk", at=datetime.now(UTC)))
    assert time.monotonic() - started < 2.0
    assert [x.status for x in answers] == [SourceStatus.UNAVAILABLE] * sources
    assert answers[0].reason == "no answer within 0.05 s"
    if sources == 2:
        assert answers[1].reason.startswith("failed: RuntimeError")


class _Rendezvous:
    """Answers only once every other source of the rendezvous has started: asked one after
    the other, the first would wait for ever (bounded by the service timeout)."""

    def __init__(self, name: str, started: dict[str, asyncio.Event]) -> None:
        self.name, self.started = name, started

    async def evaluate(self, subject: Any) -> SourceAnswer:
        self.started[self.name].set()
        for event in self.started.values():
            await event.wait()
        return a(self.name, SourceStatus.TRUSTED)


class _InMemory:
    """An in-memory source; records which task asked it."""

    in_memory = True

    def __init__(self, name: str) -> None:
        self.name = name
        self.asked_in: list[asyncio.Task[Any] | None] = []

    async def evaluate(self, subject: Any) -> SourceAnswer:
        self.asked_in.append(asyncio.current_task())
        return a(self.name, SourceStatus.NOT_TRUSTED)


async def test_io_sources_are_asked_concurrently_in_memory_ones_in_place_in_order() -> None:
    started = {"lote": asyncio.Event(), "deqar": asyncio.Event()}
    local = _InMemory("allowlist")
    sources = [_Rendezvous("lote", started), local, _Rendezvous("deqar", started)]
    service = TrustService(sources, clock=lambda: datetime.now(UTC), timeout=5.0)
    answers = await service.answers(TrustSubject(issuer="did:key:z6Mk", at=NOW))
    assert [x.source for x in answers] == ["lote", "allowlist", "deqar"]
    assert [x.status for x in answers] == [T, F, T]
    assert local.asked_in == [asyncio.current_task()]  # no task of its own


class _Counting:
    """A source that counts the times it is asked, per ``at``."""

    def __init__(self) -> None:
        self.name = "ebsi"
        self.asked: list[datetime] = []

    async def evaluate(self, subject: Any) -> SourceAnswer:
        self.asked.append(subject.at)
        return a(self.name, SourceStatus.TRUSTED)


async def test_the_decision_now_is_taken_at_the_whole_second() -> None:
    """So the registry's cached answer for "now" serves every verification in that second."""
    source = _Counting()
    clock_now = NOW + timedelta(seconds=7, microseconds=654_321)
    service = TrustService([source], clock=lambda: clock_now)
    await service.decide("did:key:z6Mk", at=NOW - timedelta(days=30))
    assert source.asked == [NOW - timedelta(days=30), NOW + timedelta(seconds=7)]
