"""The report renderer and the explanation table, as pure functions."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import ROOT
from trustbridge.api.ui.explain import explain
from trustbridge.api.ui.report_view import human_time, render_report, verdict_key

# Check codes only: the sections from "## 1. structure" on (the HTTP problem codes above
# them never appear in a report, so the page has nothing to explain for them).
CHECK_SECTIONS = (ROOT / "docs" / "codes.md").read_text("utf-8").split("\n## 1. ", 1)[1]
CODES = sorted(set(re.findall(r"`([a-z_]+\.[a-z_.]+)`", CHECK_SECTIONS)))
GENERIC = explain("no.such_code", "no_such_check")


def check(name: str, status: str, code: str, message: str = "m") -> dict[str, Any]:
    return {"check": name, "status": status, "code": code, "message": message, "details": {}}


@pytest.mark.parametrize("code", [c for c in CODES if not c.endswith((".ok", ".skipped"))
                                  and not c.startswith(("request.", "details.", "trustbridge."))])
def test_every_documented_check_code_has_its_own_explanation(code: str) -> None:
    ex = explain(code, code.split(".")[0])
    assert ex != GENERIC, code
    assert ex.what.endswith(".") and ex.todo.endswith(".")


def test_longest_prefix_wins_then_check_then_fallback() -> None:
    assert explain("status.list_timeout", "status").what.startswith("The issuer's revocation")
    assert explain("status.new_code", "status").what == explain("status.", "status").what
    assert explain("brand.new", "validity") == explain("x", "validity")
    assert explain("brand.new", "unknown") == GENERIC


def test_credential_text_is_escaped_never_markup() -> None:
    hostile = '<script>alert(1)</script>"><img src=x onerror=alert(2)>'
    report = {
        "verdict": "invalid", "checked_at": "2025-06-02T10:05:00Z", "holder": hostile,
        "checks": [check("structure", "failed", "structure.type_missing", hostile)],
        "credentials": [{"verdict": "invalid", "checks": [
            check("issuer_trust", "failed", "issuer.not_accredited", hostile)],
            "summary": {"title": hostile, "issuer": {"name": hostile, "did": hostile},
                        "subject": {"name": hostile},
                        "chain": [{"issuer_type": hostile, "name": hostile, "did": hostile}],
                        "microcredential": {"title": hostile, "learning_outcomes": [
                            {"text": hostile, "skills": [{"uri": "javascript:alert(3)",
                                                          "label": hostile}]}]}}}],
    }
    html = render_report(report)
    assert "<script" not in html and "<img" not in html and "javascript:" not in html
    assert html.count("&lt;script&gt;") >= 8


def test_esco_skills_link_to_esco_only() -> None:
    mc = {"learning_outcomes": [{"text": "Weld", "skills": [
        {"uri": "http://data.europa.eu/esco/skill/abc", "label": "welding", "kind": "skill"},
        {"uri": None, "label": "DigComp 1.1", "source_id": "digcomp-1.1"}]}]}
    html = render_report({"verdict": "valid", "checks": [], "credentials": [
        {"verdict": "valid", "checks": [check("issuer_trust", "passed", "issuer_trust.ok")],
         "summary": {"microcredential": mc}}]})
    assert '<a href="http://data.europa.eu/esco/skill/abc"' in html
    assert "<li>DigComp 1.1</li>" in html


def test_verdict_wording() -> None:
    trusted = {"checks": [check("issuer_trust", "passed", "issuer_trust.ok")]}
    relaxed = {"checks": [check("issuer_trust", "skipped", "issuer_trust.skipped")]}
    assert verdict_key({"verdict": "valid", "credentials": [trusted]}) == "valid"
    assert verdict_key({"verdict": "valid", "credentials": [trusted, relaxed]}) == \
        "valid_unaccredited"
    assert verdict_key({"verdict": "indeterminate"}) == "indeterminate"
    assert verdict_key({"verdict": "bogus"}) == "indeterminate"
    assert "Could not be checked" in render_report({"verdict": "indeterminate", "checks": [
        check("status", "error", "status.list_timeout")]})


def test_human_time() -> None:
    assert human_time("2025-06-02T10:05:00Z") == "2 June 2025, 10:05 UTC"
    assert human_time("2035-01-01T00:00:00+00:00") == "1 January 2035"
    assert human_time("not a date") == "not a date"
    assert human_time(None) == ""
