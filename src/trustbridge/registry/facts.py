"""Fact gathering for ``registry.chain``: the records on the candidate chains and a
signature verdict for each of their accreditations. All the I/O of an evaluation is here.

Signature verification of one accreditation JWT (``SignatureVerifier``):

1. parse the compact JWS;
2. its ``kid`` must be a key of the accreditation's issuer DID (a relative ``#frag`` is
   taken as relative to that DID) -- a key of another DID never counts;
3. dereference the ``kid`` through the DID resolver with relationship ``assertionMethod``;
4. verify with the algorithm allow-list.

A resolver failure marked ``transient`` (network, timeout) gives a transient verdict:
the chain answer is then indeterminate, never accredited.
"""

from __future__ import annotations

import asyncio
import functools
from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from trustbridge.crypto import jws as _jws
from trustbridge.crypto.jwk import PublicKey
from trustbridge.did.interface import DIDError
from trustbridge.errors import InputError
from trustbridge.registry import signature_pool
from trustbridge.registry.chain import DEFAULT_MAX_DEPTH, SignatureVerdict
from trustbridge.registry.model import IssuerRecord, parse_accreditation
from trustbridge.registry.signed import SELF_CERTIFYING, KeyMemo, bind_kid
from trustbridge.runtime.outcome import discard_outcome

_MEMO_SIZE = 10_000


class SignatureVerifier(Protocol):
    async def verify(self, jwt: str, issuer_did: str) -> SignatureVerdict: ...


class RecordSource(Protocol):
    async def get_issuers(self, dids: Iterable[str]) -> dict[str, IssuerRecord]: ...


class ResolverSignatureVerifier:
    """Verifies accreditation JWTs with keys from the DID resolver (steps 1-4 above)."""

    def __init__(self, resolver: Any, *, allowed_algs: Iterable[str] | None = None) -> None:
        self.keys = KeyMemo(resolver)  # self-certifying keys dereferenced once
        self.resolver = self.keys.resolver
        self.allowed_algs = frozenset(allowed_algs or _jws.DEFAULT_ALGS)
        self._memo: OrderedDict[tuple[str, str], SignatureVerdict] = OrderedDict()

    def remembered(self, jwt: str, issuer_did: str) -> SignatureVerdict | None:
        """The memoised verdict over exactly these bytes, if any (no I/O)."""
        memo_key = (jwt, issuer_did)
        hit = self._memo.get(memo_key)
        if hit is not None:
            self._memo.move_to_end(memo_key)
        return hit

    async def verify(self, jwt: str, issuer_did: str) -> SignatureVerdict:
        hit = self.remembered(jwt, issuer_did)
        if hit is not None:
            return hit
        prepared = await self._prepare(jwt, issuer_did)
        if isinstance(prepared, SignatureVerdict):
            return self._remember(jwt, issuer_did, prepared)
        jws, key, kid = prepared
        # 4. verify
        try:
            _jws.verify_jws(jws, key, allowed_algs=self.allowed_algs)
        except (_jws.SignatureError, InputError, ValueError) as exc:
            return self._remember(jwt, issuer_did, _refused(kid, str(exc)))
        return self._remember(jwt, issuer_did, _verified(kid))

    async def verify_many(self, jobs: Iterable[tuple[str, str]]
                          ) -> dict[tuple[str, str], SignatureVerdict]:
        """``verify`` for many ``(jwt, issuer_did)`` at once (a sync batch): steps 1-3 here,
        step 4 in worker processes when there are many (``registry.signature_pool``)."""
        out: dict[tuple[str, str], SignatureVerdict] = {}
        todo: list[tuple[tuple[str, str], _jws.CompactJWS, PublicKey, str]] = []
        for job in dict.fromkeys(jobs):
            hit = self.remembered(*job)
            if hit is not None:
                out[job] = hit
                continue
            prepared = await self._prepare(*job)
            if isinstance(prepared, SignatureVerdict):
                out[job] = self._remember(*job, prepared)
            else:
                todo.append((job, *prepared))
        answers = await signature_pool.verify_many([(jws, key) for _, jws, key, _ in todo],
                                                   self.allowed_algs)
        for (job, _, _, kid), refusal in zip(todo, answers, strict=True):
            out[job] = self._remember(*job, _verified(kid) if refusal is None
                                      else _refused(kid, refusal))
        return out

    async def start_many(self, jobs: Iterable[tuple[str, str]]) -> SignaturesAhead | None:
        """``verify_many`` of the ``jobs`` whose issuer DID is self-certifying (its key is a
        pure function of the kid), begun now: steps 1-3 here, step 4 handed to the worker
        processes a ``CHUNK`` at a time, for the caller to do other work while they verify.
        ``None`` where ``verify_many`` would not use the workers for them (fewer than
        ``MIN_PARALLEL`` not remembered, no pool): they are verified when asked, as before.
        Other DIDs' keys are resolved when their accreditation is checked, as before."""
        unique = [job for job in dict.fromkeys(jobs) if job[1].startswith(SELF_CERTIFYING)]
        if not signature_pool.parallel(sum(job not in self._memo for job in unique)):
            return None
        ahead = SignaturesAhead()
        todo: list[tuple[tuple[str, str], _jws.CompactJWS, PublicKey, str]] = []
        try:
            for n, job in enumerate(unique):
                hit = self.remembered(*job)
                if hit is None:
                    prepared = await self._prepare(*job)
                    if isinstance(prepared, SignatureVerdict):
                        hit = self._remember(*job, prepared)
                    else:
                        todo.append((job, *prepared))
                if hit is not None:
                    ahead.known(job, hit)
                if todo and (len(todo) == signature_pool.CHUNK or n == len(unique) - 1):
                    answers = signature_pool.start([(jws, key) for _, jws, key, _ in todo],
                                                   self.allowed_algs)  # a worker may begin now
                    ahead.started(answers, functools.partial(self._verdicts, todo),
                                  [job for job, *_ in todo])
                    todo = []
        except BaseException:
            ahead.cancel()
            raise
        return ahead

    def _verdicts(self, todo: list[tuple[tuple[str, str], _jws.CompactJWS, PublicKey, str]],
                  answers: list[str | None]) -> list[SignatureVerdict]:
        return [self._remember(*job, _verified(kid) if refusal is None
                               else _refused(kid, refusal))
                for (job, _, _, kid), refusal in zip(todo, answers, strict=True)]

    def _remember(self, jwt: str, issuer_did: str, verdict: SignatureVerdict
                  ) -> SignatureVerdict:
        if issuer_did.startswith(SELF_CERTIFYING) and not verdict.transient:
            self._memo[(jwt, issuer_did)] = verdict
            if len(self._memo) > _MEMO_SIZE:
                self._memo.popitem(last=False)
        return verdict

    async def _prepare(self, jwt: str, issuer_did: str
                       ) -> SignatureVerdict | tuple[_jws.CompactJWS, PublicKey, str]:
        """Steps 1-3: the parsed JWS, its key and kid, or the verdict that stops here."""
        # 1. parse
        try:
            jws = _jws.parse_compact_jws(jwt)
        except (_jws.SignatureError, InputError, ValueError) as exc:
            return SignatureVerdict(False, "accreditation.malformed", f"not a compact JWS: {exc}")
        # 2. kid of the issuer DID
        kid, problem = bind_kid(dict(jws.header), issuer_did)
        if problem == "kid_missing" or kid is None:
            return SignatureVerdict(False, "accreditation.kid_missing", "the JWS names no kid")
        if problem == "kid_mismatch":
            return SignatureVerdict(False, "accreditation.kid_mismatch",
                                    f"kid {kid} is not a key of the issuer {issuer_did}")
        # 3. dereference as assertionMethod
        try:
            key = await self.keys.key(kid)
        except DIDError as exc:
            transient = bool(getattr(exc, "transient", False))
            return SignatureVerdict(False, "accreditation.key_unavailable" if transient
                                    else "accreditation.key_unresolved",
                                    f"{kid}: {exc}", transient=transient)
        except (InputError, ValueError, KeyError) as exc:
            return SignatureVerdict(False, "accreditation.key_unresolved", f"{kid}: {exc}")
        return jws, key, kid


