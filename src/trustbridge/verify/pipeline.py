"""The verification pipeline: parse, gather every fact concurrently (each with a timeout),
run the pure checks, fold them into a ``VerificationReport``.

Nothing here raises for a bad presentation or credential: unparseable input is a
failed ``structure`` check, an unfetchable fact an ``error`` check. Only a
request that names nothing to verify raises ``InputError``.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import secrets
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from trustbridge.clock import Clock, system_clock
from trustbridge.errors import InputError, TrustBridgeError
from trustbridge.formats.base import (
    CREDENTIAL_PROOF,
    PRESENTATION_PROOF,
    CredentialFormat,
    ParsedCredential,
    ParsedPresentation,
    RawInput,
    StatusEntry,
    pick_format,
)
from trustbridge.formats.jwt_vc import JwtVcFormat
from trustbridge.model.report import (
    CheckResult,
    CheckStatus,
    CredentialReport,
    VerificationReport,
    combine,
    verdict_of,
)
from trustbridge.runtime.epoch_memo import EpochMemo
from trustbridge.status.bitstring import StatusListError
from trustbridge.status.fetcher import RawStatusList, StatusListFetcher
from trustbridge.status.statuslist import parse_status_list
from trustbridge.status.token_status_list import ENTRY_TYPE as TOKEN_ENTRY_TYPE
from trustbridge.status.token_status_list import (
    TOKEN_TYP,
    TokenStatusList,
    parse_status_list_token,
)
from trustbridge.verify import checks
from trustbridge.verify.facts import (
    CredentialFacts,
    SchemaFact,
    StatusFact,
    TrustFact,
    Unavailable,
)
from trustbridge.verify.policy import Policy
from trustbridge.verify.result_cache import (
    CachedReport,
    ResultCache,
    request_key,
    result_key,
    result_ttl,
)
from trustbridge.verify.schemas import SchemaStore
from trustbridge.verify.summary import summary_of

log = logging.getLogger(__name__)

T = TypeVar("T")

MicrocredEvaluator = Callable[..., Any]


@dataclass(frozen=True)
class VerificationInput:
    """What to verify and what the caller expects. Exactly one of presentation/credential."""

    presentation: str | Mapping[str, Any] | None = None
    credential: str | Mapping[str, Any] | None = None
    nonce: str | None = None
    audience: str | None = None
    at: datetime | None = None
    policy: Policy = field(default_factory=Policy)

    def __post_init__(self) -> None:
        if (self.presentation is None) == (self.credential is None):
            raise InputError("give exactly one of presentation or credential",
                             code="request.nothing_to_verify")


@dataclass
class VerifierConfig:
    """Limits and knobs from ``Settings`` that the pipeline needs."""

    fact_timeout_seconds: float = 8.0
    presentation_max_age_seconds: int = 900
    status_allowed_issuers: frozenset[str] = frozenset()
    epoch_max_age_seconds: float = 1.0
    """How long the registry epoch read for result-cache keys is reused. Changes made by
    this process are seen at once (``registry_changed``); changes made by another worker
    or node sharing the database, within this many seconds."""
    result_scope: str = ""
    """A digest of this node's settings that change reports (trust policy, anchors, allowed
    algorithms, limits) and of the software version, put into every result-cache key:
    nodes configured differently, or running different releases, share a Redis without
    serving each other's reports (``verify.service.result_scope``)."""


async def _bounded(coro: Awaitable[T], seconds: float) -> T:
    # asyncio.timeout, not wait_for: same TimeoutError, without a task per bounded step
    async with asyncio.timeout(seconds):
        return await coro


