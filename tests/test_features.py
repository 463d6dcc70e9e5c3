"""Absent feature packages are skipped; a present one with a broken import is an error."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from trustbridge.features import import_feature


def test_absent_package_and_module_are_skipped() -> None:
    assert import_feature("trustbridge.no_such_feature.service") is None
    assert import_feature("trustbridge.api.no_such_routes") is None


def test_present_module_with_missing_dependency_raises(tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    pkg = tmp_path / "tbfeat_demo"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "service.py").write_text("import definitely_not_installed_dep\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    try:
        with pytest.raises(ModuleNotFoundError):
            import_feature("tbfeat_demo.service")
    finally:
        sys.modules.pop("tbfeat_demo", None)


def test_present_module_is_imported() -> None:
    module = import_feature("trustbridge.api.system")
    assert module is not None
    assert hasattr(module, "routes")
