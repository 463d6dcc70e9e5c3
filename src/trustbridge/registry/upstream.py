"""Importing an upstream EBSI Trusted Issuers Registry (TIR v5 API), incrementally.

1. page through ``GET {base}/issuers?page[size]=N`` following ``links.next`` (only on the
   base's own origin: a URL found in data never sends us elsewhere);
2. for each issuer, ``GET {base}/issuers/{did}`` and keep the attributes whose hash
   (sha256 of the JWT) we do not hold yet -- unchanged records cost one GET, no write;
3. verify every new accreditation (signature and chain up to our anchors, over the
   registry as it would be after the import) -- refusals are reported, never stored;
4. apply the rest in one transaction with their change-log entries (origin: upstream).

Transient HTTP failures are retried with exponential backoff (``RetryingGetter``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol
from urllib.parse import quote, urlsplit

from pydantic import ValidationError

from trustbridge.errors import FetchError
from trustbridge.registry._sync_http import RetryingGetter
from trustbridge.registry.batch import AttributeIn, Change
from trustbridge.registry.changelog import sha256_hex
from trustbridge.registry.sync import SyncEngine

log = logging.getLogger(__name__)

MAX_PAGES = 10_000
MAX_TIR_PAGE = 50  # EBSI TIR v5: page[size] is 1..50
MAX_DOC_BYTES = 4 * 1024 * 1024
Progress = Callable[[int, int | None], None]


class KnownAttributes(Protocol):
    async def attribute_ids(self, did: str) -> set[str]: ...


@dataclass
class UpstreamSummary:
    source: str
    issuers_seen: int = 0
    added: int = 0
    updated: int = 0
    revoked: int = 0
    unchanged: int = 0
    refused: list[dict[str, str]] = field(default_factory=list)
    retries: int = 0
    log_first: int | None = None
    log_last: int | None = None

    def to_json(self) -> dict[str, Any]:
        return {"source": self.source, "issuers_seen": self.issuers_seen, "added": self.added,
                "updated": self.updated, "revoked": self.revoked, "unchanged": self.unchanged,
                "refused": self.refused, "retries": self.retries,
                "log": {"first": self.log_first, "last": self.log_last}}


@dataclass
class UpstreamSync:
    engine: SyncEngine
    getter: RetryingGetter
    page_size: int = 100

    async def run(self, base: str, *, progress: Progress | None = None) -> UpstreamSummary:
        base = base.rstrip("/")
        summary = UpstreamSummary(base)
        retries_before = self.getter.retries
        known: KnownAttributes = self.engine.registry
        changes: list[Change] = []
        kinds: list[str] = []
        dids = await self._issuer_dids(base, progress)
        for n, did in enumerate(dids, 1):
            summary.issuers_seen += 1
            try:
                record = await self.getter.get_json(f"{base}/issuers/{quote(did, safe=':')}",
                                                    max_bytes=MAX_DOC_BYTES)
            except FetchError as exc:
                summary.refused.append({"did": did, "code": exc.code, "reason": exc.message})
                continue
            have = await known.attribute_ids(did)
            is_new = not have
            for attr in _attributes(record, did, summary):
                if attr.hash in have:
                    summary.unchanged += 1
                    continue
                op = "add_issuer" if is_new else "add_attribute"
                is_new = False
                changes.append(Change(op=op, did=did, attribute=attr))
                kinds.append("revoked" if attr.issuer_type == "Revoked" else
                             "added" if op == "add_issuer" else "updated")
                have.add(attr.hash)
            if progress is not None:
                progress(n, len(dids))
        if not changes:
            return self._done(summary, retries_before)
        unit, refused = await self.engine.verify_upstream(base, changes)
        refused_at = {r.index for r in refused}
        for r in refused:
            summary.refused.append({"did": changes[r.index].did, "code": r.code,
                                    "reason": r.reason})
        for i, kind in enumerate(kinds):
            if i not in refused_at:
                setattr(summary, kind, getattr(summary, kind) + 1)
        if unit.changes:
            result = (await self.engine.apply([unit]))[0]
            summary.log_first, summary.log_last = result.first_seq, result.last_seq
        return self._done(summary, retries_before)

    def _done(self, summary: UpstreamSummary, retries_before: int) -> UpstreamSummary:
        summary.retries = self.getter.retries - retries_before
        return summary

    async def _issuer_dids(self, base: str, progress: Progress | None) -> list[str]:
        url: str | None = f"{base}/issuers?page[size]={self.page_size}"
        origin = urlsplit(base)[:2]
        dids: list[str] = []
        seen_pages: set[str] = set()
        while url and len(seen_pages) < MAX_PAGES:
            seen_pages.add(url)
            page = await self.getter.get_json(url, max_bytes=MAX_DOC_BYTES)
            items = page.get("items") if isinstance(page, dict) else None
            if not isinstance(items, list) or not items:
                break
            dids += [str(i["did"]) for i in items if isinstance(i, dict) and
                     isinstance(i.get("did"), str)]
            links = page.get("links") if isinstance(page.get("links"), dict) else {}
            nxt = links.get("next") if isinstance(links, dict) else None
            if not isinstance(nxt, str) or nxt in seen_pages or urlsplit(nxt)[:2] != origin:
                break
            if progress is not None:
                total = page.get("total")
                progress(0, total if isinstance(total, int) else None)
            url = nxt
        return list(dict.fromkeys(dids))


def _attributes(record: Any, did: str, summary: UpstreamSummary) -> list[AttributeIn]:
    raw = record.get("attributes") if isinstance(record, dict) else None
    out: list[AttributeIn] = []
    for item in raw if isinstance(raw, list) else []:
        if not isinstance(item, dict):
            continue
        try:
            attr = AttributeIn.model_validate({
                "jwt": item.get("body"), "issuerType": item.get("issuerType"),
                "tao": item.get("tao") or None, "rootTao": item.get("rootTao") or None})
        except ValidationError as exc:
            summary.refused.append({"did": did, "code": "attribute.malformed",
                                    "reason": str(exc.errors()[0]["msg"])})
            continue
        claimed = item.get("hash")
        if isinstance(claimed, str) and claimed.removeprefix("0x") != sha256_hex(attr.jwt):
            log.info("upstream hash of %s differs from sha256 of its body; using ours", did)
        out.append(attr)
    return out


__all__ = ["MAX_TIR_PAGE", "UpstreamSummary", "UpstreamSync"]
