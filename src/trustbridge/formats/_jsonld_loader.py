"""JSON-LD contexts from a bundled, pinned set only -- never from the network.

A JSON-LD proof signs the RDF a document *means*, and the meaning depends on its
contexts: a context fetched at verification time could be swapped by whoever
serves it. So every context this service understands ships inside the package
(``formats/contexts/``, listed with a SHA-256 pin in ``index.json``, sources in
``SOURCE.md``), the pyld document loader serves only those, and any other URL
is refused with ``context.unknown`` before any canonicalisation starts.

Canonicalisation runs pyld's URDNA2015 (RDFC-1.0) in "safe mode": a property
that no context defines would silently vanish from the signed RDF, so it makes
the canonicalisation fail (``jsonld.term_undefined``) instead.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from functools import cache
from importlib import resources
from typing import Any

from cachetools import LRUCache
from pyld import jsonld
from pyld.canon import URDNA2015

CONTEXTS_PACKAGE = "trustbridge.formats"
MAX_CONTEXT_URLS = 32
"""Contexts one document may reference (pyld's own cap on context URLs per resolution is 10)."""
MAX_QUADS = 10_000
"""RDF statements one document may produce; a credential has tens to a few hundred."""
MAX_N_DEGREE_CALLS = 2_000
"""Calls of RDFC-1.0 "Hash N-Degree Quads" allowed per document. Crafted ("poison") graphs of
symmetric blank nodes make that step exponential; RDFC-1.0 §4.4 says implementations
should bound it. Real credentials need a handful of calls."""


class JsonLdError(Exception):
    """A document cannot be processed as JSON-LD; ``code`` is a stable dotted string."""

    def __init__(self, message: str, *, code: str, url: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.url = url


@cache
def bundled_contexts() -> Mapping[str, Any]:
    """URL -> parsed context document, each checked against its SHA-256 pin once."""
    folder = resources.files(CONTEXTS_PACKAGE) / "contexts"
    index = json.loads((folder / "index.json").read_text(encoding="utf-8"))
    docs: dict[str, Any] = {}
    for url, entry in index.items():
        data = (folder / entry["file"]).read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest != entry["sha256"]:  # a packaging error, not bad input
            raise RuntimeError(f"bundled context {entry['file']} does not match its pin")
        docs[url] = json.loads(data)
    return docs


def is_known_context(url: str) -> bool:
    return url in bundled_contexts()


def document_loader(url: str, options: Any = None) -> dict[str, Any]:
    """The pyld document loader: a bundled context, or ``JsonLdError(context.unknown)``."""
    doc = bundled_contexts().get(url)
    if doc is None:
        raise JsonLdError(f"JSON-LD context {url} is not in the bundled set",
                          code="context.unknown", url=url)
    return {"contextUrl": None, "documentUrl": url, "document": doc}


def _context_values(value: Any) -> Iterator[Any]:
    yield from (value if isinstance(value, list) else [value])


def context_urls(document: Any) -> list[str]:
    """Every context URL a document references, anywhere (embedded and scoped contexts too)."""
    found: list[str] = []

    def walk_context(ctx: Any) -> None:
        for item in _context_values(ctx):
            if isinstance(item, str):
                found.append(item)
            elif isinstance(item, Mapping):
                imported = item.get("@import")
                if isinstance(imported, str):
                    found.append(imported)
                for term in item.values():  # scoped contexts inside term definitions
                    if isinstance(term, Mapping) and "@context" in term:
                        walk_context(term["@context"])

    def walk(node: Any) -> None:
        if isinstance(node, Mapping):
            for key, value in node.items():
                if key == "@context":
                    walk_context(value)
                else:
                    walk(value)
        elif isinstance(node, list):
            for item in node:
                walk(item)

    walk(document)
    return found


def unknown_contexts(document: Any) -> list[str]:
    """The context URLs of ``document`` outside the bundled set (empty when all are known)."""
    known = bundled_contexts()
    return [url for url in context_urls(document) if url not in known]


def check_contexts(document: Any) -> None:
    """Raise ``JsonLdError`` unless every context is bundled and the count is sane."""
    urls = context_urls(document)
    if len(urls) > MAX_CONTEXT_URLS:
        raise JsonLdError(f"the document references {len(urls)} contexts",
                          code="context.too_many")
    for url in urls:
        if not is_known_context(url):
            raise JsonLdError(f"JSON-LD context {url} is not in the bundled set",
                              code="context.unknown", url=url)


def _raise_dropped(prop: str | None) -> None:
    raise JsonLdError(f"property {prop!r} is not defined by any context, so it would not be "
                      "signed", code="jsonld.term_undefined")


def _is_absolute(iri: Any) -> bool:
    return isinstance(iri, str) and (iri.startswith("_:") or ":" in iri)


def _check_expanded(node: Any) -> None:
    """Relative ``@type``/``@id`` IRIs (an undefined type term in a context without
    ``@vocab``, an id that is not a URL) are dropped from the RDF: refuse them."""
    if isinstance(node, list):
        for item in node:
            _check_expanded(item)
        return
    if not isinstance(node, Mapping):
        return
    for key, value in node.items():
        if key == "@type" and "@value" not in node:
            for t in value if isinstance(value, list) else [value]:
                if not _is_absolute(t):
                    raise JsonLdError(f"type {t!r} is not defined by any context, so it "
                                      "would not be signed", code="jsonld.term_undefined")
        elif key == "@id":
            if not _is_absolute(value):
                raise JsonLdError(f"id {value!r} is not an absolute IRI, so it would not be "
                                  "signed", code="jsonld.relative_iri")
        elif key != "@value":
            _check_expanded(value)


class _BoundedURDNA2015(URDNA2015):  # type: ignore[misc]  # pyld is untyped
    """URDNA2015 that gives up past ``MAX_N_DEGREE_CALLS`` N-degree hashing steps."""

    def __init__(self) -> None:
        super().__init__()
        self.n_degree_calls = 0

    def hash_n_degree_quads(self, id_: Any, issuer: Any) -> Any:
        self.n_degree_calls += 1
        if self.n_degree_calls > MAX_N_DEGREE_CALLS:
            raise JsonLdError("the document's blank-node structure is too complex to "
                              "canonicalise", code="jsonld.too_complex")
        return super().hash_n_degree_quads(id_, issuer)


def canonize(document: Mapping[str, Any]) -> str:
    """RDFC-1.0 (URDNA2015) canonical N-Quads of ``document``, contexts from the bundle only."""
    check_contexts(document)
    processor = jsonld.JsonLdProcessor(on_property_dropped=_raise_dropped)
    options = {
        "documentLoader": document_loader,
        # a private cache: resolved contexts from another loader must never leak in
        "contextResolver": jsonld.ContextResolver(LRUCache(maxsize=64), document_loader),
    }
    try:
        # base None: a relative IRI stays relative (pyld would otherwise resolve it against
        # its example.org default base) so _check_expanded can refuse it
        expanded = processor.expand(dict(document), {**options, "base": None})
        _check_expanded(expanded)
        dataset = processor.to_rdf(expanded, {**options, "produceGeneralizedRdf": False})
        if sum(len(quads) for quads in dataset.values()) > MAX_QUADS:
            raise JsonLdError("the document produces too many RDF statements",
                              code="jsonld.too_large")
        result = _BoundedURDNA2015().main(dataset, {"format": "application/n-quads"})
    except JsonLdError:
        raise
    except jsonld.JsonLdError as exc:
        cause = _root_cause(exc)
        if isinstance(cause, JsonLdError):
            raise cause from exc
        raise JsonLdError(f"the document is not valid JSON-LD: {_message(exc)}",
                          code="jsonld.invalid") from exc
    except (TypeError, ValueError, KeyError, RecursionError) as exc:
        raise JsonLdError(f"the document is not valid JSON-LD: {exc}",
                          code="jsonld.invalid") from exc
    if not isinstance(result, str):
        raise JsonLdError("canonicalisation produced no N-Quads", code="jsonld.invalid")
    return result


def _root_cause(exc: BaseException) -> BaseException:
    seen: set[int] = set()
    current: BaseException = exc
    while id(current) not in seen:
        seen.add(id(current))
        nxt = current.__cause__ or current.__context__
        if nxt is None:
            break
        current = nxt
    # pyld also keeps the cause in ``details`` / ``cause`` attributes
    cause = getattr(exc, "cause", None)
    if isinstance(cause, JsonLdError):
        return cause
    return current


def _message(exc: BaseException) -> str:
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    return text[:200]


__all__ = [
    "JsonLdError",
    "bundled_contexts",
    "canonize",
    "check_contexts",
    "context_urls",
    "document_loader",
    "is_known_context",
    "unknown_contexts",
]