class Verifier:
    """Runs steps 1-10 over a presentation or a single credential and reports."""

    def __init__(
        self,
        *,
        formats: Sequence[CredentialFormat],
        resolver: Any,
        registry: Any = None,
        status_lists: StatusListFetcher | None = None,
        schemas: SchemaStore | None = None,
        result_cache: ResultCache | None = None,
        microcredential: MicrocredEvaluator | None = None,
        clock: Clock = system_clock,
        config: VerifierConfig | None = None,
    ) -> None:
        self.formats = list(formats)
        self.resolver = resolver
        self.registry = registry
        self.status_lists = status_lists
        self.schemas = schemas
        self.result_cache = result_cache
        self.microcredential = microcredential
        self.clock = clock
        self.config = config or VerifierConfig()
        self.seen_epoch = 0
        self.epoch_memo: EpochMemo[int | str] = EpochMemo(
            self._read_epoch, lambda: self.config.epoch_max_age_seconds)
        self._subscribe: Callable[[Verifier], bool] | None = None
        self._instance = secrets.token_hex(8)

    def subscribe_with(self, subscribe: Callable[[Verifier], bool]) -> None:
        """Register a hook that subscribes ``registry_changed`` to registry events; it is
        retried on each verification until it returns True (the event bus may attach later)."""
        self._subscribe = subscribe

    async def registry_changed(self, event: Any) -> None:
        """A ``registry.changed`` event: remember its epoch and drop every cached result.

        The epoch is part of the result key, so stale answers could not be hit anyway;
        dropping them frees the cache at once (events are hints; nothing else is trusted)."""
        epoch = getattr(event, "epoch", None)
        if isinstance(epoch, int):
            self.seen_epoch = max(self.seen_epoch, epoch)
        self.epoch_memo.forget()
        if self.result_cache is not None:
            await self.result_cache.clear()

    # -- entry point ----------------------------------------------------------------------

    def _caching(self) -> ResultCache | None:
        # A node configured not to cache (max TTL 0) neither stores nor reads results: no
        # epoch read and no key digest per request (and never another node's answer).
        cache = self.result_cache
        return cache if cache is not None and cache.max_ttl > 0 else None

    @property
    def caches_results(self) -> bool:
        """Whether reports are cached here (so a request digest is worth computing)."""
        return self._caching() is not None

    def _before_run(self) -> None:
        if self._subscribe is not None and self._subscribe(self):
            self._subscribe = None

    async def cached_request(self, digest: str) -> CachedReport | None:
        """The rendered report for an exact request seen before (see ``request_digest``):
        the HTTP edge answers a repeat without parsing it."""
        cache = self._caching()
        if cache is None:
            return None
        self._before_run()
        return await cache.get_rendered(request_key(digest, epoch=await self._key_epoch()))

    async def verify(self, inp: VerificationInput, *, request_digest: str | None = None
                     ) -> VerificationReport:
        """The report for ``inp``; served from the result cache when an identical one is fresh.

        ``request_digest`` names the exact request ``inp`` was read from; when given, the
        result is cached under it (the edge has already looked it up)."""
        policy = inp.policy
        policy.announce()
        self._before_run()
        now = self.clock()
        at = inp.at or now
        key: str | None = None
        cache = self._caching()
        if cache is not None:
            epoch = await self._key_epoch()
            if request_digest is not None:
                key = request_key(request_digest, epoch=epoch)
            else:
                key = result_key(presentation=inp.presentation, credential=inp.credential,
                                 nonce=inp.nonce, audience=inp.audience,
                                 policy=policy.cache_key(), at=inp.at, epoch=epoch)
                hit = await cache.get(key)
                if hit is not None:
                    return hit
        run = _Run(self, inp, at)
        report = await run.execute()
        if cache is not None and key is not None:
            ttl = result_ttl(now=now, max_ttl=cache.max_ttl,
                             earliest_expiry=run.earliest_expiry(),
                             status_ttls=run.status_ttls)
            await cache.put(key, report, ttl)
        return report

    async def _key_epoch(self) -> str:
        """What result keys carry besides the request: this node's scope and the epoch."""
        return f"{self.config.result_scope}/{await self.epoch_memo.get()}"

    async def _read_epoch(self) -> int | str:
        """The registry epoch (0 when the registry does not expose one), for result keys;
        ``epoch_memo`` reuses it for ``epoch_max_age_seconds``."""
        getter = getattr(self.registry, "epoch", None)
        if getter is None:
            return self.seen_epoch
        try:
            value = getter()
            if asyncio.iscoroutine(value):
                value = await value
        except Exception:  # an unreachable registry must not break caching
            log.warning("registry epoch unavailable; result cache keyed on event epoch")
            value = None
        if not isinstance(value, int | str):
            # Events come from every registry sharing the cache: keyed on them alone, a
            # report is this process's own (it does not know which store it came from).
            return f"~{self._instance}:{self.seen_epoch}"
        return f"{value}:{self.seen_epoch}"

    def format_for(self, obj: RawInput) -> CredentialFormat:
        return pick_format(obj, self.formats)


