"""Plug point: ``services.components["trust"]`` is the ``TrustService``; ``trust_of`` gets it.

``TrustService.decide`` asks every configured source concurrently (each bounded by a
timeout; a source that fails or times out answers ``unavailable``), then combines the
answers with the pure ``decision.decide``. When ``at`` is in the past (the credential's
issuance), the decision now is computed too and reported as ``since_then`` when it differs
(e.g. an accreditation withdrawn after issuance).

``check_issuer`` keeps the registry's contract (the verification pipeline calls it):
the decision, or ``FetchError`` when it is ``unknown``.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from trustbridge.cache import Cache
from trustbridge.clock import Clock
from trustbridge.errors import FetchError, InputError
from trustbridge.fetch import SafeFetcher, fetcher_of
from trustbridge.services import Services
from trustbridge.trust.decision import Policy, TrustDecision, any_of, decide, parse_policy
from trustbridge.trust.interface import SourceAnswer, SourceStatus, TrustSource, TrustSubject
from trustbridge.trust.sources.allowlist import AllowListSource
from trustbridge.trust.sources.deqar import DeqarSource
from trustbridge.trust.sources.ebsi import EbsiRegistrySource
from trustbridge.trust.sources.etsi_tl import DEFAULT_SERVICE_TYPES, TrustedListSource
from trustbridge.trust.sources.lote import LoteSource
from trustbridge.trust.sources.trqp import TrqpSource

log = logging.getLogger(__name__)

NAME = "trust"
SINCE_THEN_MIN = timedelta(minutes=1)


class TrustService:
    """The single trust decision point."""

    def __init__(self, sources: Sequence[TrustSource], *, clock: Clock,
                 policy: Policy | None = None, grace: timedelta = timedelta(days=1),
                 timeout: float = 8.0, registry: Any = None) -> None:
        names = [s.name for s in sources]
        if len(set(names)) != len(names):
            raise InputError("trust source names must be unique", code="trust.config_invalid")
        self.sources = tuple(sources)
        self.policy = policy if policy is not None else any_of(names)
        self.clock = clock
        self.grace = grace
        self.timeout = timeout
        self.registry = registry
        unknown = self.policy.names() - set(names)
        if unknown:
            log.warning("trust policy names unconfigured sources %s: they count as unavailable",
                        sorted(unknown))

    async def _ask(self, source: TrustSource, subject: TrustSubject) -> SourceAnswer:
        try:
            return await asyncio.wait_for(source.evaluate(subject), self.timeout)
        except TimeoutError:
            reason = f"no answer within {self.timeout} s"
        except Exception as exc:  # a failing source is "could not get data", never trusted
            log.exception("trust source %s failed", source.name)
            reason = f"failed: {type(exc).__name__}: {getattr(exc, 'message', exc)}"
        return SourceAnswer(source=source.name, status=SourceStatus.UNAVAILABLE,
                            code="trust.source_unavailable", reason=reason)

    async def answers(self, subject: TrustSubject) -> list[SourceAnswer]:
        return list(await asyncio.gather(*(self._ask(s, subject) for s in self.sources)))

    async def decide(self, issuer: str, *, types: Sequence[str] = (),
                     schema_id: str | None = None, jurisdiction: str | None = None,
                     at: datetime | None = None, x5c: Sequence[bytes] = (),
                     terms_of_use: Any = None) -> TrustDecision:
        now = self.clock()
        when = at or now
        subject = TrustSubject(issuer=issuer, at=when, types=tuple(types), schema_id=schema_id,
                               jurisdiction=jurisdiction, x5c=tuple(x5c),
                               terms_of_use=terms_of_use)
        result = decide(issuer, await self.answers(subject), self.policy, now=now,
                        grace=self.grace)
        if now - when >= SINCE_THEN_MIN:
            current = decide(issuer, await self.answers(subject.model_copy(update={"at": now})),
                             self.policy, now=now, grace=self.grace)
            if (current.status, current.code) != (result.status, result.code):
                result = result.model_copy(update={"since_then": {
                    "at": now.isoformat(), "status": current.status, "code": current.code,
                    "reason": current.reason}})
        return result

    async def check_issuer(self, issuer_did: str, *, types: Sequence[str],
                           schema_id: str | None, jurisdiction: str | None, at: datetime,
                           terms_of_use: Any = None) -> TrustDecision:
        """The registry's contract, so the pipeline's issuer-trust check reads it unchanged."""
        result = await self.decide(issuer_did, types=types, schema_id=schema_id,
                                   jurisdiction=jurisdiction, at=at, terms_of_use=terms_of_use)
        if result.status == "unknown":
            raise FetchError(result.reason, code=result.code,
                             details={"evidence": [a.model_dump(mode="json")
                                                   for a in result.evidence]})
        return result

    async def epoch(self) -> int:
        """The registry's epoch (verification results are cached on it). List refreshes do
        not move it: cached results live at most ``result_cache_ttl_seconds``."""
        getter = getattr(self.registry, "epoch", None)
        return int(await getter()) if getter is not None else 0


def _paths(base: Path, values: Any) -> list[Path]:
    items = values if isinstance(values, list) else [values] if values else []
    return [p if p.is_absolute() else base / p for p in (Path(str(v)) for v in items)]


def _location(base: Path, value: str) -> str:
    if value.startswith(("https://", "http://")):
        return value
    path = Path(value)
    return str(path if path.is_absolute() else base / path)


def sources_from_file(path: Path, *, clock: Clock, fetcher: SafeFetcher | None,
                      cache: Cache | None = None) -> tuple[list[TrustSource], Path | None]:
    """The list sources described by ``trust_sources_file`` (docs/trust-sources.md), and
    an allow-list file it names."""
    from trustbridge.trust.sources.etsi_tl import load_certificates

    try:
        conf = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"trust sources file {path} unusable: {exc}",
                         code="trust.config_invalid") from exc
    base = path.parent
    out: list[TrustSource] = []
    for item in conf.get("lote", []):
        out.append(LoteSource(item.get("name", "lote"), _location(base, item["location"]),
                              clock=clock, fetcher=fetcher, sha256=item.get("sha256"),
                              service_types=item.get("service_types", ()), cache=cache))
    for item in conf.get("etsi_tl", []):
        certs = load_certificates(p.read_bytes() for p in _paths(base, item.get("lotl_certs")))
        lists = [(_location(base, entry["location"]),
                  load_certificates(p.read_bytes() for p in _paths(base, entry.get("certs"))))
                 for entry in item.get("lists", [])]
        out.append(TrustedListSource(
            item.get("name", "etsi_tl"), clock=clock, fetcher=fetcher,
            lotl=_location(base, item["lotl"]) if item.get("lotl") else None, lotl_certs=certs,
            lists=lists, service_types=item.get("service_types", DEFAULT_SERVICE_TYPES),
            cache=cache))
    for item in conf.get("deqar", []):
        out.append(DeqarSource.from_file(item.get("name", "deqar"),
                                         _paths(base, item["export"])[0],
                                         item.get("mapping", {}), loaded_at=clock()))
    for item in conf.get("trqp", []):
        out.append(TrqpSource(item.get("name", "trqp"), item["url"],
                              authority_id=item["authority_id"], fetcher=fetcher))
    allow = conf.get("allowlist_file")
    return out, (_paths(base, allow)[0] if allow else None)


def build_trust(services: Services) -> TrustService:
    s = services.settings
    sources: list[TrustSource] = []
    registry = services.components.get("registry")
    if registry is not None:
        sources.append(EbsiRegistrySource(registry))
    listed: list[TrustSource] = []
    allow_file = None
    if s.trust_sources_file is not None:
        listed, allow_file = sources_from_file(s.trust_sources_file,
                                               clock=lambda: services.clock(),
                                               fetcher=fetcher_of(services),
                                               cache=services.cache)
    sources.append(AllowListSource.from_settings(s.trust_allowlist, s.trust_denylist,
                                                 allow_file))
    sources.extend(listed)
    policy = parse_policy(s.trust_policy) if s.trust_policy else None
    return TrustService(sources, clock=lambda: services.clock(), policy=policy,
                        grace=timedelta(seconds=s.trust_stale_grace_seconds),
                        timeout=s.verify_fact_timeout_seconds, registry=registry)


async def attach(services: Services) -> None:
    services.components[NAME] = build_trust(services)


def trust_of(services: Services) -> TrustService:
    component = services.components.get(NAME)
    if not isinstance(component, TrustService):
        raise RuntimeError("the trust service is not attached")
    return component


def sources_summary(service: TrustService) -> list[Mapping[str, str]]:
    return [{"name": s.name, "kind": type(s).__name__} for s in service.sources]


__all__ = ["TrustService", "attach", "build_trust", "sources_from_file", "trust_of"]
