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
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from trustbridge.crypto import jws as _jws
from trustbridge.did.interface import DIDError, public_key_of
from trustbridge.did.resolver import offline_resolver
from trustbridge.errors import InputError
from trustbridge.registry.chain import DEFAULT_MAX_DEPTH, SignatureVerdict
from trustbridge.registry.model import IssuerRecord, parse_accreditation

# did:key and did:jwk carry their key in the DID: a verdict over the same bytes never changes.
SELF_CERTIFYING = ("did:key:", "did:jwk:")
_MEMO_SIZE = 10_000


class SignatureVerifier(Protocol):
    async def verify(self, jwt: str, issuer_did: str) -> SignatureVerdict: ...


class RecordSource(Protocol):
    async def get_issuers(self, dids: Iterable[str]) -> dict[str, IssuerRecord]: ...


class ResolverSignatureVerifier:
    """Verifies accreditation JWTs with keys from the DID resolver (steps 1-4 above)."""

    def __init__(self, resolver: Any, *, allowed_algs: Iterable[str] | None = None) -> None:
        self.resolver = resolver or offline_resolver()
        self.allowed_algs = frozenset(allowed_algs or _jws.DEFAULT_ALGS)
        self._memo: OrderedDict[tuple[str, str], SignatureVerdict] = OrderedDict()

    async def verify(self, jwt: str, issuer_did: str) -> SignatureVerdict:
        memo_key = (jwt, issuer_did)
        hit = self._memo.get(memo_key)
        if hit is not None:
            self._memo.move_to_end(memo_key)
            return hit
        verdict = await self._verify(jwt, issuer_did)
        if issuer_did.startswith(SELF_CERTIFYING) and not verdict.transient:
            self._memo[memo_key] = verdict
            if len(self._memo) > _MEMO_SIZE:
                self._memo.popitem(last=False)
        return verdict

    async def _verify(self, jwt: str, issuer_did: str) -> SignatureVerdict:
        # 1. parse
        try:
            jws = _jws.parse_compact_jws(jwt)
        except (_jws.SignatureError, InputError, ValueError) as exc:
            return SignatureVerdict(False, "accreditation.malformed", f"not a compact JWS: {exc}")
        # 2. kid of the issuer DID
        kid = jws.header.get("kid")
        if not isinstance(kid, str) or not kid:
            return SignatureVerdict(False, "accreditation.kid_missing", "the JWS names no kid")
        if kid.startswith("#"):
            kid = issuer_did + kid
        if kid.split("#", 1)[0] != issuer_did:
            return SignatureVerdict(False, "accreditation.kid_mismatch",
                                    f"kid {kid} is not a key of the issuer {issuer_did}")
        # 3. dereference as assertionMethod
        try:
            vm = await self.resolver.dereference(kid, relationship="assertionMethod")
            key = public_key_of(vm)
        except DIDError as exc:
            transient = bool(getattr(exc, "transient", False))
            return SignatureVerdict(False, "accreditation.key_unavailable" if transient
                                    else "accreditation.key_unresolved",
                                    f"{kid}: {exc}", transient=transient)
        except (InputError, ValueError, KeyError) as exc:
            return SignatureVerdict(False, "accreditation.key_unresolved", f"{kid}: {exc}")
        # 4. verify
        try:
            _jws.verify_jws(jws, key, allowed_algs=self.allowed_algs)
        except (_jws.SignatureError, InputError, ValueError) as exc:
            return SignatureVerdict(False, "accreditation.signature_invalid",
                                    f"signature by {kid} does not verify: {exc}")
        return SignatureVerdict(True, reason=f"verified with {kid}")


@dataclass(frozen=True)
class ChainFacts:
    records: dict[str, IssuerRecord]
    verified: dict[str, SignatureVerdict]


def _granters(record: IssuerRecord) -> set[str]:
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
    overlay = overlay or {}
    records: dict[str, IssuerRecord] = {}
    asked: set[str] = set()
    level = {issuer_did}
    for _ in range(max_depth + 2):
        need = level - asked
        if not need:
            break
        asked |= need
        from_store = need - overlay.keys()
        fetched = await source.get_issuers(sorted(from_store)) if from_store else {}
        fetched.update({d: overlay[d] for d in need if d in overlay})
        records.update(fetched)
        level = set().union(*(_granters(r) for r in fetched.values())) - asked
    return records


async def verify_records(verifier: SignatureVerifier, records: Iterable[IssuerRecord]
                         ) -> dict[str, SignatureVerdict]:
    """A verdict per attribute id, verified concurrently (revoked ones are not checked)."""
    jobs: dict[str, tuple[str, str]] = {}
    for record in records:
        for attr in record.attributes:
            if attr.revoked or attr.id in jobs:
                continue
            try:
                jobs[attr.id] = (attr.body, parse_accreditation(attr.body).issuer)
            except InputError:
                continue  # chain.py reports it as malformed
    ids = list(jobs)
    verdicts = await asyncio.gather(*(verifier.verify(*jobs[i]) for i in ids))
    return dict(zip(ids, verdicts, strict=True))


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
    "collect_records",
    "gather_chain_facts",
    "verify_records",
]