class SignaturesAhead:
    """Signature verdicts begun before the check that reads them (``start_many``): each
    job's verdict, or the worker job (of up to ``CHUNK``) it is in. ``take`` waits for the
    worker jobs it is asked about; ``cancel`` withdraws the rest (a refused batch, a failed
    run): a job no worker has taken yet is dropped, one under way is left to finish."""

    def __init__(self) -> None:
        self._done: dict[tuple[str, str], SignatureVerdict] = {}
        self._part: dict[tuple[str, str], tuple[_Part, int]] = {}
        self._parts: list[_Part] = []

    def known(self, job: tuple[str, str], verdict: SignatureVerdict) -> None:
        self._done[job] = verdict

    def started(self, answers: asyncio.Future[list[str | None]],
                verdicts: Callable[[list[str | None]], list[SignatureVerdict]],
                jobs: Sequence[tuple[str, str]]) -> None:
        """``jobs`` are the worker job ``answers``; ``verdicts`` turns its answers into
        theirs."""
        part = _Part(answers, verdicts)
        self._parts.append(part)
        self._part.update((job, (part, n)) for n, job in enumerate(jobs))

    def __contains__(self, job: object) -> bool:
        return job in self._done or job in self._part

    async def take(self, jobs: Iterable[tuple[str, str]]
                   ) -> dict[tuple[str, str], SignatureVerdict]:
        """The verdicts of ``jobs`` (each begun here), waiting for their worker jobs."""
        out: dict[tuple[str, str], SignatureVerdict] = {}
        for job in jobs:
            found = self._done.get(job)
            if found is None:
                part, n = self._part[job]
                if part.verdicts is None:
                    answers = await part.answers
                    if part.verdicts is None:  # (another taker may have waited for it too)
                        part.verdicts = part.finish(answers)
                found = part.verdicts[n]
            out[job] = found
        return out

    def cancel(self) -> None:
        for part in self._parts:
            if part.verdicts is None:
                part.answers.cancel()
                part.answers.add_done_callback(discard_outcome)
        self._parts.clear()
        self._part.clear()
        self._done.clear()


