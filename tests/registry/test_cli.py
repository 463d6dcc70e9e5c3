"""``trustbridge registry import/export/show`` on the shipped trust lists (real SQLite file)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from trustbridge.cli import main

from ..conftest import FIXTURES, ROOT

DEMO = json.loads((FIXTURES / "demo" / "demo.json").read_text())


def test_import_export_show_round_trip(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                       capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRUSTBRIDGE_DATA_DIR", str(tmp_path))
    assert main(["registry", "import", str(ROOT / "registry")]) == 0
    assert "imported 8 issuers" in capsys.readouterr().err
    assert main(["registry", "export", "--jurisdiction", "ESP"]) == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["jurisdiction"] == "ES" and len(exported["issuers"]) == 3
    assert exported["anchors"] == [DEMO["trust_anchor"]]
    # the export is itself an importable trust list
    (tmp_path / "es-export.json").write_text(json.dumps(exported))
    monkeypatch.setenv("TRUSTBRIDGE_DATA_DIR", str(tmp_path / "other"))
    assert main(["registry", "import", str(tmp_path / "es-export.json"),
                 str(ROOT / "registry" / "eu.json")]) == 0
    capsys.readouterr()
    assert main(["registry", "show", DEMO["navarra_provider"], "--type",
                 "EVHighVoltageSafetyCredential", "--schema", DEMO["schema"]]) == 0
    out = capsys.readouterr().out
    assert "VerifiableAccreditationToAttest" in out and '"accredited": true' in out
    assert main(["registry", "show", "did:key:z6MkNotThere"]) == 1


def test_bad_file_changes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                  capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("TRUSTBRIDGE_DATA_DIR", str(tmp_path))
    data = json.loads((ROOT / "registry" / "es.json").read_text())
    data["issuers"][1]["attributes"][0]["hash"] = "0" * 64
    (tmp_path / "bad.json").write_text(json.dumps(data))
    assert main(["registry", "import", str(tmp_path / "bad.json")]) == 2
    assert "registry.file_invalid" in capsys.readouterr().err
    assert main(["registry", "export"]) == 0
    assert json.loads(capsys.readouterr().out)["issuers"] == []
