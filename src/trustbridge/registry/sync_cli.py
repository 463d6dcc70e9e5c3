"""``trustbridge registry mirror --from URL`` and ``trustbridge registry sync --from URL``.

``add_sync_commands`` adds both to the ``registry`` command's sub-parsers (the
registry CLI calls it). Exit codes: 0 done, 1 something was refused (details
printed), 2 the source could not be read.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from typing import Any, TextIO

from trustbridge.errors import TrustBridgeError


def add_sync_commands(sub: Any) -> None:
    """Register ``mirror`` and ``sync`` under ``trustbridge registry``."""
    mirror = sub.add_parser("mirror", help="pull another node's signed change log, verify it, "
                                           "apply it")
    mirror.add_argument("--from", dest="source", required=True,
                        help="base URL of the other TrustBridge node")
    mirror.add_argument("--json", action="store_true", help="print the result as JSON")
    mirror.set_defaults(func=cmd_mirror)
    sync = sub.add_parser("sync", help="import an upstream EBSI TIR v5 API, verifying every "
                                       "accreditation")
    sync.add_argument("--from", dest="source", required=True,
                      help="TIR base URL, e.g. https://…/trusted-issuers-registry/v5")
    sync.add_argument("--json", action="store_true", help="print the summary as JSON")
    sync.set_defaults(func=cmd_sync)


def _settings(args: argparse.Namespace) -> Any:
    from trustbridge.config import load_settings

    return load_settings(getattr(args, "config", None))


async def _with_sync(args: argparse.Namespace, job: Any) -> Any:
    from trustbridge.registry.sync_service import sync_of
    from trustbridge.services import build_services

    services = await build_services(_settings(args))
    try:
        return await job(sync_of(services))
    finally:
        await services.close()


def cmd_mirror(args: argparse.Namespace) -> int:
    async def job(component: Any) -> Any:
        component.allow(args.source)
        return await component.mirror.pull(args.source)

    try:
        result = asyncio.run(_with_sync(args, job))
    except TrustBridgeError as exc:
        print(f"mirror failed: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    data = result.to_json()
    if args.json:
        print(json.dumps(data, indent=2))
    elif result.status == "refused":
        print(f"refused at entry {data['to']}: {data['error']} ({data['code']})",
              file=sys.stderr)
    else:
        print(f"{result.status}: entries {data['from']} -> {data['to']}, "
              f"{data['batches']} batches applied, {data['duplicates']} already present")
    return 1 if result.status == "refused" else 0


class ProgressBar:
    """A one-line bar on a TTY; silent otherwise (logs and pipes stay clean)."""

    def __init__(self, stream: TextIO = sys.stderr, width: int = 30) -> None:
        self.stream = stream
        self.width = width
        self.enabled = stream.isatty()

    def __call__(self, done: int, total: int | None) -> None:
        if not self.enabled:
            return
        if not total:
            self.stream.write(f"\rlisting issuers… {done}")
        else:
            filled = int(self.width * done / total)
            self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] "
                              f"{done}/{total} issuers")
        self.stream.flush()

    def close(self) -> None:
        if self.enabled:
            self.stream.write("\n")
            self.stream.flush()


def cmd_sync(args: argparse.Namespace) -> int:
    bar = ProgressBar()

    async def job(component: Any) -> Any:
        component.allow(args.source)
        return await component.import_upstream(args.source, progress=bar)

    try:
        summary = asyncio.run(_with_sync(args, job))
    except TrustBridgeError as exc:
        bar.close()
        print(f"sync failed: {exc.message} ({exc.code})", file=sys.stderr)
        return 2
    bar.close()
    data = summary.to_json()
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(f"{data['source']}: {data['issuers_seen']} issuers seen, {data['added']} added, "
              f"{data['updated']} updated, {data['revoked']} revoked, "
              f"{data['unchanged']} unchanged, {len(data['refused'])} refused "
              f"({data['retries']} retries)")
        for refusal in data["refused"]:
            print(f"  refused {refusal['did']}: {refusal['reason']} ({refusal['code']})")
    return 1 if data["refused"] else 0


__all__ = ["ProgressBar", "add_sync_commands", "cmd_mirror", "cmd_sync"]
