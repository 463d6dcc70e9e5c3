"""Allow-list, TS 119 602 LoTE and DEQAR sources over the committed fixtures."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from tests.conftest import FIXTURES
from trustbridge.clock import Clock
from trustbridge.errors import InputError
from trustbridge.trust.decision import parse_policy
from trustbridge.trust.interface import SourceStatus, TrustSubject
from trustbridge.trust.service import TrustService
from trustbridge.trust.sources.allowlist import AllowEntry, AllowListSource
from trustbridge.trust.sources.deqar import DeqarSource, parse_deqar_export
from trustbridge.trust.sources.lote import LoteSource, parse_lote

HS = "did:key:z6Mknd5nPNyKdU1TC56dddsh9Rt12zMeqxQj6o74CKHWCnpx"
AKADEMIE = "did:web:akademie.example"
LOTE = FIXTURES / "trust" / "lote-pub-eaa.json"
DEQAR = FIXTURES / "trust" / "deqar-export.json"


class Clockwork:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


def subject(issuer: str, at: datetime, *types: str) -> TrustSubject:
    return TrustSubject(issuer=issuer, at=at, types=types or ("VerifiableCredential",))


async def test_allowlist_types_window_and_deny() -> None:
    src = AllowListSource(allow=[
        AllowEntry(issuer=HS, types=("VerifiableDiploma",)),
        AllowEntry(issuer="did:web:pilot.example", valid_until=datetime(2025, 1, 1, tzinfo=UTC)),
    ], deny=["did:web:bad.example"])
    at = datetime(2024, 6, 1, tzinfo=UTC)
    assert (await src.evaluate(subject(HS, at, "VerifiableDiploma"))).status is SourceStatus.TRUSTED
    assert (await src.evaluate(subject(HS, at, "Other"))).status is SourceStatus.UNKNOWN
    assert (await src.evaluate(subject("did:web:pilot.example", at))).status is SourceStatus.TRUSTED
    late = subject("did:web:pilot.example", datetime(2025, 6, 1, tzinfo=UTC))
    assert (await src.evaluate(late)).status is SourceStatus.UNKNOWN
    denied = await src.evaluate(subject("did:web:bad.example", at))
    assert (denied.status, denied.authoritative, denied.code) == (
        SourceStatus.NOT_TRUSTED, True, "trust.allowlist.denied")


def test_lote_fixture_parses() -> None:
    lote = parse_lote(LOTE.read_bytes())
    assert (lote.sequence, lote.territory) == (7, "AT")
    assert lote.next_update == datetime(2026, 7, 15, tzinfo=UTC)
    assert {s.entity_name for s in lote.services} == {"Hochschule Teststadt",
                                                       "Akademie Abgemeldet"}
    with pytest.raises(InputError) as exc:
        parse_lote(b'{"LoTE": {}}')
    assert exc.value.code == "trust.lote_invalid"
    with pytest.raises(InputError) as exc:
        parse_lote(LOTE.read_bytes(), pinned_sha256="00" * 32)
    assert exc.value.code == "trust.lote_digest"


async def test_lote_status_at_time_and_history() -> None:
    clock = Clockwork(datetime(2026, 2, 1, tzinfo=UTC))
    src = LoteSource("lote", str(LOTE), clock=clock)
    ok = await src.evaluate(subject(HS, datetime(2025, 1, 1, tzinfo=UTC)))
    assert (ok.status, ok.code) == (SourceStatus.TRUSTED, "trust.lote.granted")
    assert ok.evidence["sequence"] == 7 and ok.evidence["issuer_name"] == "Hochschule Teststadt"
    assert ok.next_update == datetime(2026, 7, 15, tzinfo=UTC)
    # Akademie: notified from 2023 (history), withdrawn from 2025-06-01 (current)
    before = await src.evaluate(subject(AKADEMIE, datetime(2024, 1, 1, tzinfo=UTC)))
    assert before.status is SourceStatus.TRUSTED
    after = await src.evaluate(subject(AKADEMIE, datetime(2025, 7, 1, tzinfo=UTC)))
    assert (after.status, after.code, after.authoritative) == (
        SourceStatus.NOT_TRUSTED, "trust.lote.withdrawn", True)
    assert after.evidence["services"][0]["current_status"].endswith("/withdrawn")
    unlisted = await src.evaluate(subject("did:web:nobody.example", clock.now))
    assert unlisted.status is SourceStatus.UNKNOWN


async def test_lote_refresh_failure_keeps_previous_copy_until_grace(tmp_path: Path) -> None:
    path = tmp_path / "lote.json"
    shutil.copy(LOTE, path)
    clock = Clockwork(datetime(2026, 2, 1, tzinfo=UTC))
    service = TrustService([LoteSource("lote", str(path), clock=clock)], clock=clock,
                           grace=timedelta(days=2))
    at = datetime(2025, 1, 1, tzinfo=UTC)
    assert (await service.decide(HS, at=at)).status == "trusted"
    path.write_text("{ not json", encoding="utf-8")  # the publisher now serves garbage
    clock.now = datetime(2026, 7, 16, tzinfo=UTC)  # past NextUpdate: refresh due, fails
    kept = await service.decide(HS, at=at)
    assert kept.status == "trusted"  # previous good copy, within grace
    assert "refresh_error" in kept.evidence[0].evidence
    clock.now = datetime(2026, 7, 18, tzinfo=UTC)  # past NextUpdate + grace
    stale = await service.decide(HS, at=at)
    assert (stale.status, stale.code) == ("unknown", "trust.source_stale")
    # a fixed list with a new NextUpdate is picked up again
    doc = json.loads(LOTE.read_text())
    doc["LoTE"]["ListAndSchemeInformation"].update(LoTESequenceNumber=8,
                                                   NextUpdate="2027-01-01T00:00:00Z")
    path.write_text(json.dumps(doc), encoding="utf-8")
    clock.now += timedelta(minutes=5)
    fresh = await service.decide(HS, at=at)
    assert fresh.status == "trusted" and fresh.evidence[0].evidence["sequence"] == 8


async def test_lote_never_loaded_is_unavailable(tmp_path: Path) -> None:
    clock: Clock = Clockwork(datetime(2026, 2, 1, tzinfo=UTC))
    src = LoteSource("lote", str(tmp_path / "missing.json"), clock=clock)
    got = await src.evaluate(subject(HS, datetime(2025, 1, 1, tzinfo=UTC)))
    assert (got.status, got.code) == (SourceStatus.UNAVAILABLE, "trust.lote.unavailable")


def test_deqar_export_parses_and_maps_identifiers() -> None:
    export = parse_deqar_export(DEQAR.read_bytes())
    src = DeqarSource("deqar", export, mapping={HS: "ETER:AT0042"}, origin="fixture")
    assert src.find(HS) is not None and src.find(HS).deqar_id == "DEQARINST1784"  # type: ignore[union-attr]
    assert src.find(AKADEMIE) is not None  # DID identifier inside the record
    assert src.find("did:web:other.example") is None
    for mapped in ("DEQARINST1784", "Erasmus:A TESTST01", "SCHAC:hs-teststadt.example"):
        assert DeqarSource("d", export, mapping={HS: mapped}, origin="x").find(HS) is not None
    with pytest.raises(InputError):
        parse_deqar_export(b'{"institutions": [{"name_primary": "no id"}]}')


async def test_deqar_accreditation_in_force_at_time() -> None:
    src = DeqarSource.from_file("deqar", DEQAR, {HS: "ETER:AT0042"})
    ok = await src.evaluate(subject(HS, datetime(2020, 5, 1, tzinfo=UTC)))
    assert (ok.status, ok.code) == (SourceStatus.TRUSTED, "trust.deqar.accredited")
    report = ok.evidence["reports_in_force"][0]
    assert report["agency"] == "AQ Austria" and report["agency_registered"] is True
    assert report["url"] == "https://data.deqar.eu/report/41001"
    # programme accreditation with scope and QF-EHEA level, in force 2024-10 .. 2030-09
    later = await src.evaluate(subject(HS, datetime(2026, 1, 1, tzinfo=UTC)))
    assert later.status is SourceStatus.TRUSTED
    assert later.evidence["reports_in_force"][0]["scope"] == [
        {"programme": "MSc Electric Mobility", "qf_ehea_level": "second cycle",
         "nqf_level": "7"}]
    gap = await src.evaluate(subject(HS, datetime(2018, 6, 1, tzinfo=UTC)))  # before any report
    assert (gap.status, gap.code, gap.authoritative) == (
        SourceStatus.NOT_TRUSTED, "trust.deqar.not_in_force", False)
    # Akademie: a positive decision by an unregistered agency never counts; negative vetoes
    unreg = await src.evaluate(subject(AKADEMIE, datetime(2021, 1, 1, tzinfo=UTC)))
    assert unreg.status is SourceStatus.NOT_TRUSTED
    negative = await src.evaluate(subject(AKADEMIE, datetime(2025, 7, 1, tzinfo=UTC)))
    assert (negative.code, negative.authoritative) == ("trust.deqar.negative", True)


async def test_combined_policy_and_later_withdrawal_reported() -> None:
    clock = Clockwork(datetime(2026, 2, 1, tzinfo=UTC))
    service = TrustService(
        [LoteSource("lote", str(LOTE), clock=clock),
         DeqarSource.from_file("deqar", DEQAR, {HS: "ETER:AT0042"})],
        clock=clock, policy=parse_policy("lote & deqar"))
    both = await service.decide(HS, at=datetime(2025, 1, 1, tzinfo=UTC))
    assert both.status == "trusted" and both.since_then is None
    # Akademie was listed and accredited (by an unregistered agency) in 2021: lote says yes,
    # deqar no -> not trusted under "lote & deqar"; under "lote" it was trusted then, and
    # the decision reports the later withdrawal.
    only_lote = TrustService([LoteSource("lote", str(LOTE), clock=clock)], clock=clock)
    then = await only_lote.decide(AKADEMIE, at=datetime(2024, 1, 1, tzinfo=UTC))
    assert then.status == "trusted"
    assert then.since_then is not None and then.since_then["status"] == "not_trusted"
    assert then.since_then["code"] == "trust.lote.withdrawn"
    strict = await service.decide(AKADEMIE, at=datetime(2024, 1, 1, tzinfo=UTC))
    assert strict.status == "not_trusted"


async def test_last_good_copy_survives_a_restart_through_the_cache(tmp_path: Path) -> None:
    from trustbridge.cache.memory import MemoryCache

    cache = MemoryCache()
    path = tmp_path / "lote.json"
    shutil.copy(LOTE, path)
    clock = Clockwork(datetime(2026, 2, 1, tzinfo=UTC))
    at = datetime(2025, 1, 1, tzinfo=UTC)
    first = LoteSource("lote", str(path), clock=clock, cache=cache, sha256=None)
    assert (await first.evaluate(subject(HS, at))).status is SourceStatus.TRUSTED
    path.unlink()  # the publisher is down when the node restarts
    again = LoteSource("lote", str(path), clock=clock, cache=cache)
    got = await again.evaluate(subject(HS, at))
    assert got.status is SourceStatus.TRUSTED
    assert "cached copy" in got.evidence["refresh_error"]
    assert got.fetched_at == datetime(2026, 2, 1, tzinfo=UTC)  # when it was really fetched
    # a cached copy is verified again: pinned to another digest, it is refused
    pinned = LoteSource("lote", str(path), clock=clock, cache=cache, sha256="00" * 32)
    assert (await pinned.evaluate(subject(HS, at))).status is SourceStatus.UNAVAILABLE