@dataclass
class _Part:
    answers: asyncio.Future[list[str | None]]
    finish: Callable[[list[str | None]], list[SignatureVerdict]]
    verdicts: list[SignatureVerdict] | None = None


def _verified(kid: str) -> SignatureVerdict:
    return SignatureVerdict(True, reason=f"verified with {kid}")


def _refused(kid: str, message: str) -> SignatureVerdict:
    return SignatureVerdict(False, "accreditation.signature_invalid",
                            f"signature by {kid} does not verify: {message}")


@dataclass(frozen=True)
class ChainFacts:
    records: dict[str, IssuerRecord]
    verified: dict[str, SignatureVerdict]


def granters_of(record: IssuerRecord) -> set[str]:
    """The issuers of ``record``'s parseable accreditations: the DIDs one level up."""
    out: set[str] = set()
    for attr in record.attributes:
        try:
            out.add(parse_accreditation(attr.body).issuer)
        except InputError:
            continue
    return out


async def collect_records(source: RecordSource, issuer_did: str, *,
                          max_depth: int = DEFAULT_MAX_DEPTH,
                          overlay: Mapping[str, IssuerRecord] | None = None
                          ) -> dict[str, IssuerRecord]:
    """Every record reachable upward from ``issuer_did`` within ``max_depth`` + 1 levels.

    ``overlay`` records (proposed, not stored yet) take precedence over the store.
    """
    return await collect_from(source, {issuer_did}, levels=max_depth + 2, overlay=overlay)


async def collect_from(source: RecordSource, dids: Iterable[str], *, levels: int,
                       overlay: Mapping[str, IssuerRecord] | None = None
                       ) -> dict[str, IssuerRecord]:
    """The records of ``dids`` and of the DIDs above them, ``levels`` levels in all (``dids``
    are the first), breadth first; ``overlay`` records take precedence over the store."""
    overlay = overlay or {}
    records: dict[str, IssuerRecord] = {}
    asked: set[str] = set()
    level = set(dids)
    for _ in range(levels):
        need = level - asked
        if not need:
            break
        asked |= need
        from_store = need - overlay.keys()
        fetched = await source.get_issuers(sorted(from_store)) if from_store else {}
        fetched.update({d: overlay[d] for d in need if d in overlay})
        records.update(fetched)
        level = set().union(*(granters_of(r) for r in fetched.values())) - asked
    return records


async def verify_records(verifier: SignatureVerifier, records: Iterable[IssuerRecord]
                         ) -> dict[str, SignatureVerdict]:
    """A verdict per attribute id, verified concurrently (revoked ones are not checked).

    Verdicts the verifier remembers (``remembered``, optional) are taken without a task, and a
    single verification is awaited directly: a task per signature cost more than a memo hit.
    """
    jobs: dict[str, tuple[str, str]] = {}
    for record in records:
        for attr in record.attributes:
            if attr.revoked or attr.id in jobs:
                continue
            try:
                jobs[attr.id] = (attr.body, parse_accreditation(attr.body).issuer)
            except InputError:
                continue  # chain.py reports it as malformed
    remembered = getattr(verifier, "remembered", None)
    found: dict[str, SignatureVerdict] = {}
    pending: list[str] = []
    for attr_id, job in jobs.items():
        hit = remembered(*job) if remembered is not None else None
        if hit is not None:
            found[attr_id] = hit
        else:
            pending.append(attr_id)
    if len(pending) == 1:
        found[pending[0]] = await verifier.verify(*jobs[pending[0]])
    elif pending:
        verdicts = await asyncio.gather(*(verifier.verify(*jobs[i]) for i in pending))
        found.update(zip(pending, verdicts, strict=True))
    return {attr_id: found[attr_id] for attr_id in jobs}


async def gather_chain_facts(source: RecordSource, verifier: SignatureVerifier,
                             issuer_did: str, *, max_depth: int = DEFAULT_MAX_DEPTH,
                             overlay: Mapping[str, IssuerRecord] | None = None) -> ChainFacts:
    records = await collect_records(source, issuer_did, max_depth=max_depth, overlay=overlay)
    return ChainFacts(records, await verify_records(verifier, records.values()))


__all__ = [
    "SELF_CERTIFYING",
    "ChainFacts",
    "RecordSource",
    "ResolverSignatureVerifier",
    "SignatureVerifier",
    "SignaturesAhead",
    "collect_from",
    "collect_records",
    "gather_chain_facts",
    "granters_of",
    "verify_records",
]
