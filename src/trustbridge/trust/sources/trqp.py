"""A remote TRQP v2 registry as a trust source (``POST {base}/authorization``).

The node asks ``{entity_id: issuer, authority_id, action: "issue", resource: type,
context: {time: at}}`` for each credential type until one is authorized. ``authorized:
true`` → trusted; ``false`` → not_trusted (not authoritative: the remote registry's
refusal does not veto other sources); anything else (network, status, malformed
answer) → unavailable.

Adapter note: ``trustbridge.fetch.SafeFetcher`` only GETs, so the POST here reuses its URL
vetting (``vet``: https only, no private addresses, host allow-list) and connects to
exactly the vetted addresses through ``fetch._PinnedResolver``. Signed TRQP responses are
not required or verified.
"""

from __future__ import annotations

import json
import ssl
from datetime import datetime
from typing import Any

import aiohttp

from trustbridge.errors import FetchError
from trustbridge.fetch import SafeFetcher, _PinnedResolver
from trustbridge.trust.interface import SourceAnswer, SourceStatus, TrustSubject, answer

MAX_ANSWER_BYTES = 64 * 1024


class TrqpSource:
    def __init__(self, name: str, base_url: str, *, authority_id: str,
                 fetcher: SafeFetcher | None = None, action: str = "issue") -> None:
        self.name = name
        self.base_url = base_url.rstrip("/")
        self.authority_id = authority_id
        self.fetcher = fetcher or SafeFetcher()
        self.action = action

    async def _post(self, url: str, body: dict[str, Any]) -> Any:
        parsed, addresses = await self.fetcher.vet(url)
        ssl_ctx: ssl.SSLContext = getattr(self.fetcher, "_ssl", None) or \
            ssl.create_default_context()
        connector = aiohttp.TCPConnector(
            resolver=_PinnedResolver(parsed.host or "", addresses), use_dns_cache=False,
            ssl=ssl_ctx if parsed.scheme == "https" else False, force_close=True, limit=1)
        timeout = aiohttp.ClientTimeout(total=self.fetcher.timeout,
                                        sock_connect=self.fetcher.connect_timeout)
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                             trust_env=False) as session, \
                    session.post(parsed, json=body, allow_redirects=False,
                                 headers={"Accept": "application/json"}) as resp:
                if resp.status != 200:
                    raise FetchError(f"POST {url} answered {resp.status}", code="fetch.status")
                raw = await resp.content.read(MAX_ANSWER_BYTES + 1)
        except TimeoutError as exc:
            raise FetchError(f"POST {url} timed out", code="fetch.timeout") from exc
        except aiohttp.ClientError as exc:
            raise FetchError(f"POST {url} failed: {exc}", code="fetch.failed") from exc
        if len(raw) > MAX_ANSWER_BYTES:
            raise FetchError(f"POST {url} answer too large", code="fetch.too_large")
        try:
            return json.loads(raw)
        except ValueError as exc:
            raise FetchError(f"POST {url} answered non-JSON", code="fetch.content_type") from exc

    def _query(self, subject: TrustSubject, resource: str, at: datetime) -> dict[str, Any]:
        return {"entity_id": subject.issuer, "authority_id": self.authority_id,
                "action": self.action, "resource": resource,
                "context": {"time": at.isoformat().replace("+00:00", "Z")}}

    async def evaluate(self, subject: TrustSubject) -> SourceAnswer:
        url = f"{self.base_url}/authorization"
        resources = [t for t in subject.types if t != "VerifiableCredential"] or \
            list(subject.types) or ["VerifiableCredential"]
        asked = []
        for resource in resources[:5]:
            try:
                got = await self._post(url, self._query(subject, resource, subject.at))
            except FetchError as exc:
                return answer(self.name, SourceStatus.UNAVAILABLE, "trust.trqp.unavailable",
                              exc.message, evidence={"registry": url})
            flag = got.get("authorized") if isinstance(got, dict) else None
            if not isinstance(flag, bool):
                return answer(self.name, SourceStatus.UNAVAILABLE, "trust.trqp.malformed",
                              "the registry's answer has no boolean 'authorized'",
                              evidence={"registry": url})
            asked.append({"resource": resource, "authorized": flag,
                          "message": str(got.get("message", ""))[:500],
                          "time_evaluated": got.get("time_evaluated")})
            if flag:
                return answer(self.name, SourceStatus.TRUSTED, "trust.trqp.authorized",
                              f"{url} authorizes {resource}",
                              evidence={"registry": url, "authority_id": self.authority_id,
                                        "answers": asked})
        return answer(self.name, SourceStatus.NOT_TRUSTED, "trust.trqp.not_authorized",
                      f"{url} does not authorize the issuer for these types",
                      evidence={"registry": url, "authority_id": self.authority_id,
                                "answers": asked})


__all__ = ["TrqpSource"]
