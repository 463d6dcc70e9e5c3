"""Plug point: ``services.components["trust"]`` is the ``TrustService``; ``trust_of`` gets it.

``TrustService.decide`` asks every configured source concurrently (each bounded by a
timeout; a source that fails or times out answers ``unavailable``), then combines the
answers with the pure ``decision.decide``. When ``at`` is in the past (the credential's
issuance), the decision now is computed too and reported as ``since_then`` when it differs
(e.g. an accreditation withdrawn after issuance).

``check_issuer`` keeps the registry's contract (the verification pipeline calls it):
the decision, or ``FetchError`` when it is ``unknown``.

Published lists (LoTE, ETSI trusted lists) refresh on their own schedule (NextUpdate, else
hourly; checked every ``REFRESH_TICK`` seconds in the background and on every evaluation).
Cached verification results are keyed on ``epoch``, which folds in the digest of every list
in use, so a refresh that changes a list's content moves it; the first change noticed is
also announced as a ``registry.changed`` event (with no DIDs), which drops cached results
on every node at once. A refresh that yields the same bytes moves nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
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
REFRESH_TICK = 60.0  # seconds between due-checks of published lists (cheap when not due)

Announce = Callable[[], Awaitable[None]]


class TrustService:
    """The single trust decision point."""

    def __init__(self, sources: Sequence[TrustSource], *, clock: Clock,
                 policy: Policy | None = None, grace: timedelta = timedelta(days=1),
                 timeout: float = 8.0, registry: Any = None,
                 announce: Announce | None = None) -> None:
        names = [s.name for s in sources]
        if len(set(names)) != len(names):
            raise InputError("trust source names must be unique", code="trust.config_invalid")
        self.sources = tuple(sources)
        self.policy = policy if policy is not None else any_of(names)
        self.clock = clock
        self.grace = grace
        self.timeout = timeout
        self.registry = registry
        self.announce = announce
        self._digests: dict[str, str | None] = {}
        self._refresher: asyncio.Task[None] | None = None
        unknown = self.policy.names() - set(names)
        if unknown:
            log.warning("trust policy names unconfigured sources %s: they count as unavailable",
                        sorted(unknown))

    async def _ask(self, source: TrustSource, subject: TrustSubject) -> SourceAnswer:
        try:
            async with asyncio.timeout(self.timeout):  # wait_for would start a task per ask
                return await source.evaluate(subject)
        except TimeoutError:
            reason = f"no answer within {self.timeout} s"
        except Exception as exc:  # a failing source is "could not get data", never trusted
            log.exception("trust source %s failed", source.name)
            reason = f"failed: {type(exc).__name__}: {getattr(exc, 'message', exc)}"
        return SourceAnswer(source=source.name, status=SourceStatus.UNAVAILABLE,
                            code="trust.source_unavailable", reason=reason)

    async def answers(self, subject: TrustSubject) -> list[SourceAnswer]:
        """Every source's answer, in source order. Sources that may wait on I/O are asked
        concurrently; one of them alone, and the in-memory ones (``in_memory``), are awaited
        in place: a task each cost more than their answer (the default set-up is the
        registry plus the allow-list)."""
        waiting = [i for i, s in enumerate(self.sources) if not getattr(s, "in_memory", False)]
        found: dict[int, SourceAnswer] = {}
        if len(waiting) > 1:
            found = dict(zip(waiting, await asyncio.gather(
                *(self._ask(self.sources[i], subject) for i in waiting)), strict=True))
        return [found[i] if i in found else await self._ask(source, subject)
                for i, source in enumerate(self.sources)]

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
            # "Now" to the whole second (validity times are whole seconds): the registry's
            # cached answer for it then serves every verification in that second.
            current_at = now.replace(microsecond=0)
            current = decide(issuer, await self.answers(subject.model_copy(
                                 update={"at": current_at})),
                             self.policy, now=now, grace=self.grace)
            if (current.status, current.code) != (result.status, result.code):
                result = result.model_copy(update={"since_then": {
                    "at": current_at.isoformat(), "status": current.status, "code": current.code,
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

    async def epoch(self) -> int | str:
        """What verification results are cached on: the registry's epoch (which names its
        store), and, when published lists are configured, a digest of the lists in use
        (``"<epoch>+<digest>"``), so a content change of any list moves it."""
        getter = getattr(self.registry, "epoch", None)
        registry_epoch: int | str = await getter() if getter is not None else 0
        tag = await self._lists_tag()
        return registry_epoch if tag is None else f"{registry_epoch}+{tag}"

    async def refresh(self) -> None:
        """Reload every published list that is due; announce a content change."""
        for source in self.sources:
            refresh = getattr(source, "refresh", None)
            if refresh is not None:
                try:
                    await asyncio.wait_for(refresh(), self.timeout)
                except Exception:  # the list keeps its previous copy; try again next tick
                    log.warning("trust source %s: refresh failed", source.name, exc_info=True)
        await self._lists_tag()

    async def _lists_tag(self) -> str | None:
        """A short digest over the digests of the lists in use (``None`` without lists).

        A list whose digest moves from one copy to another is a content change: it is
        announced once (a first load is not a change, nothing was cached on that list)."""
        digests: dict[str, str | None] = {}
        listed = False
        for source in self.sources:
            of = getattr(source, "list_digests", None)
            if of is not None:
                listed = True
                digests.update({f"{source.name} {loc}": d for loc, d in of().items()})
        if not listed:
            return None
        changed = any(old is not None and digests.get(loc) not in (None, old)
                      for loc, old in self._digests.items())
        self._digests = digests
        if changed and self.announce is not None:
            try:
                await self.announce()
            except Exception:  # the epoch has moved anyway; the event only speeds things up
                log.warning("trust list change not announced", exc_info=True)
        text = json.dumps(sorted(digests.items()), separators=(",", ":"))
        return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]

    def start(self, interval: float = REFRESH_TICK) -> None:
        """Refresh due lists in the background even while every verification is answered
        from the result cache (evaluations refresh them too, but cache hits do not evaluate)."""
        if self._refresher is None and any(hasattr(s, "refresh") for s in self.sources):
            self._refresher = asyncio.get_running_loop().create_task(
                self._refresh_every(interval), name="trust-list-refresh")

    async def _refresh_every(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.refresh()
            except Exception:
                log.exception("trust list refresh failed")

    async def aclose(self) -> None:
        if self._refresher is not None:
            self._refresher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._refresher
            self._refresher = None


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
                        timeout=s.verify_fact_timeout_seconds, registry=registry,
                        announce=_announcer(services, registry))


def _announcer(services: Services, registry: Any) -> Announce:
    """Publish a ``registry.changed`` event with no DIDs (the registry's own invalidation
    path: every node's verifier drops its cached results and re-reads the epoch)."""
    async def announce() -> None:
        from trustbridge.registry.events import events_of

        try:
            events = events_of(services)  # attached after us, by registry.sync_service
        except RuntimeError:
            return  # no event bus: the epoch alone moves (within epoch_max_age_seconds)
        getter = getattr(registry, "epoch_number", None)
        await events.publish((), int(await getter()) if getter is not None else 0)

    return announce


async def attach(services: Services) -> None:
    trust = build_trust(services)
    trust.start()
    services.components[NAME] = trust


def trust_of(services: Services) -> TrustService:
    component = services.components.get(NAME)
    if not isinstance(component, TrustService):
        raise RuntimeError("the trust service is not attached")
    return component


def sources_summary(service: TrustService) -> list[Mapping[str, str]]:
    return [{"name": s.name, "kind": type(s).__name__} for s in service.sources]


__all__ = ["TrustService", "attach", "build_trust", "sources_from_file", "trust_of"]
