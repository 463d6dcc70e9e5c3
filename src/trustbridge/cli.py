"""``trustbridge serve | verify | registry …`` — the command line."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from trustbridge import __version__
from trustbridge.config import Settings, load_settings

Command = Callable[[argparse.Namespace], int]


class _JsonFormatter(logging.Formatter):
    """Access-log lines are already JSON; other records are wrapped as JSON."""

    def format(self, record: logging.LogRecord) -> str:
        import json

        msg = record.getMessage()
        if record.name == "trustbridge.access":
            return msg
        entry = {"level": record.levelname.lower(), "logger": record.name, "message": msg}
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(_JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    logging.getLogger("aiohttp.access").setLevel(logging.WARNING)


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {}
    if getattr(args, "host", None):
        overrides["host"] = args.host
    if getattr(args, "port", None):
        overrides["port"] = args.port
    return load_settings(args.config, **overrides)


def cmd_serve(args: argparse.Namespace) -> int:
    """Run the HTTP service until SIGTERM/SIGINT; in-flight requests get time to finish.

    ``--workers N`` (N > 1) runs a supervisor and N worker processes on the same address;
    see ``trustbridge.serve`` for what is done once, what is refused and how crashes and
    shutdown are handled."""
    from trustbridge.serve import ServeError, check_workers, serve_single, serve_workers

    configure_logging(args.log_level)
    settings = _settings(args)
    try:
        check_workers(settings, args.workers)
    except ServeError as exc:
        print(f"trustbridge serve: {exc}", file=sys.stderr, flush=True)
        return 2
    workers = f", {args.workers} workers" if args.workers > 1 else ""
    print(f"TrustBridge {__version__} listening on http://{settings.host}:{settings.port} "
          f"(store: {settings.effective_database_url().split(':', 1)[0]}, cache: "
          f"{'redis' if settings.redis_url else 'in-process'}{workers})", file=sys.stderr,
          flush=True)
    try:
        if args.workers == 1:
            serve_single(settings, shutdown_timeout=args.shutdown_timeout, loop=args.loop)
            return 0
        return serve_workers(settings, workers=args.workers,
                             shutdown_timeout=args.shutdown_timeout, loop=args.loop)
    except ServeError as exc:
        print(f"trustbridge serve: {exc}", file=sys.stderr, flush=True)
        return 2


SUBCOMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], None], Command]] = {}


def subcommand(name: str, help_text: str, configure: Callable[[argparse.ArgumentParser], None]
               ) -> Callable[[Command], Command]:
    """Feature packages register their CLI commands (``verify``, ``registry``…) here."""

    def register(fn: Command) -> Command:
        SUBCOMMANDS[name] = (help_text, configure, fn)
        return fn

    return register


def _load_feature_commands() -> None:
    from trustbridge.features import import_feature

    for module in ("trustbridge.verify.cli", "trustbridge.registry.cli"):
        import_feature(module)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="trustbridge", description=__doc__)
    parser.add_argument("--version", action="version", version=f"trustbridge {__version__}")
    parser.add_argument("--config", type=Path, default=None, help="TOML or JSON settings file")
    sub = parser.add_subparsers(dest="command", required=True)
    serve = sub.add_parser("serve", help="run the HTTP service")
    serve.add_argument("--host", default=None, help="bind address (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port (default 8080)")
    serve.add_argument("--config", type=Path, default=None, help="TOML or JSON settings file")
    serve.add_argument("--log-level", default="INFO")
    serve.add_argument("--shutdown-timeout", type=float, default=30.0,
                       help="seconds in-flight requests get after SIGTERM")
    serve.add_argument("--workers", type=int, default=os.environ.get("TRUSTBRIDGE_WORKERS", "1"),
                       help="worker processes sharing the address (default 1, or "
                            "TRUSTBRIDGE_WORKERS); more than 1 needs REDIS_URL")
    serve.add_argument("--loop", choices=("asyncio", "uvloop", "auto"),
                       default=os.environ.get("TRUSTBRIDGE_LOOP", "asyncio"),
                       help="event loop (default asyncio, or TRUSTBRIDGE_LOOP); auto = uvloop "
                            "when installed")
    serve.set_defaults(func=cmd_serve)
    _load_feature_commands()
    for name, (help_text, configure, fn) in SUBCOMMANDS.items():
        p = sub.add_parser(name, help=help_text)
        p.add_argument("--config", type=Path, default=None, help="TOML or JSON settings file")
        configure(p)
        p.set_defaults(func=fn)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    func: Command = args.func
    return func(args)


if __name__ == "__main__":
    # Run through the importable module so feature commands register on the same registry.
    from trustbridge.cli import main as _main

    sys.exit(_main())
