"""``CachingResolver``: dispatch by DID method, cache network documents, share in-flight fetches.

Resolution (DID Resolution §"Resolving Algorithm"), numbered as in the code:
1. the DID's syntax (``invalidDid``) and the requested representation
   (``representationNotSupported``);
2. the method: ``key`` and ``jwk`` are pure functions of the DID; ``web`` and ``ebsi`` read
   a document over the network; anything else is ``methodNotSupported``;
3. network documents come from the cache when present — as raw bytes, checked again on every
   read — else from one shared fetch per DID (single-flight), then cached: positive results for
   ``did_cache_ttl_seconds`` (did:web: ``Cache-Control: max-age`` if lower), failures for
   ``did_negative_ttl_seconds``;
4. the outcome becomes a DID Resolution result; nothing escapes as an exception.

Dereferencing a DID URL to a verification method then checks the verification relationship.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from trustbridge.cache import Cache
from trustbridge.did import ebsi, jwk, key, web
from trustbridge.did.document import DocumentRejected, check_did_document
from trustbridge.did.interface import (
    INTERNAL_ERROR,
    INVALID_DID_URL,
    METHOD_NOT_SUPPORTED,
    NOT_FOUND,
    RELATIONSHIP_NOT_AUTHORIZED,
    RELATIONSHIPS,
    REPRESENTATION_NOT_SUPPORTED,
    VERIFICATION_METHOD_NOT_FOUND,
    DIDError,
)
from trustbridge.did.syntax import parse_did, parse_did_url
from trustbridge.errors import FetchError
from trustbridge.fetch import FetchedDocument, SafeFetcher
from trustbridge.model.did import (
    DID_JSON,
    DID_JSON_LD,
    DIDDocument,
    ResolutionMetadata,
    ResolutionResult,
    VerificationMethod,
)
from trustbridge.runtime.single_flight import SingleFlight

log = logging.getLogger(__name__)
PURE_METHOD_PREFIXES = ("did:key:", "did:jwk:")
PURE_MEMO_MAX = 4096

REPRESENTATIONS = (DID_JSON_LD, DID_JSON)
CACHE_PREFIX = "did:doc:"
_POSITIVE = b"D"
_NEGATIVE = b"E"


@dataclass(frozen=True)
class Resolution:
    """One resolution's outcome, with the raw document JSON (what the HTTP endpoint returns)."""

    did: str
    document: dict[str, Any] | None
    content_type: str = DID_JSON_LD
    error: str | None = None
    message: str | None = None
    transient: bool = False
    from_cache: bool = False
    metadata: dict[str, Any] = field(default_factory=dict)

    def result(self) -> ResolutionResult:
        meta = ResolutionMetadata(contentType=None if self.error else self.content_type,
                                  error=self.error, errorMessage=self.message)
        doc = DIDDocument.model_validate(self.document) if self.document is not None else None
        return ResolutionResult(didDocument=doc, didResolutionMetadata=meta,
                                didDocumentMetadata=dict(self.metadata))

    def to_json(self) -> dict[str, Any]:
        meta: dict[str, Any] = {}
        if self.error:
            meta["error"] = self.error
            if self.message:
                meta["errorMessage"] = self.message
        else:
            meta["contentType"] = self.content_type
        return {"@context": "https://w3id.org/did-resolution/v1", "didDocument": self.document,
                "didResolutionMetadata": meta, "didDocumentMetadata": dict(self.metadata)}


def _failed(did: str, error: str, message: str, *, transient: bool = False) -> Resolution:
    return Resolution(did, None, error=error, message=message, transient=transient)


def _from_fetch_error(did: str, exc: FetchError) -> Resolution:
    """Policy refusals and bad answers are the DID's fault (not transient); what could not be
    had in time, or at all, is transient (the caller reports indeterminate)."""
    status = exc.details.get("status") if exc.details else None
    if exc.code == "fetch.refused":
        error, transient = NOT_FOUND, False
    elif exc.code == "fetch.content_type":  # the host is broken, not the DID: indeterminate
        error, transient = INTERNAL_ERROR, True
    elif exc.code == "fetch.status" and isinstance(status, int):
        if status in (404, 410):
            error, transient = NOT_FOUND, status == 404
        else:
            error, transient = INTERNAL_ERROR, status >= 500 or status == 429
    else:
        error, transient = INTERNAL_ERROR, True
    return _failed(did, error, f"{exc.code}: {exc.message}", transient=transient)


