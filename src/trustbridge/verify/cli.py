"""``trustbridge verify FILE [--nonce --audience --at --json]``: the same report on a terminal.

Exit status: 0 valid, 1 invalid, 2 indeterminate (3 for an unusable file).
Colour only on a TTY and never when ``NO_COLOR`` is set (https://no-color.org).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from trustbridge.cli import subcommand
from trustbridge.errors import InputError
from trustbridge.model.report import CheckResult, VerificationReport

EXIT = {"valid": 0, "invalid": 1, "indeterminate": 2}
EXIT_UNUSABLE = 3
COLOURS = {"valid": "32", "passed": "32", "invalid": "31", "failed": "31",
           "indeterminate": "33", "error": "33", "skipped": "2"}
MARKS = {"passed": "✔", "failed": "✘", "error": "?", "skipped": "–"}


def _configure(p: argparse.ArgumentParser) -> None:
    p.add_argument("file", type=Path, help="a VP or VC: compact JWT or JSON ('-' for stdin)")
    p.add_argument("--nonce", default=None, help="the nonce/challenge the presentation must carry")
    p.add_argument("--audience", default=None, help="the audience/domain it must be made for")
    p.add_argument("--at", default=None, help="RFC 3339 time to verify at (default: now)")
    p.add_argument("--json", action="store_true", help="print the report as JSON")
    p.add_argument("--policy", default=None,
                   help='policy as JSON, e.g. \'{"require_accredited_issuer": false}\'')


def use_colour(stream: TextIO) -> bool:
    return "NO_COLOR" not in os.environ and stream.isatty()


def _paint(text: str, status: str, colour: bool) -> str:
    code = COLOURS.get(status)
    return f"\x1b[{code}m{text}\x1b[0m" if colour and code else text


def _check_line(check: CheckResult, colour: bool) -> str:
    mark = _paint(MARKS.get(check.status.value, "?"), check.status.value, colour)
    return f"  {mark} {check.check:<18} {check.code:<32} {check.message}"


def render(report: VerificationReport, *, colour: bool) -> str:
    """The report as text for a person at a terminal."""
    lines = [f"Verdict: {_paint(report.verdict.value.upper(), report.verdict.value, colour)}"
             + ("  (cached)" if report.cached else "")]
    if report.holder:
        lines.append(f"Holder:  {report.holder}")
    lines.append(f"Checked: {report.checked_at.isoformat()}")
    lines.append("Presentation checks:")
    lines += [_check_line(c, colour) for c in report.checks]
    for i, cred in enumerate(report.credentials, 1):
        s = cred.summary
        title = s.get("title") or ", ".join(s.get("types", [])) or "credential"
        lines.append("")
        lines.append(f"Credential {i}: {title} -- "
                     f"{_paint(cred.verdict.value, cred.verdict.value, colour)}")
        issuer = s.get("issuer") or {}
        if issuer:
            name = issuer.get("name") or ""
            country = f" ({issuer['country']})" if issuer.get("country") else ""
            lines.append(f"  Issuer:  {name}{country} {issuer.get('did') or ''}".rstrip())
        subject = s.get("subject") or {}
        if subject:
            lines.append(f"  Subject: {subject.get('name') or ''} {subject.get('id') or ''}"
                         .rstrip())
        if s.get("issued") or s.get("expires"):
            lines.append(f"  Valid:   {s.get('issued') or '?'} .. {s.get('expires') or 'open'}")
        for link in s.get("chain") or []:
            lines.append(f"  Chain:   {json.dumps(link, ensure_ascii=False)}")
        lines += [_check_line(c, colour) for c in cred.checks]
    return "\n".join(lines)


def read_input(path: Path) -> str | dict[str, Any]:
    text = sys.stdin.read() if str(path) == "-" else path.read_text(encoding="utf-8")
    text = text.strip()
    if text.startswith("{"):
        data = json.loads(text)
        if not isinstance(data, dict):
            raise InputError("the file is not a JSON object", code="request.malformed_json")
        return data
    return text


def _is_presentation(obj: str | dict[str, Any]) -> bool:
    if isinstance(obj, dict):
        types = obj.get("type")
        types = types if isinstance(types, list) else [types]
        return "VerifiablePresentation" in types
    from trustbridge.api.verify import _jwt_is_presentation

    return _jwt_is_presentation(obj)


async def _verify(args: argparse.Namespace) -> VerificationReport:
    from trustbridge.cli import _settings
    from trustbridge.services import build_services
    from trustbridge.verify.pipeline import VerificationInput
    from trustbridge.verify.policy import Policy
    from trustbridge.verify.service import verifier_of

    obj = read_input(args.file)
    at = None
    if args.at:
        at = datetime.fromisoformat(args.at.replace("Z", "+00:00"))
        at = at if at.tzinfo else at.replace(tzinfo=UTC)
    policy = Policy.model_validate(json.loads(args.policy)) if args.policy else Policy()
    key = "presentation" if _is_presentation(obj) else "credential"
    services = await build_services(_settings(args))
    try:
        inp = VerificationInput(**{key: obj}, nonce=args.nonce, audience=args.audience, at=at,
                                policy=policy)
        return await verifier_of(services).verify(inp)
    finally:
        await services.close()


@subcommand("verify", "verify a presentation or credential file and print the report", _configure)
def cmd_verify(args: argparse.Namespace) -> int:
    try:
        report = asyncio.run(_verify(args))
    except (OSError, ValueError, InputError) as exc:
        print(f"trustbridge verify: {exc}", file=sys.stderr)
        return EXIT_UNUSABLE
    if args.json:
        print(report.model_dump_json(indent=2))
    else:
        print(render(report, colour=use_colour(sys.stdout)))
    return EXIT[report.verdict.value]


__all__ = ["cmd_verify", "render"]
