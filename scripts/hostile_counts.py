"""Print the hostile-input counts for a closing note, measured now, not remembered.

Runs the hostile tests with pytest (one subprocess) and reads what they report:

* forgery corpus -- mutations tried, rejected (``invalid`` or refused as unusable, 4xx),
  accepted: ``tests/hostile/test_forgery_corpus.py`` (the whole corpus through the real
  pipeline, and a sample over HTTP), from the ``hostile input`` terminal summary;
* fuzzing -- hypothesis examples run per fuzz test (``--hypothesis-show-statistics``:
  passing + failing test cases), and parser calls, from ``tests/hostile/test_parsers_fuzz.py``;
* faults -- every test in ``tests/hostile/test_faults.py`` and ``tests/sync/test_crash.py``
  injects one fault (Redis SIGKILLed, PostgreSQL refusing then dropped, slow/hanging/endless/
  garbage HTTPS hosts, SIGKILL mid-batch); counted from pytest's JUnit XML, so tests added
  later are counted too: injected = run, survived = passed;
* soak -- requests, unexpected answers, forgeries, writes acknowledged/found, RSS/FD, from
  the JSON reports ``bench/soak.py --json-out`` wrote (``make soak`` writes
  ``bench/out/soak-*.json``), if any.

    python scripts/hostile_counts.py [--json] [--soak FILE ...] [--skip-tests]

Exit status 1 if anything was accepted, failed or lost; 0 otherwise.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
FORGERY = "tests/hostile/test_forgery_corpus.py"
FUZZ = "tests/hostile/test_parsers_fuzz.py"
FAULTS = ("tests/hostile/test_faults.py", "tests/sync/test_crash.py")

_SUMMARY = re.compile(r"^(?P<name>[^:\n]+): (?P<counts>\d+ [^\n]+)$")
_STAT_HEAD = re.compile(r"^(?P<test>\S+\.py::\S+):$")
_STAT_CASES = re.compile(r"(\d+) passing, (\d+) failing, and (\d+) invalid test cases")


def run_tests(extra: list[str]) -> tuple[str, Path, int]:
    """One pytest run over the hostile files; its output, JUnit file and exit code."""
    junit = Path(tempfile.mkdtemp(prefix="hostile-counts-")) / "junit.xml"
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-rfEs",
           "--hypothesis-show-statistics", f"--junitxml={junit}", FORGERY, FUZZ, *FAULTS,
           *extra]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    return proc.stdout + proc.stderr, junit, proc.returncode


def hostile_summary(output: str) -> dict[str, dict[str, int]]:
    """The ``hostile input`` section: ``name: 12 things, 0 other things`` per line."""
    out: dict[str, dict[str, int]] = {}
    section = output.split("hostile input", 1)[1] if "hostile input" in output else ""
    for line in section.splitlines():
        if line.startswith("="):
            if out:
                break
            continue
        m = _SUMMARY.match(line.strip())
        if not m:
            continue
        counts: dict[str, int] = {}
        for part in m["counts"].split(", "):
            number, _, label = part.partition(" ")
            if number.isdigit():
                counts[label] = int(number)
        out[m["name"]] = counts
    return out


def hypothesis_examples(output: str) -> dict[str, dict[str, int]]:
    """Per fuzz test: test cases passing/failing/invalid, over every phase."""
    out: dict[str, dict[str, int]] = {}
    current: str | None = None
    for line in output.splitlines():
        head = _STAT_HEAD.match(line.strip())
        if head:
            current = head["test"]
            out.setdefault(current, {"passing": 0, "failing": 0, "invalid": 0})
            continue
        cases = _STAT_CASES.search(line)
        if cases and current is not None:
            for key, value in zip(("passing", "failing", "invalid"), cases.groups(), strict=True):
                out[current][key] += int(value)
    return out


def junit_outcomes(path: Path) -> dict[str, str]:
    """test id -> passed | failed | error | skipped."""
    if not path.exists():
        return {}
    tree = ET.parse(path)  # noqa: S314 -- written by the pytest run above
    out: dict[str, str] = {}
    for case in tree.iter("testcase"):
        file = case.get("file") or case.get("classname", "").replace(".", "/") + ".py"
        test_id = f"{file}::{case.get('name')}"
        outcome = "passed"
        for child in case:
            if child.tag in ("failure", "error", "skipped"):
                outcome = {"failure": "failed"}.get(child.tag, child.tag)
        out[test_id] = outcome
    return out


def _in(test_id: str, files: tuple[str, ...]) -> bool:
    stems = [Path(f).stem for f in files]
    return any(stem in test_id for stem in stems)


def soak_reports(paths: list[Path]) -> list[dict[str, Any]]:
    out = []
    for path in paths:
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if isinstance(data, dict) and "requests" in data and "nothing_lost" in data:
            data["file"] = str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
            out.append(data)
    return out


def collect(args: argparse.Namespace) -> dict[str, Any]:
    result: dict[str, Any] = {}
    if not args.skip_tests:
        output, junit, code = run_tests(args.pytest_args)
        summary = hostile_summary(output)
        outcomes = junit_outcomes(junit)
        examples = hypothesis_examples(output)
        corpus = summary.get("forgery corpus", {})
        over_http = summary.get("forgery corpus over HTTP", {})
        tried = corpus.get("mutations", 0)
        accepted = corpus.get("accepted", 0)
        result["forgery"] = {
            "mutations tried": tried,
            "rejected": corpus.get("invalid", 0) + corpus.get("refused as unusable (4xx)", 0),
            "accepted": accepted, "categories": corpus.get("categories", 0),
            "over HTTP (sample)": over_http.get("requests", 0),
            "test": _outcome(outcomes, FORGERY, "test_forgery_corpus_nothing_accepted")}
        fuzz = summary.get("parser fuzzing", {})
        fuzz_tests = {k.split("::")[-1]: v for k, v in examples.items() if FUZZ in k}
        result["fuzz"] = {
            "examples run": sum(v["passing"] + v["failing"] for v in fuzz_tests.values()),
            "failing": sum(v["failing"] for v in fuzz_tests.values()),
            "fuzz tests": len(fuzz_tests), "parsers": fuzz.get("parsers", 0),
            "parser calls": fuzz.get("parser calls", 0),
            "undocumented exceptions": fuzz.get("undocumented exceptions", 0),
            "per test": {k: v["passing"] + v["failing"] for k, v in sorted(fuzz_tests.items())}}
        faults = {k: v for k, v in outcomes.items() if _in(k, FAULTS)}
        tally = Counter(faults.values())
        result["faults"] = {
            "injected (tests run)": tally["passed"] + tally["failed"] + tally["error"],
            "survived (passed)": tally["passed"], "failed": tally["failed"] + tally["error"],
            "skipped": tally["skipped"],
            "by test": dict(sorted(faults.items())),
            "details": {k: v for k, v in summary.items() if k.startswith("fault")}}
        result["pytest exit code"] = code
        if not outcomes:
            result["pytest tail"] = output[-3000:]
    paths = args.soak if args.soak else sorted((ROOT / "bench" / "out").glob("soak-*.json"))
    result["soak"] = [{
        "file": r["file"], "mode": r["mode"], "seconds": r["seconds"],
        "requests": r["requests"], "unexpected": r["unexpected"],
        "expected errors": r["expected_errors"], "forgeries sent": r["forgeries"]["sent"],
        "forgeries accepted": r["forgeries"]["accepted"],
        "writes acknowledged": r["nothing_lost"]["writes_acknowledged"],
        "writes found": r["nothing_lost"]["writes_found"],
        "verdict": r["verdict"], "started": r.get("started")} for r in soak_reports(paths)]
    return result


def _outcome(outcomes: dict[str, str], file: str, name: str) -> str:
    return next((v for k, v in outcomes.items() if Path(file).stem in k and k.endswith(name)),
                "not run")


def bad(result: dict[str, Any]) -> list[str]:
    out = []
    if "forgery" in result:
        if result["forgery"]["accepted"] or result["forgery"]["test"] != "passed":
            out.append("forgery corpus: something accepted or the test did not pass")
        if result["fuzz"]["failing"] or result["fuzz"]["undocumented exceptions"]:
            out.append("fuzzing: failing examples")
        if result["faults"]["failed"]:
            out.append(f"faults: {result['faults']['failed']} not survived")
    for s in result.get("soak", []):
        if s["unexpected"] or s["forgeries accepted"] or s["writes found"] != s[
                "writes acknowledged"]:
            out.append(f"soak {s['file']}: unexpected answers, forgeries or lost writes")
    return out


def print_counts(result: dict[str, Any]) -> None:
    if "forgery" in result:
        f, z, x = result["forgery"], result["fuzz"], result["faults"]
        print(f"forgery corpus: {f['mutations tried']} mutations tried ({f['categories']} "
              f"categories), {f['rejected']} rejected, {f['accepted']} accepted "
              f"(+ {f['over HTTP (sample)']} sent over HTTP); test {f['test']}")
        print(f"fuzzing: {z['examples run']} hypothesis examples run over {z['fuzz tests']} "
              f"fuzz tests ({z['parsers']} parsers, {z['parser calls']} parser calls), "
              f"{z['failing']} failing, {z['undocumented exceptions']} undocumented exceptions")
        print(f"faults: {x['injected (tests run)']} injected, {x['survived (passed)']} survived, "
              f"{x['failed']} failed, {x['skipped']} skipped")
        for test, outcome in x["by test"].items():
            print(f"  {outcome:8} {test}")
        for name, counts in x["details"].items():
            print(f"  {name}: " + ", ".join(f"{n} {k}" for k, n in counts.items()))
        if "pytest tail" in result:
            print(result["pytest tail"])
    if not result.get("soak"):
        print("soak: no report (run `make soak`, or pass --soak FILE)")
    for s in result.get("soak", []):
        print(f"soak ({s['mode']}, {s['seconds']} s, {s['file']}): {s['requests']} requests, "
              f"{s['unexpected']} unexpected, {s['expected errors']} expected refusals, "
              f"{s['forgeries sent']} forgeries sent / {s['forgeries accepted']} accepted, "
              f"{s['writes acknowledged']} writes acknowledged / {s['writes found']} found: "
              f"{s['verdict']}")


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--soak", type=Path, nargs="*", default=None,
                        help="soak JSON reports (default: bench/out/soak-*.json)")
    parser.add_argument("--skip-tests", action="store_true",
                        help="only read the soak reports")
    parser.add_argument("pytest_args", nargs="*", help="passed on to pytest (after --)")
    args = parser.parse_args(argv)
    result = collect(args)
    print_counts(result)
    problems = bad(result)
    for p in problems:
        print(f"NOT CLEAN: {p}")
    if args.json:
        print(json.dumps(result))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
