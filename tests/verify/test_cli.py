"""``trustbridge verify FILE``: exit 0/1/2 by verdict, JSON output, colour only when wanted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.verify.support import EBSI, OWN, load

POLICY = json.dumps({"require_accredited_issuer": False, "check_schema": False})


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None
        ) -> subprocess.CompletedProcess[str]:
    config = tmp_path / "settings.json"
    config.write_text(json.dumps({"environment": "test", "data_dir": str(tmp_path / "data"),
                                  "registry_seed_dir": None}))
    return subprocess.run(
        [sys.executable, "-c", "import sys; from trustbridge.cli import main; sys.exit(main())",
         "verify", "--config", str(config), *args],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, **(env or {})})


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_valid_exits_zero_with_json(tmp_path: Path) -> None:
    v = load(EBSI / "vc-eddsa-valid.json")
    out = run(tmp_path, str(write(tmp_path, "vc.jwt", v["input"])), "--at", v["verify_at"],
              "--policy", POLICY, "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["verdict"] == "valid"


def test_invalid_exits_one_and_prints_plain_text(tmp_path: Path) -> None:
    v = load(EBSI / "vp-wrong-nonce.json")
    out = run(tmp_path, str(write(tmp_path, "vp.jwt", v["input"])), "--at", v["verify_at"],
              "--nonce", v["nonce"], "--audience", v["audience"], "--policy", POLICY)
    assert out.returncode == 1, out.stderr
    assert "Verdict: INVALID" in out.stdout and "nonce.mismatch" in out.stdout
    assert "\x1b[" not in out.stdout  # not a TTY: no colour


def test_indeterminate_exits_two(tmp_path: Path) -> None:
    """A status list that cannot be fetched (no such host) leaves the verdict open."""
    v = load(EBSI / "vc-status-active.json")
    out = run(tmp_path, str(write(tmp_path, "vc.jwt", v["input"])), "--at", v["verify_at"],
              "--policy", json.dumps({"require_accredited_issuer": False}), "--json")
    assert out.returncode == 2, out.stdout + out.stderr
    report = json.loads(out.stdout)
    status = [c for c in report["credentials"][0]["checks"] if c["check"] == "status"]
    assert status[0]["status"] == "error"


def test_unregistered_issuer_is_invalid(tmp_path: Path) -> None:
    """With the registry attached (empty here), an unknown issuer is not accredited."""
    v = load(OWN / "vectors" / "vc-valid-eddsa.json")
    out = run(tmp_path, str(write(tmp_path, "vc.jwt", v["input"])), "--at", v["verify_at"])
    assert out.returncode == 1, out.stdout + out.stderr
    assert "issuer.not_registered" in out.stdout


def test_unusable_file_exits_three(tmp_path: Path) -> None:
    out = run(tmp_path, str(tmp_path / "missing.jwt"))
    assert out.returncode == 3 and "trustbridge verify" in out.stderr


def test_colour_follows_tty_and_no_color() -> None:
    from trustbridge.model.report import CheckResult, VerificationReport
    from trustbridge.verify.cli import render, use_colour

    class Tty:
        def isatty(self) -> bool:
            return True

    report = VerificationReport(verdict="invalid", checks=[CheckResult.failed(
        "replay", "nonce.mismatch", "wrong nonce")], checked_at="2026-06-01T00:00:00Z")
    assert "\x1b[31m" in render(report, colour=True)
    assert "\x1b[" not in render(report, colour=False)
    env = dict(os.environ)
    os.environ.pop("NO_COLOR", None)
    try:
        assert use_colour(Tty())  # type: ignore[arg-type]
        os.environ["NO_COLOR"] = "1"
        assert not use_colour(Tty())  # type: ignore[arg-type]
    finally:
        os.environ.clear()
        os.environ.update(env)
