"""Test support for verification: vector loading, a static trust registry, an in-memory fetcher.

The registry and fetcher stand in for *other* components (the registry engineer's
``TrustRegistry``, the DID engineer's ``SafeFetcher``), implementing their promised
interfaces; the thing under test -- the verifier -- is real.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from trustbridge.cache.memory import MemoryCache
from trustbridge.did.resolver import offline_resolver
from trustbridge.errors import FetchError
from trustbridge.formats.jwt_vc import JwtVcFormat
from trustbridge.formats.sd_jwt import SdJwtVcFormat
from trustbridge.status.fetcher import StatusListFetcher
from trustbridge.verify.pipeline import VerificationInput, Verifier
from trustbridge.verify.policy import Policy
from trustbridge.verify.schemas import SchemaStore

ROOT = Path(__file__).resolve().parents[2]
OWN = ROOT / "fixtures" / "verify"
EBSI = ROOT / "fixtures" / "ebsi" / "vectors"
EBSI_SCHEMAS = ROOT / "fixtures" / "ebsi" / "schemas"


def load(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    data["name"] = path.stem
    return data


def own_vectors() -> list[dict[str, Any]]:
    return [load(p) for p in sorted((OWN / "vectors").glob("*.json"))]


def ebsi_vectors() -> list[dict[str, Any]]:
    return [load(p) for p in sorted(EBSI.glob("*.json"))] if EBSI.is_dir() else []


def ebsi_documents(vectors: list[dict[str, Any]]) -> dict[str, str]:
    """What the EBSI vectors would fetch (DID documents, status lists), by URL."""
    docs: dict[str, str] = {}
    for v in vectors:
        docs.update(v.get("offline_documents") or {})
        if v.get("status_list"):
            docs[v["status_list"]["url"]] = v["status_list"]["jwt"]
    return docs


def own_status_lists() -> dict[str, str]:
    lists: dict[str, str] = json.loads((OWN / "status-lists.json").read_text())
    return lists


def at_of(vector: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(vector["verify_at"].replace("Z", "+00:00")).astimezone(UTC)


@dataclass
class Accredited:
    issuer: str
    chain: list[dict[str, Any]] = field(default_factory=list)
    issuer_name: str = "Hochschule Teststadt"
    country: str = "DE"
    accredited: bool = True


@dataclass
class NotAccredited:
    issuer: str
    code: str = "issuer.not_accredited"
    message: str = "the issuer is not in the trust registry"
    chain: list[dict[str, Any]] = field(default_factory=list)
    accredited: bool = False


class StaticRegistry:
    """The promised ``TrustRegistry.check_issuer`` over a fixed set of DIDs, with an epoch."""

    def __init__(self, accredited: list[str], expired: list[str] | None = None) -> None:
        self.accredited = set(accredited)
        self.expired = set(expired or [])
        self.calls = 0
        self._epoch = 1

    async def epoch(self) -> int:
        return self._epoch

    def bump(self) -> None:
        self._epoch += 1

    async def check_issuer(self, issuer_did: str, *, types: list[str], schema_id: str | None,
                           jurisdiction: str | None, at: datetime,
                           terms_of_use: Any = None) -> Accredited | NotAccredited:
        self.calls += 1
        if issuer_did in self.expired:
            return NotAccredited(issuer_did, code="accreditation.expired",
                                 message="the accreditation ended before issuance")
        if issuer_did in self.accredited:
            return Accredited(issuer_did, chain=[{"role": "RootTAO", "did": "did:ebsi:root"},
                                                 {"role": "TI", "did": issuer_did}])
        return NotAccredited(issuer_did)


class MemoryFetcher:
    """Serves fixed documents by URL, with the ``SafeFetcher.fetch`` signature."""

    def __init__(self, docs: dict[str, str]) -> None:
        self.docs = docs
        self.requests: list[str] = []

    async def fetch(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        self.requests.append(url)
        if url not in self.docs:
            raise FetchError(f"404 for {url}", code="fetch.status")
        body = self.docs[url].encode("utf-8")
        if len(body) > max_bytes:
            raise FetchError("too large", code="fetch.too_large")
        return body


def make_verifier(*, docs: dict[str, str] | None = None, registry: Any = None,
                  fetcher: Any = None, result_cache: Any = None,
                  schema_dir: Path = OWN / "schemas") -> Verifier:
    cache = MemoryCache(max_entries=1000)
    fetcher = fetcher if fetcher is not None else MemoryFetcher(docs or {})
    schemas = SchemaStore(local_dir=schema_dir, fetcher=None, cache=cache,
                          fetch_remote=False, max_bytes=256 * 1024, ttl=60)
    return Verifier(
        formats=[SdJwtVcFormat(), JwtVcFormat()], resolver=offline_resolver(), registry=registry,
        status_lists=StatusListFetcher(fetcher, cache, max_bytes=512 * 1024, default_ttl=60,
                                       max_ttl=600),
        schemas=schemas, result_cache=result_cache,
        clock=lambda: datetime(2026, 6, 1, 0, 5, 1, tzinfo=UTC))


def input_of(vector: dict[str, Any], policy: Policy | None = None) -> VerificationInput:
    key = "presentation" if vector["kind"] == "vp" else "credential"
    return VerificationInput(**{key: vector["input"]}, nonce=vector.get("nonce"),
                             audience=vector.get("audience"), at=at_of(vector),
                             policy=policy or Policy())


def failing_codes(report: Any) -> list[str]:
    codes = [c.code for c in report.checks if c.status in ("failed", "error")]
    for cred in report.credentials:
        codes += [c.code for c in cred.checks if c.status in ("failed", "error")]
    return codes
