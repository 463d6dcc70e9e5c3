"""Value readers on their own: durations, dates, ESCO URIs, texts, supervision categories."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from trustbridge.microcred.annex import supervision_category
from trustbridge.microcred.values import (
    Invalid,
    duration_hours,
    esco_uri,
    label,
    qf_ehea_cycle,
    rfc3339,
    text,
)


@pytest.mark.parametrize(("value", "hours"), [
    ("PT60H", 60.0), ("PT90M", 1.5), ("PT1H30M", 1.5), ("PT7.5H", 7.5), ("PT3600S", 1.0),
    ("P1M", None), ("P2W", None), ("P1DT2H", None)])
def test_durations(value: str, hours: float | None) -> None:
    assert duration_hours(value) == hours


@pytest.mark.parametrize(("value", "expected", "offset"), [
    ("2025-06-01T09:00:00Z", datetime(2025, 6, 1, 9, tzinfo=UTC), True),
    ("2025-06-01t09:00:00z", datetime(2025, 6, 1, 9, tzinfo=UTC), True),
    ("2025-06-01T09:00:00.123456789+02:00",
     datetime(2025, 6, 1, 9, 0, 0, 123456, tzinfo=timezone(timedelta(hours=2))), True),
    ("2025-06-01", datetime(2025, 6, 1, tzinfo=UTC), True),
    ("2025-06-01T09:00:00", datetime(2025, 6, 1, 9, tzinfo=UTC), False),
])
def test_rfc3339(value: str, expected: datetime, offset: bool) -> None:
    assert rfc3339(value) == (expected, offset)


@pytest.mark.parametrize(("uri", "kind"), [
    ("http://data.europa.eu/esco/skill/5fd5c985-eaaa-47aa-8314-62359c54505a", "skill"),
    ("http://data.europa.eu/esco/skill/S1.2.3", "skill"),
    ("http://data.europa.eu/esco/occupation/f2b15a0e-e65a-438a-affb-29b9d50b77d1",
     "occupation"),
    ("http://data.europa.eu/esco/isco/C7231", "isco")])
def test_esco_uris(uri: str, kind: str) -> None:
    assert esco_uri(uri) == (uri, kind)


@pytest.mark.parametrize("uri", ["http://data.europa.eu/esco/occupation/S1",
                                 "http://data.europa.eu/esco/isco/7231",
                                 "http://data.europa.eu/esco/skill/",
                                 "http://data.europa.eu/esco/skill/5fd5c985"])
def test_malformed_esco_uris(uri: str) -> None:
    with pytest.raises(Invalid) as info:
        esco_uri(uri)
    assert info.value.reason == "esco_uri"


def test_texts_prefer_english_and_ignore_json_ld_keys() -> None:
    assert text({"de": "Titel", "en": "Title"}) == "Title"
    assert text({"de": "Titel"}) == "Titel"
    assert text({"id": "urn:x", "type": "Note", "noteLiteral": {"fr": "Note"}}) == "Note"
    assert text({"id": "urn:x", "type": "Concept"}) is None
    assert text([{"@value": "v"}]) == "v"
    assert label({"id": "urn:x", "prefLabel": {"en": "Online"}}) == "Online"
    assert label({"id": "urn:x"}) == "urn:x"


@pytest.mark.parametrize(("value", "cycle"), [
    ("First cycle", "first"), ("QF-EHEA second cycle", "second"), (3, "third"),
    ("short-cycle", "short"), ({"prefLabel": {"en": "Third cycle"}}, "third")])
def test_qf_ehea_spellings(value: object, cycle: str) -> None:
    assert qf_ehea_cycle(value) == cycle


@pytest.mark.parametrize(("value", "category"), [
    ("Unsupervised without ID Verification", "unsupervised_without_id_verification"),
    ("Supervised without ID Verification", "supervised_without_id_verification"),
    ("Supervised with ID Verification", "supervised_with_id_verification"),
    ("supervised online with identity verification",
     "supervised_online_with_id_verification"),
    ("Supervised on-site with identity verification",
     "supervised_onsite_with_id_verification"),
    ("Proctored", None)])
def test_supervision_categories(value: str, category: str | None) -> None:
    assert supervision_category(value) == category
