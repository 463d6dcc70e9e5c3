"""JSON Schemas for ``credentialSchema``: a local store first, else fetched once and cached.

``$ref`` never reaches the network during validation: the ``referencing``
registry handed to ``jsonschema`` holds only the local store and documents this
module fetched (SSRF-safe, size-capped, a bounded number of them) beforehand;
any other reference is unresolvable and the schema check reports ``error``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

from trustbridge.cache import Cache
from trustbridge.errors import FetchError
from trustbridge.status.fetcher import DocumentFetcher, body_of

log = logging.getLogger(__name__)

KEY_PREFIX = "schema:doc:"
_TSR = re.compile(r"/trusted-schemas-registry/v\d+/schemas/([A-Za-z0-9]+)(?:[?#].*)?$")
_NPM = re.compile(r"node_modules/@cef-ebsi/([A-Za-z0-9._-]+)/schema\.json$")
MAX_REF_DOCS = 16
MAX_LOCAL_MEMO = 1024
ACCEPT = "application/schema+json, application/json"


def _refs(node: Any) -> Iterator[str]:
    """Every ``$ref`` string in a schema (bounded by the document's own size)."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, Mapping):
            ref = item.get("$ref")
            if isinstance(ref, str):
                yield ref
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)


class SchemaStore:
    """Local schemas by ``$id`` (and file URL), plus cached remote ones."""

    def __init__(self, *, local_dir: Path | None, fetcher: DocumentFetcher | None, cache: Cache,
                 fetch_remote: bool, max_bytes: int, ttl: float) -> None:
        self._local: dict[str, dict[str, Any]] = {}
        self._by_content_id: dict[str, dict[str, Any]] = {}
        self._by_package: dict[str, dict[str, Any]] = {}
        self._fetcher = fetcher if fetch_remote else None
        # A schema whose $refs all resolve in the local store is a pure function of the
        # store: its (root, registry) is built once. Remote ones are rebuilt (cache TTLs).
        self._loaded_local: dict[str, tuple[dict[str, Any], Registry[Any]]] = {}
        self._cache = cache
        self.max_bytes = max_bytes
        self.ttl = ttl
        if local_dir is not None:
            self.load_dir(local_dir)

    def load_dir(self, directory: Path) -> None:
        """Index every ``*.json`` schema under ``directory`` by its ``$id``, and EBSI schema
        packages (``schema.json`` + ``schema.metadata.json``, as ``@cef-ebsi/*-schema`` ship
        them) by their Trusted Schemas Registry ids (base16 and multibase) and package name."""
        if not directory.is_dir():
            log.warning("schema store directory %s does not exist", directory)
            return
        for path in sorted(directory.rglob("*.json")):
            if path.name == "schema.metadata.json" or "examples" in path.parts:
                continue
            try:
                doc = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError) as exc:
                log.warning("skipping unreadable schema %s: %s", path, exc)
                continue
            if not isinstance(doc, dict):
                continue
            if isinstance(doc.get("$id"), str):
                self._local[doc["$id"]] = doc
            meta_path = path.with_name("schema.metadata.json")
            if path.name == "schema.json" and meta_path.is_file():
                self._index_ebsi_package(path.parent.name, doc, meta_path)

    def _index_ebsi_package(self, package: str, doc: dict[str, Any], meta_path: Path) -> None:
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return
        ids = meta.get("id") if isinstance(meta, dict) else None
        for value in (ids.values() if isinstance(ids, dict) else []):
            if isinstance(value, str):
                self._by_content_id[value.lower() if value.startswith("0x") else value] = doc
        self._by_package[package] = doc

    def add(self, schema: Mapping[str, Any], uri: str | None = None) -> None:
        """Register a schema in memory (tests, bundled data)."""
        key = uri or schema.get("$id")
        if not isinstance(key, str):
            raise ValueError("a schema needs a $id or an explicit uri")
        self._local[key] = dict(schema)
        self._loaded_local.clear()

    def _local_doc(self, uri: str) -> dict[str, Any] | None:
        doc = self._local.get(uri) or self._local.get(uri.rstrip("#"))
        if doc is not None:
            return doc
        match = _TSR.search(uri)
        if match:
            key = match.group(1)
            return self._by_content_id.get(key.lower() if key.startswith("0x") else key)
        match = _NPM.search(uri)
        if match:
            return self._by_package.get(match.group(1))
        return None

    async def _remote(self, uri: str) -> dict[str, Any]:
        key = KEY_PREFIX + hashlib.sha256(uri.encode("utf-8")).hexdigest()
        raw = await self._cache.get(key)
        if raw is None:
            if self._fetcher is None or not uri.startswith("https://"):
                raise FetchError(f"schema {uri} is not in the local store and may not be "
                                 "fetched", code="schema.unavailable")
            raw = body_of(await self._fetcher.fetch(uri, accept=ACCEPT,
                                                    max_bytes=self.max_bytes))
            if len(raw) > self.max_bytes:
                raise FetchError("schema too large", code="fetch.too_large")
            await self._cache.set(key, raw, ttl=self.ttl)
        try:
            doc = json.loads(raw)
        except ValueError as exc:
            raise FetchError(f"schema {uri} is not JSON", code="schema.malformed") from exc
        if not isinstance(doc, dict):
            raise FetchError(f"schema {uri} is not a JSON object", code="schema.malformed")
        return doc

    async def load(self, uri: str) -> tuple[dict[str, Any], Registry[Any]]:
        """The schema at ``uri`` and a registry holding it and its (prefetched) ``$ref`` docs."""
        memo = self._loaded_local.get(uri)
        if memo is not None:
            return memo
        local_root = self._local_doc(uri)
        all_local = local_root is not None
        root = local_root or await self._remote(uri)
        if "$id" not in root:
            # Relative $refs resolve against where the schema was found (its TSR URL).
            root = {"$id": uri, **root}
        docs: dict[str, dict[str, Any]] = {uri: root}
        pending = [(uri, r) for r in _refs(root)]
        while pending and len(docs) < MAX_REF_DOCS:
            base, raw_ref = pending.pop()
            ref = urljoin(base, raw_ref).split("#", 1)[0]
            if not ref.startswith(("https://", "http://")) or ref in docs:
                continue
            doc = self._local_doc(ref)
            if doc is None:
                all_local = False
                try:
                    doc = await self._remote(ref)
                except FetchError:
                    continue  # left unresolvable: validation reports it
            docs[ref] = doc
            pending.extend((ref, r) for r in _refs(doc))

        def no_network(uri: str) -> Resource[Any]:
            raise NoSuchResource(ref=uri)  # type: ignore[call-arg]  # attrs init

        registry: Registry[Any] = Registry(retrieve=no_network)  # type: ignore[call-arg]  # attrs
        for key, doc in list(docs.items()) + list(self._local.items()):
            registry = registry.with_resource(
                key, Resource.from_contents(doc, default_specification=DRAFT202012))
        if all_local and not pending:
            if len(self._loaded_local) >= MAX_LOCAL_MEMO:
                self._loaded_local.clear()
            self._loaded_local[uri] = (root, registry)
        return root, registry


__all__ = ["SchemaStore"]