Loader = Callable[[], Awaitable[Resolution]]


class CachingResolver:
    """The DID resolver component (``DIDResolver`` protocol)."""

    def __init__(self, *, cache: Cache, fetcher: SafeFetcher | None,
                 positive_ttl: float = 3600, negative_ttl: float = 30,
                 max_bytes: int = 256 * 1024, ebsi_didr_url: str | None = None,
                 local_source: ebsi.LocalSourceProvider | None = None,
                 did_key_format: str = "JsonWebKey2020") -> None:
        self._cache = cache
        self._fetcher = fetcher
        self.positive_ttl = positive_ttl
        self.negative_ttl = negative_ttl
        self.max_bytes = max_bytes
        self.ebsi_didr_url = ebsi_didr_url
        self.local_source = local_source
        self.did_key_format = did_key_format
        self._fetches: SingleFlight[str, Resolution] = SingleFlight()  # one fetch per DID
        # did:key / did:jwk documents are pure functions of the DID: their dereferenced
        # methods are remembered (small LRU), which saves re-deriving them per signature.
        self._pure_methods: OrderedDict[tuple[str, str | None], VerificationMethod] = (
            OrderedDict())
        self.fetches = 0  # network loads started (tests and benchmarks read it)

    @classmethod
    def from_settings(cls, settings: Any, *, cache: Cache, fetcher: SafeFetcher | None,
                      local_source: ebsi.LocalSourceProvider | None = None) -> CachingResolver:
        return cls(cache=cache, fetcher=fetcher,
                   positive_ttl=float(settings.did_cache_ttl_seconds),
                   negative_ttl=float(settings.did_negative_ttl_seconds),
                   max_bytes=settings.fetch_max_bytes, ebsi_didr_url=settings.ebsi_didr_url,
                   local_source=local_source)

    # -- resolution -------------------------------------------------------------------------

    async def resolve(self, did: str, *, accept: str | None = None) -> ResolutionResult:
        return (await self.resolve_document(did, accept=accept)).result()

    async def resolve_document(self, did: str, *, accept: str | None = None) -> Resolution:
        """Steps 1-4 with the raw document; never raises for bad input or upstream failures."""
        content_type = accept or DID_JSON_LD
        try:
            # 1. syntax and representation
            parsed = parse_did(did)
            if content_type not in REPRESENTATIONS:
                return _failed(did, REPRESENTATION_NOT_SUPPORTED,
                               f"representation {content_type[:100]!r} is not supported")
            with_context = content_type == DID_JSON_LD
            # 2. dispatch
            if parsed.method == "key":
                doc = key.resolve_did_key(did, public_key_format=self.did_key_format,
                                          with_context=with_context)
            elif parsed.method == "jwk":
                doc = jwk.resolve_did_jwk(did, with_context=with_context)
            elif parsed.method == "web":
                web.did_web_location(did)
                return await self._network(did, "web", self._load_web, content_type)
            elif parsed.method == "ebsi":
                ebsi.check_did_ebsi(did)
                return await self._resolve_ebsi(did, content_type)
            else:
                return _failed(did, METHOD_NOT_SUPPORTED,
                               f"DID method {parsed.method[:50]!r} is not supported")
            return Resolution(did, doc, content_type)
        except DIDError as exc:
            return _failed(did if isinstance(did, str) else "", exc.error, exc.message,
                           transient=exc.transient)
        except Exception as exc:  # a bug must not become a 500 or a valid verdict
            log.exception("DID resolution failed unexpectedly")
            return _failed(did if isinstance(did, str) else "", INTERNAL_ERROR,
                           f"internal error: {type(exc).__name__}", transient=True)

    async def _resolve_ebsi(self, did: str, content_type: str) -> Resolution:
        local = await ebsi.local_document(did, self.local_source)
        if local is not None:
            return self._checked(did, local, content_type, metadata={"source": "registry"})
        if not self.ebsi_didr_url:
            return _failed(did, NOT_FOUND, "not in this node's registry and no EBSI DID "
                           "Registry is configured (ebsi_didr_url)", transient=True)
        return await self._network(did, "ebsi", self._load_ebsi, content_type)

    # -- network methods: cache + single flight ---------------------------------------------

    @staticmethod
    def cache_key(method: str, did: str) -> str:
        return f"{CACHE_PREFIX}{method}:{hashlib.sha256(did.encode('utf-8')).hexdigest()}"

    async def _network(self, did: str, method: str,
                       load: Callable[[str], Awaitable[FetchedDocument]],
                       content_type: str) -> Resolution:
        key_ = self.cache_key(method, did)
        cached = await self._cache.get(key_)
        if cached is not None:
            return self._from_cache(did, cached, content_type)
        outcome = await self._fetches.run(key_, lambda: self._load_and_store(did, key_, load))
        if outcome.document is None:
            return outcome
        return Resolution(did, outcome.document, content_type, metadata=outcome.metadata)

    async def _load_and_store(self, did: str, cache_key: str,
                              load: Callable[[str], Awaitable[FetchedDocument]]) -> Resolution:
        self.fetches += 1
        try:
            fetched = await load(did)
        except FetchError as exc:
            outcome = _from_fetch_error(did, exc)
        except Exception as exc:
            log.exception("DID document load failed unexpectedly")
            outcome = _failed(did, INTERNAL_ERROR, f"internal error: {type(exc).__name__}",
                              transient=True)
        else:
            outcome = self._checked(did, fetched.body, DID_JSON_LD, fetched=True)
            if outcome.document is not None:
                ttl = self.positive_ttl
                if fetched.cache_control_max_age is not None:
                    ttl = min(ttl, float(fetched.cache_control_max_age))
                if ttl > 0:
                    await self._cache.set(cache_key, _POSITIVE + fetched.body, ttl=ttl)
                return outcome
        if self.negative_ttl > 0:
            record = {"error": outcome.error, "message": outcome.message,
                      "transient": outcome.transient}
            await self._cache.set(cache_key, _NEGATIVE + json.dumps(record).encode(),
                                  ttl=self.negative_ttl)
        return outcome

    def _checked(self, did: str, raw: bytes, content_type: str, *, fetched: bool = False,
                 metadata: dict[str, Any] | None = None) -> Resolution:
        """A document that does not parse or is not the DID's is *bad data* when it is ours
        (registry copy), but when a host served it (``fetched``, or our cache of what a host
        served) the host is broken: could not get data, transient, so the credential is
        ``indeterminate`` -- never ``invalid`` as if forged. (A good document without the
        kid is still ``verificationMethodNotFound``, not transient: see ``dereference``.)"""
        try:
            doc = check_did_document(raw, did)
        except DocumentRejected as exc:
            return _failed(did, INTERNAL_ERROR, f"invalid DID document: {exc}",
                           transient=fetched)
        return Resolution(did, doc, content_type, metadata=metadata or {})

    def _from_cache(self, did: str, cached: bytes, content_type: str) -> Resolution:
        if cached.startswith(_POSITIVE):
            outcome = self._checked(did, cached[1:], content_type, fetched=True)
        else:
            try:
                record = json.loads(cached[1:])
                outcome = _failed(did, str(record["error"]), str(record["message"]),
                                  transient=bool(record["transient"]))
            except (ValueError, KeyError, TypeError):
                outcome = _failed(did, INTERNAL_ERROR, "unreadable cache entry", transient=True)
        return Resolution(outcome.did, outcome.document, outcome.content_type, outcome.error,
                          outcome.message, outcome.transient, True, outcome.metadata)

    def _need_fetcher(self) -> SafeFetcher:
        if self._fetcher is None:
            raise FetchError("no fetcher is configured", code="fetch.unavailable")
        return self._fetcher

    async def _load_web(self, did: str) -> FetchedDocument:
        return await web.fetch_did_web(did, self._need_fetcher(), max_bytes=self.max_bytes)

    async def _load_ebsi(self, did: str) -> FetchedDocument:
        return await ebsi.fetch_did_ebsi(did, self._need_fetcher(), self.ebsi_didr_url or "",
                                         max_bytes=self.max_bytes)

    # -- dereferencing ----------------------------------------------------------------------

    def dereference_memo(self, did_url: str, relationship: str | None = None
                         ) -> VerificationMethod | None:
        """What ``dereference`` would answer, when it is remembered (did:key/did:jwk URLs
        dereferenced before); None otherwise. Never resolves, never raises: callers with a
        hit skip the await."""
        memo_key = (did_url, relationship)
        hit = self._pure_methods.get(memo_key)
        if hit is not None:
            self._pure_methods.move_to_end(memo_key)
        return hit

    async def dereference(self, did_url: str, *,
                          relationship: str | None = None) -> VerificationMethod:
        """The verification method ``did_url`` names; ``DIDError`` when it is not there, or
        not authorised for ``relationship`` (e.g. ``assertionMethod`` for issuers)."""
        if relationship is not None and relationship not in RELATIONSHIPS:
            raise ValueError(f"unknown verification relationship {relationship!r}")
        pure = did_url.startswith(PURE_METHOD_PREFIXES)
        if pure:
            hit = self.dereference_memo(did_url, relationship)
            if hit is not None:
                return hit
        parsed = parse_did_url(did_url)
        if parsed.path or parsed.query is not None:
            raise DIDError("only DID URLs with a fragment are dereferenced here",
                           error=INVALID_DID_URL)
        did = parsed.did.did
        resolution = await self.resolve_document(did)
        if resolution.document is None:
            raise DIDError(resolution.message or "DID not resolved",
                           error=resolution.error or INTERNAL_ERROR,
                           transient=resolution.transient)
        document = DIDDocument.model_validate(resolution.document)
        method = select_method(document, did, parsed.fragment, relationship)
        if pure:
            self._pure_methods[(did_url, relationship)] = method
            if len(self._pure_methods) > PURE_MEMO_MAX:
                self._pure_methods.popitem(last=False)
        return method

    async def aclose(self) -> None:
        self._fetches.cancel()