def _proof_crashed(check: str, exc: Exception) -> CheckResult:
    """A proof check that raised: a ``TrustBridgeError`` keeps its code; anything else is a
    format bug, logged, and must not turn hostile input into a 500 (or a "valid")."""
    if isinstance(exc, TrustBridgeError):
        return CheckResult.error(check, exc.code, exc.message)
    log.exception("proof check crashed")
    return CheckResult.error(check, "proof.unexpected_error",
                             f"the proof check failed unexpectedly: {type(exc).__name__}")


class _Run:
    """One verification: parsed inputs, fetched facts, results."""

    def __init__(self, verifier: Verifier, inp: VerificationInput, at: datetime) -> None:
        self.v = verifier
        self.inp = inp
        self.policy = inp.policy
        self.at = at
        self.credentials: list[ParsedCredential | CheckResult] = []
        self.status_ttls: list[float] = []
        self._list_tasks: dict[tuple[str, bool],
                               asyncio.Task[tuple[Any, CheckResult | None]]] = {}

    def earliest_expiry(self) -> datetime | None:
        ends = [c.validity.not_after for c in self.credentials
                if isinstance(c, ParsedCredential) and c.validity.not_after is not None]
        return min(ends) if ends else None

    async def execute(self) -> VerificationReport:
        top: list[CheckResult] = []
        pp: ParsedPresentation | None = None
        pp_format: CredentialFormat | None = None
        raws: Sequence[RawInput]
        if self.inp.presentation is not None:
            try:
                pp_format = self.v.format_for(self.inp.presentation)
                pp = pp_format.parse_presentation(self.inp.presentation)
            except InputError as exc:
                check = CheckResult.failed(checks.STRUCTURE, exc.code, exc.message)
                return self._report([check], [], holder=None)
            except Exception as exc:  # a parser bug: say so, never crash, never "valid"
                log.exception("presentation parser crashed")
                check = CheckResult.error(checks.STRUCTURE, "format.unexpected_error",
                                          f"the presentation could not be parsed: "
                                          f"{type(exc).__name__}")
                return self._report([check], [], holder=None)
            top.append(checks.check_presentation_structure(pp))
            raws = pp.credentials[: checks.MAX_CREDENTIALS_PER_PRESENTATION]
        else:
            assert self.inp.credential is not None
            raws = [self.inp.credential]
        for raw in raws:
            self.credentials.append(self._parse_credential(raw))

        # Facts: proofs (DID resolution) and per-credential facts, all at once. A proof whose
        # key is already in memory is checked on the spot (no task, timer or loop turn).
        limit = self.v.config.fact_timeout_seconds
        resolver = self.v.resolver
        vp_proof: CheckResult | Awaitable[CheckResult] | None = None
        if pp is not None and pp_format is not None:
            vp_proof = self._proof_now(PRESENTATION_PROOF, pp_format, pp) or self._timed_proof(
                PRESENTATION_PROOF,
                pp_format.check_presentation_proof(pp, resolver, challenge=self.inp.nonce,
                                                   domain=self.inp.audience, at=self.at),
                limit)
        parsed = [c for c in self.credentials if isinstance(c, ParsedCredential)]
        proofs: list[CheckResult | Awaitable[CheckResult]] = []
        for c in parsed:
            fmt = self.v.format_for(c.raw)
            proofs.append(self._proof_now(CREDENTIAL_PROOF, fmt, c) or self._timed_proof(
                CREDENTIAL_PROOF, fmt.check_credential_proof(c, resolver, at=self.at), limit))
        if vp_proof is not None:
            proofs.append(vp_proof)
        # One flat gather (each awaitable becomes one task); a policy that needs no facts
        # (no status, schema or registry) gets its empty facts without a task each.
        needs_facts = (self.policy.check_status or self.policy.check_schema
                       or self.policy.require_accredited_issuer)
        steps: list[Awaitable[Any]] = [p for p in proofs if not isinstance(p, CheckResult)]
        if needs_facts:
            steps += [self._facts_for(c) for c in parsed]
        done = iter(await asyncio.gather(*steps) if steps else ())
        proof_results = [p if isinstance(p, CheckResult) else next(done) for p in proofs]
        count = len(parsed)
        cred_proofs: list[CheckResult] = proof_results[:count]
        cred_facts: list[CredentialFacts] = (
            list(done) if needs_facts
            else [CredentialFacts(status=(), schemas=(), trust=None)] * count)
        vp_proof_result: CheckResult | None = proof_results[-1] if vp_proof is not None else None

        # Presentation-level checks (steps 2 and 4).
        if pp is not None and vp_proof_result is not None:
            top.append(vp_proof_result)
            top.append(checks.check_replay(
                pp, expected_nonce=self.inp.nonce, expected_audience=self.inp.audience,
                at=self.at, max_age_seconds=self.v.config.presentation_max_age_seconds,
                skew_seconds=self.policy.clock_skew_seconds))
        else:
            top.append(checks.skipped_for_single_credential(PRESENTATION_PROOF))
            top.append(checks.skipped_for_single_credential(checks.REPLAY))

        signer_jwk = (vp_proof_result.details.get("signer_jwk")
                      if vp_proof_result is not None else None)
        reports: list[CredentialReport] = []
        parsed_iter = iter(zip(parsed, cred_proofs, cred_facts, strict=True))
        for item in self.credentials:
            if isinstance(item, CheckResult):
                reports.append(CredentialReport(verdict=verdict_of([item]), checks=[item]))
                continue
            pc, proof, facts = next(parsed_iter)
            reports.append(self._credential_report(pc, proof, facts, pp, signer_jwk))
        return self._report(top, reports, holder=pp.holder if pp else None)

    def _report(self, top: list[CheckResult], creds: list[CredentialReport], *,
                holder: str | None) -> VerificationReport:
        verdict = combine([verdict_of(top), *(c.verdict for c in creds)])
        return VerificationReport(verdict=verdict, checks=top, credentials=creds, holder=holder,
                                  cached=False, checked_at=self.v.clock())

    def _parse_credential(self, raw: RawInput) -> ParsedCredential | CheckResult:
        try:
            return self.v.format_for(raw).parse_credential(raw)
        except InputError as exc:
            return CheckResult.failed(checks.STRUCTURE, exc.code, exc.message)
        except Exception as exc:  # a parser bug: say so, never crash, never "valid"
            log.exception("credential parser crashed")
            return CheckResult.error(checks.STRUCTURE, "format.unexpected_error",
                                     f"the credential could not be parsed: {type(exc).__name__}")

    def _proof_now(self, check: str, fmt: CredentialFormat,
                   parsed: ParsedCredential | ParsedPresentation) -> CheckResult | None:
        """The proof check without awaiting, when the format offers it (``*_proof_now``) and
        needs no I/O for it; None means: await the full check."""
        now = getattr(fmt, "presentation_proof_now" if check == PRESENTATION_PROOF
                      else "credential_proof_now", None)
        if now is None:
            return None
        try:
            result: CheckResult | None = now(parsed, self.v.resolver)
        except Exception as exc:
            return _proof_crashed(check, exc)
        return result

    async def _timed_proof(self, check: str, coro: Awaitable[CheckResult], limit: float
                           ) -> CheckResult:
        try:
            return await _bounded(coro, limit)
        except TimeoutError:
            return CheckResult.error(check, "did.timeout",
                                     f"resolving the signer's key took longer than {limit} s")
        except Exception as exc:
            return _proof_crashed(check, exc)

    # -- per-credential checks ------------------------------------------------------------

    def _credential_report(self, pc: ParsedCredential, proof: CheckResult,
                           facts: CredentialFacts, pp: ParsedPresentation | None,
                           signer_jwk: Any) -> CredentialReport:
        policy = self.policy
        results = [checks.check_credential_structure(pc), proof]
        if pp is not None:
            results.append(checks.check_holder_binding(
                pp, pc, required=policy.require_holder_binding,
                signer_jwk=signer_jwk if isinstance(signer_jwk, Mapping) else None))
        else:
            results.append(checks.skipped_for_single_credential(checks.HOLDER_BINDING))
        results.append(checks.check_validity(pc, at=self.at,
                                             skew_seconds=policy.clock_skew_seconds))
        results.append(checks.check_status(
            pc, facts.status, enabled=policy.check_status, at=self.at,
            allowed_list_issuers=self.v.config.status_allowed_issuers))
        results.append(checks.check_schema(pc, facts.schemas, enabled=policy.check_schema))
        results.append(checks.check_issuer_trust(pc, facts.trust,
                                                 required=policy.require_accredited_issuer))
        micro_summary: Mapping[str, Any] | None = None
        micro = self._microcredential(pc)
        if micro is not None:
            results.append(micro[0])
            micro_summary = micro[1]
        summary = summary_of(pc, facts.trust.answer if facts.trust else None, micro_summary)
        return CredentialReport(verdict=verdict_of(results), checks=results, summary=summary)

    def _microcredential(self, pc: ParsedCredential
                         ) -> tuple[CheckResult, Mapping[str, Any] | None] | None:
        """Step 10, through ``trustbridge.microcred`` when it is installed."""
        required = self.policy.require_microcredential_profile
        if self.v.microcredential is None:
            if not required:
                return None
            return (CheckResult.error(checks.MICROCREDENTIAL, "microcredential.unavailable",
                                      "the micro-credential profile checker is not installed"),
                    None)
        try:
            result = self.v.microcredential(pc.credential, required=required)
        except Exception as exc:  # a bug there must not crash verification
            log.exception("micro-credential evaluation failed")
            return (CheckResult.error(checks.MICROCREDENTIAL, "microcredential.error",
                                      f"micro-credential evaluation failed: {type(exc).__name__}"),
                    None)
        check = getattr(result, "check", None)
        summary = getattr(result, "summary", None)
        if not isinstance(check, CheckResult):
            return None
        return check, summary if isinstance(summary, Mapping) else None

    # -- facts ----------------------------------------------------------------------------

    async def _facts_for(self, pc: ParsedCredential) -> CredentialFacts:
        policy = self.policy
        limit = self.v.config.fact_timeout_seconds
        status_coros = ([self._status_fact(e, limit) for e in pc.status_entries]
                        if policy.check_status else [])
        schema_coros = ([self._schema_fact(pc, i, limit) for i in range(len(pc.schemas))]
                        if policy.check_schema else [])
        trust_coro = [self._trust_fact(pc, limit)] if policy.require_accredited_issuer else []
        coros: list[Awaitable[Any]] = [*status_coros, *schema_coros, *trust_coro]
        if not coros:
            return CredentialFacts(status=(), schemas=(), trust=None)
        # One flat gather; a single fact is awaited without a task.
        done = [await coros[0]] if len(coros) == 1 else await asyncio.gather(*coros)
        count = len(status_coros)
        return CredentialFacts(status=tuple(done[:count]),
                               schemas=tuple(done[count:count + len(schema_coros)]),
                               trust=done[-1] if trust_coro else None)

    async def _trust_fact(self, pc: ParsedCredential, limit: float) -> TrustFact:
        registry = self.v.registry
        if registry is None or not hasattr(registry, "check_issuer"):
            return TrustFact(unavailable=Unavailable(
                "issuer.registry_unavailable", "no trust registry is configured"))
        if not pc.issuer:
            return TrustFact(unavailable=Unavailable("issuer.registry_unavailable",
                                                     "the credential names no issuer"))
        v = pc.validity
        issued = v.issuance_date or v.valid_from or v.jwt_nbf or v.jwt_iat or self.at
        terms = pc.credential.get("termsOfUse")
        try:
            answer = await _bounded(registry.check_issuer(
                pc.issuer, types=list(pc.types),
                schema_id=pc.schema_ids[0] if pc.schema_ids else None,
                jurisdiction=None, at=issued, terms_of_use=terms), limit)
        except TimeoutError:
            return TrustFact(unavailable=Unavailable("issuer.registry_timeout",
                                                     f"the trust registry took over {limit} s"))
        except TrustBridgeError as exc:
            return TrustFact(unavailable=Unavailable("issuer.registry_unavailable", exc.message,
                                                     {"cause": exc.code}))
        except Exception as exc:  # the registry failing is "could not get data"
            log.exception("trust registry query failed")
            return TrustFact(unavailable=Unavailable(
                "issuer.registry_unavailable", f"the trust registry failed: {type(exc).__name__}"))
        return TrustFact(answer=answer)

    async def _schema_fact(self, pc: ParsedCredential, index: int, limit: float
                           ) -> SchemaFact:
        ref = pc.schemas[index]
        if ref.type not in checks.SCHEMA_TYPES:
            return SchemaFact(ref=ref)  # the check reports the unsupported type
        if self.v.schemas is None:
            return SchemaFact(ref=ref, unavailable=Unavailable("schema.unavailable",
                                                               "no schema store is configured"))
        try:
            schema, registry = await _bounded(self.v.schemas.load(ref.id), limit)
        except TimeoutError:
            return SchemaFact(ref=ref, unavailable=Unavailable(
                "schema.timeout", f"fetching the schema took longer than {limit} s"))
        except TrustBridgeError as exc:
            return SchemaFact(ref=ref, unavailable=Unavailable(
                exc.code if exc.code.startswith("schema.") else "schema.unavailable",
                exc.message))
        except Exception as exc:
            log.exception("schema load failed")
            return SchemaFact(ref=ref, unavailable=Unavailable(
                "schema.unavailable", f"the schema could not be loaded: {type(exc).__name__}"))
        return SchemaFact(ref=ref, schema=schema, registry=registry)

    async def _status_fact(self, entry: StatusEntry, limit: float) -> StatusFact:
        url = entry.list_credential
        if url is None:
            return StatusFact(entry=entry, problem=CheckResult.failed(
                checks.STATUS, "status.entry_malformed",
                "credentialStatus has no statusListCredential"))
        token = entry.type == TOKEN_ENTRY_TYPE
        task = self._list_tasks.get((url, token))
        if task is None:
            task = asyncio.ensure_future(self._load_list(url, limit, token=token))
            self._list_tasks[(url, token)] = task
        status_list, problem = await asyncio.shield(task)
        if problem is not None:
            return StatusFact(entry=entry, problem=problem)
        return StatusFact(entry=entry, status_list=status_list)

    async def _load_list(self, url: str, limit: float, *, token: bool
                         ) -> tuple[Any, CheckResult | None]:
        """Fetch, parse, signature-check and decode one status list (once per URL per run)."""
        fetcher = self.v.status_lists
        if fetcher is None:
            return None, CheckResult.error(checks.STATUS, "status.fetcher_unavailable",
                                           "status lists cannot be fetched here", list=url)
        try:
            raw = await _bounded(fetcher.fetch_list(url), limit)
        except TimeoutError:
            return None, CheckResult.error(checks.STATUS, "status.list_timeout",
                                           f"the status list took over {limit} s", list=url)
        except TrustBridgeError as exc:
            return None, CheckResult.error(checks.STATUS, "status.list_unavailable",
                                           f"the status list could not be fetched: "
                                           f"{exc.message}", list=url, cause=exc.code)
        except Exception as exc:
            log.exception("status list fetch failed")
            return None, CheckResult.error(checks.STATUS, "status.list_unavailable",
                                           f"the status list could not be fetched: "
                                           f"{type(exc).__name__}", list=url)
        verify = self._verify_token_list if token else self._verify_list
        problem, status_list = await verify(raw, limit)
        if problem is not None:
            await fetcher.forget(url)
            return None, problem
        assert status_list is not None
        ttl = status_list.ttl_seconds
        until = (status_list.expires if isinstance(status_list, TokenStatusList)
                 else status_list.valid_until)
        if until is not None:
            left = (until - self.v.clock()).total_seconds()
            ttl = min(ttl, left) if ttl is not None else left
        self.status_ttls.append(await fetcher.retain(raw, ttl))
        return status_list, None

    async def _verify_list(self, raw: RawStatusList, limit: float
                           ) -> tuple[CheckResult | None, Any]:
        where = {"list": raw.url}
        text = raw.body.decode("utf-8", "replace").strip()
        doc: RawInput = text
        if text.startswith("{"):
            try:
                loaded = json.loads(text)
            except ValueError:
                loaded = None
            if not isinstance(loaded, dict):
                return CheckResult.error(checks.STATUS, "status.list_malformed",
                                         "the status list is not JSON", **where), None
            doc = loaded
        elif text.startswith('"'):
            with contextlib.suppress(ValueError):
                doc = str(json.loads(text))
        try:
            fmt = self.v.format_for(doc)
            list_cred = fmt.parse_credential(doc)
        except InputError as exc:
            return CheckResult.error(checks.STATUS, "status.list_malformed",
                                     f"the status list credential cannot be parsed: "
                                     f"{exc.message}", **where), None
        except Exception as exc:
            log.exception("status list parser crashed")
            return CheckResult.error(checks.STATUS, "status.list_malformed",
                                     f"the status list credential cannot be parsed: "
                                     f"{type(exc).__name__}", **where), None
        proof = await self._timed_proof(
            CREDENTIAL_PROOF, fmt.check_credential_proof(list_cred, self.v.resolver, at=self.at),
            limit)
        if proof.status != CheckStatus.PASSED:
            return CheckResult.error(checks.STATUS, "status.list_signature_invalid",
                                     "the status list's signature could not be verified, so "
                                     "the current status is unknown", cause=proof.code,
                                     **where), None
        try:
            return None, parse_status_list(list_cred.credential, url=raw.url)
        except StatusListError as exc:
            return CheckResult.error(checks.STATUS, exc.code, str(exc), **where), None

    async def _verify_token_list(self, raw: RawStatusList, limit: float
                                 ) -> tuple[CheckResult | None, Any]:
        """An IETF Status List Token (``statuslist+jwt``), signed by a DID key of its ``iss``."""
        where = {"list": raw.url}
        signer = next((f for f in self.v.formats if isinstance(f, JwtVcFormat)), None)
        if signer is None:
            return CheckResult.error(checks.STATUS, "status.list_malformed",
                                     "no JWT format installed to check the token", **where), None
        try:
            proof, header, payload = await _bounded(signer.check_signed_jwt(
                raw.body.decode("ascii", "replace"), self.v.resolver, check=CREDENTIAL_PROOF,
                typs=frozenset({TOKEN_TYP})), limit)
        except TimeoutError:
            return CheckResult.error(checks.STATUS, "status.list_timeout",
                                     "checking the status list token timed out", **where), None
        if proof.status != CheckStatus.PASSED:
            return CheckResult.error(checks.STATUS, "status.list_signature_invalid",
                                     "the status list token's signature could not be verified, "
                                     "so the current status is unknown", cause=proof.code,
                                     **where), None
        try:
            return None, parse_status_list_token(header, payload, uri=raw.url)
        except StatusListError as exc:
            return CheckResult.error(checks.STATUS, exc.code, str(exc), **where), None


__all__ = ["VerificationInput", "Verifier", "VerifierConfig"]
