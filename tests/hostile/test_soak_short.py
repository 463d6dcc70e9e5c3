"""The soak's fast part: bench/soak.py's driver for a few seconds against a served node.

The same mixed load ``make soak`` runs for minutes (verify valid/forged/malformed, DID
resolution, registry reads and writes, signed sync pushes with a mirror node, the OpenID4VP
flow), here for ~12 s on the embedded default: no unexpected answer, no forgery accepted,
every acknowledged write read back on the node and on the mirror. Memory is not judged in
a run this short; the judge itself is checked on made-up samples.
"""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType
from typing import Any

from tests.conftest import ROOT


def _load_soak() -> ModuleType:
    spec = importlib.util.spec_from_file_location("soak", ROOT / "bench" / "soak.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["soak"] = module
    spec.loader.exec_module(module)
    return module


soak = _load_soak()
SECONDS = 12.0


async def test_short_soak_no_unexpected_answer_nothing_forged_nothing_lost(
        hostile_stats: dict[str, dict[str, int]]) -> None:
    opts = soak.Options(seconds=SECONDS, concurrency=4, seed=7, quiet=True,
                        progress_seconds=3600, sample_seconds=1.0)
    result: dict[str, Any] = await soak.run(opts)
    lost = result["nothing_lost"]
    forgeries = result["forgeries"]
    hostile_stats["soak (short)"] = {
        "requests": result["requests"], "unexpected": result["unexpected"],
        "forgeries sent": forgeries["sent"], "forgeries accepted": forgeries["accepted"],
        "writes acknowledged": lost["writes_acknowledged"], "writes found": lost["writes_found"]}
    assert result["unexpected"] == 0, "\n".join(result["problems"])
    assert forgeries["accepted"] == 0
    assert forgeries["sent"] > 0
    assert forgeries["rejected"] == forgeries["sent"]
    # every kind of the mix ran, and answered as it should at least once
    assert set(soak.MIX) <= set(result["kinds"]), sorted(result["kinds"])
    for kind in soak.MIX:
        assert result["kinds"][kind]["ok"] + result["kinds"][kind]["expected_errors"] > 0, kind
    assert lost["writes_acknowledged"] > 0
    assert lost["writes_found"] == lost["writes_acknowledged"]
    assert lost["batches_applied"] > 0
    assert lost["log_after"] - lost["log_before"] == lost["batch_changes_applied"]
    assert lost["mirror_log"] == lost["log_after"]
    assert lost["batch_issuers_on_mirror"] == lost["batch_changes_applied"]
    assert result["verdict"] == "PASS", result["failures"]


def _samples(rss_mb: list[float], fds: list[int], step: float = 5.0) -> list[Any]:
    return [soak.Sample(t=i * step, rss_kb=int(mb * 1024), fds=fd)
            for i, (mb, fd) in enumerate(zip(rss_mb, fds, strict=True))]


def test_memory_judge_passes_a_plateau_and_fails_growth() -> None:
    n = 40  # 200 s at 5 s; warm-up 50 s
    judge = {"warmup": 50.0, "growth": 0.20, "slack_mb": 24.0, "fd_slack": 16}
    plateau = _samples([80 + min(i, 10) * 2 + (i % 3) for i in range(n)], [12] * n)
    verdict = soak.judge(plateau, plateau[-1], **judge)
    assert verdict["judged"], verdict
    assert verdict["failures"] == []
    leak = _samples([100 + i * 0.8 for i in range(n)], [12] * n)  # ~10 MiB/min, steady
    failures = soak.judge(leak, leak[-1], **judge)["failures"]
    assert any("trend" in f for f in failures), failures
    jump = _samples([100] * 30 + [150] * 10, [12] * n)
    assert any("bound" in f for f in soak.judge(jump, jump[-1], **judge)["failures"])
    fd_leak = _samples([100] * n, [12 + i for i in range(n)])
    failures = soak.judge(fd_leak, fd_leak[-1], **judge)["failures"]
    assert any("open FDs" in f for f in failures), failures
    short = _samples([100] * 5, [12] * 5)
    assert not soak.judge(short, short[-1], **judge)["judged"]