def offline_resolver() -> CachingResolver:
    """did:key and did:jwk only: no fetcher, so did:web/did:ebsi come back transient (the caller
    reports indeterminate). For tools and tests, and where no DID component is attached."""
    from trustbridge.cache.memory import MemoryCache

    return CachingResolver(cache=MemoryCache(max_entries=16), fetcher=None)


def _absolute(did: str, ref: str) -> str:
    return did + ref if ref.startswith("#") else ref


def select_method(document: DIDDocument, did: str, fragment: str | None,
                  relationship: str | None) -> VerificationMethod:
    """Pure: the verification method ``did#fragment`` within ``relationship``.

    Without a fragment, the relationship's only method is taken (and none if ambiguous).
    """
    methods: dict[str, VerificationMethod] = {}
    for vm in document.verification_method:
        methods.setdefault(_absolute(did, vm.id), vm)
    allowed: set[str] | None = None
    if relationship is not None:
        allowed = set()
        entries = getattr(document, _SNAKE[relationship])
        for entry in entries:
            if isinstance(entry, VerificationMethod):
                ident = _absolute(did, entry.id)
                methods.setdefault(ident, entry)
                allowed.add(ident)
            else:
                allowed.add(_absolute(did, entry))
    if fragment is None:
        candidates = sorted(allowed) if allowed is not None else sorted(methods)
        if len(candidates) != 1:
            raise DIDError(f"{did} needs a fragment naming one of its keys",
                           error=VERIFICATION_METHOD_NOT_FOUND)
        wanted = candidates[0]
    else:
        wanted = f"{did}#{fragment}"
    found = methods.get(wanted)
    if found is None:
        raise DIDError(f"{wanted} is not a verification method of {did}",
                       error=VERIFICATION_METHOD_NOT_FOUND)
    if allowed is not None and wanted not in allowed:
        raise DIDError(f"{wanted} is not authorised for {relationship}",
                       error=RELATIONSHIP_NOT_AUTHORIZED)
    controller = _absolute(did, found.controller)
    return found.model_copy(update={"id": wanted, "controller": controller})


_SNAKE = {"authentication": "authentication", "assertionMethod": "assertion_method",
          "keyAgreement": "key_agreement", "capabilityInvocation": "capability_invocation",
          "capabilityDelegation": "capability_delegation"}


__all__ = ["CACHE_PREFIX", "REPRESENTATIONS", "CachingResolver", "Resolution", "offline_resolver",
           "select_method"]
