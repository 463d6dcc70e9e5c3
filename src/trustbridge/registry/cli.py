"""``trustbridge registry import FILE…|DIR | export [--jurisdiction] | show DID``.

``import`` reads trust-list files (format: registry/README.md), one transaction per
file (a bad file changes nothing), printing progress for large files on stderr.
``export`` writes a trust list of the current store to stdout; ``show`` prints a
record and its accreditations, and with ``--type``/``--schema`` the chain answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trustbridge.cli import subcommand
from trustbridge.config import load_settings
from trustbridge.errors import TrustBridgeError
from trustbridge.registry import jurisdiction as jur
from trustbridge.registry.model import parse_accreditation
from trustbridge.registry.seed import dump_trust_list, trust_list_files
from trustbridge.registry.service import TrustRegistry, import_trust_lists, registry_of
from trustbridge.services import Services, build_services

CHUNK = 1000  # show a progress line above this many issuers in a file


def _configure(p: argparse.ArgumentParser) -> None:
    sub = p.add_subparsers(dest="registry_command", required=True)
    imp = sub.add_parser("import", help="load trust-list files or directories")
    imp.add_argument("paths", nargs="+", type=Path)
    exp = sub.add_parser("export", help="write the registry as a trust list (JSON) to stdout")
    exp.add_argument("--jurisdiction", default=None,
                     help="only issuers of this country (ISO 3166 alpha-2, or EU)")
    show = sub.add_parser("show", help="print an issuer's record and accreditations")
    show.add_argument("did")
    show.add_argument("--type", action="append", default=[], help="credential type to check")
    show.add_argument("--schema", default=None, help="credentialSchema id to check")
    show.add_argument("--jurisdiction", default=None)
    from trustbridge.registry.sync_cli import add_sync_commands  # mirror, sync (issue 5)

    add_sync_commands(sub)


async def _with_registry(args: argparse.Namespace, job: Any) -> int:
    settings = load_settings(args.config, seed_registry=False)
    services: Services = await build_services(settings)
    try:
        result: int = await job(registry_of(services))
        return result
    except TrustBridgeError as exc:
        print(f"error: {exc.code}: {exc.message}", file=sys.stderr)
        return 2
    finally:
        await services.close()


async def _import(registry: TrustRegistry, paths: list[Path]) -> int:
    if not list(trust_list_files(paths)):
        print("no trust-list files found", file=sys.stderr)
        return 2

    def progress(name: str, done: int, total: int) -> None:
        if total > CHUNK:
            end = "\n" if done == total else ""
            print(f"\r{name}: {done}/{total} issuers", end=end, file=sys.stderr, flush=True)
        elif done == total:
            print(f"{name}: {total} issuers", file=sys.stderr)

    counts = await import_trust_lists(registry, paths, progress=progress)
    print(f"imported {counts['issuers']} issuers ({counts['attributes']} attributes) from "
          f"{counts['files']} file(s); registry epoch {await registry.epoch_number()}",
          file=sys.stderr)
    return 0


async def _export(registry: TrustRegistry, country: str | None) -> int:
    wanted = jur.normalise(country) if country else None
    after = 0
    records = []
    while True:
        page = await registry.store.list_issuers(after, 1000)
        if not page:
            break
        after = page[-1].seq
        chosen = [r.did for r in page if wanted is None or r.country == wanted]
        found = await registry.store.get_issuers(chosen)
        records += [found[d] for d in chosen if d in found]
    data = dump_trust_list(records, jurisdiction=wanted, anchors=sorted(registry.anchors))
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False)
    print()
    return 0


async def _show(registry: TrustRegistry, args: argparse.Namespace) -> int:
    record = await registry.store.get_issuer(args.did)
    if record is None:
        print(f"{args.did} is not registered", file=sys.stderr)
        return 1
    print(f"{record.did}\n  name:    {record.name}\n  country: {record.country}"
          + ("\n  REVOKED" if record.revoked else ""))
    for attr in record.attributes:
        print(f"  attribute {attr.id}  [{attr.issuer_type}]  tao={attr.tao}")
        try:
            acc = parse_accreditation(attr.body)
        except TrustBridgeError as exc:
            print(f"    unparseable: {exc.message}")
            continue
        print(f"    {acc.kind} by {acc.issuer}, {acc.valid_from} .. {acc.valid_until}")
        for g in acc.accredited_for:
            print(f"    accreditedFor {g.schema_id} {list(g.types)} "
                  f"{list(g.limit_jurisdiction) if g.limit_jurisdiction else 'unlimited'}")
    if args.type or args.schema:
        answer = await registry.evaluate(args.did, types=args.type, schema_id=args.schema,
                                         jurisdiction=args.jurisdiction, at=datetime.now(UTC))
        print(json.dumps(answer.model_dump(mode="json"), indent=2, ensure_ascii=False))
        return 0 if answer.accredited else 1
    return 0


@subcommand("registry", "import, export or show trusted-issuer records", _configure)
def cmd_registry(args: argparse.Namespace) -> int:
    if args.registry_command == "import":
        return asyncio.run(_with_registry(args, lambda r: _import(r, args.paths)))
    if args.registry_command == "export":
        return asyncio.run(_with_registry(args, lambda r: _export(r, args.jurisdiction)))
    return asyncio.run(_with_registry(args, lambda r: _show(r, args)))


__all__ = ["cmd_registry"]
