"""Quality assurance and level mismatch from DEQAR evidence (pure)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.trust.test_lists import DEQAR, HS, subject
from trustbridge.trust.qa import level_mismatch, quality_assurance_of
from trustbridge.trust.sources.deqar import DeqarSource


async def test_programme_accreditation_and_level_mismatch() -> None:
    src = DeqarSource.from_file("deqar", DEQAR, {HS: "ETER:AT0042"})
    # 2026: only the programme accreditation (second cycle = EQF 7) is in force
    ans = await src.evaluate(subject(HS, datetime(2026, 1, 1, tzinfo=UTC)))
    qa = quality_assurance_of([ans])
    assert [(q["type"], q["agency"]) for q in qa] == [("programme", "AQ Austria")]
    assert level_mismatch([ans], 7) is None
    assert level_mismatch([ans], "second cycle") is None
    assert level_mismatch([ans], "EQF 6") == {"claimed_eqf": 6, "accredited_eqf": [7]}
    assert level_mismatch([ans], "unknowable") is None
    # 2024-11: the institutional audit is also in force and covers every level
    both = await src.evaluate(subject(HS, datetime(2024, 11, 1, tzinfo=UTC)))
    assert level_mismatch([both], 6) is None
    assert level_mismatch([ans.model_dump(mode="json")], 6) is not None  # JSON evidence too
