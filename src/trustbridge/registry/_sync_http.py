"""How sync reads other nodes and upstream registries: GET through the SSRF-safe fetcher,
with retries and exponential backoff on transient failures.

``trustbridge.fetch.SafeFetcher`` is used, with the operator-named sources allowed.
ADAPTER: if ``trustbridge.fetch`` is missing, a plain aiohttp GET with the same size cap
is used, and only for the URLs an operator configured or typed (mirror peers, upstream
registry), never for URLs found in data.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import urlsplit

from trustbridge.errors import FetchError, InfrastructureError

log = logging.getLogger(__name__)


class Getter(Protocol):
    async def get(self, url: str, *, accept: str, max_bytes: int) -> bytes: ...


class _SafeFetcherGetter:
    def __init__(self, fetcher: Any) -> None:
        self._fetcher = fetcher

    async def get(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        from trustbridge.status.fetcher import body_of

        return body_of(await self._fetcher.fetch(url, accept=accept, max_bytes=max_bytes))


class _PlainGetter:
    """ADAPTER (temporary): used only while ``trustbridge.fetch`` is not installed."""

    def __init__(self, timeout: float) -> None:
        self._timeout = timeout

    async def get(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        import aiohttp

        if not url.startswith(("http://", "https://")):
            raise FetchError(f"refusing to fetch {url!r}", code="fetch.refused")
        timeout = aiohttp.ClientTimeout(total=self._timeout)
        try:
            async with aiohttp.ClientSession(timeout=timeout) as session, session.get(
                    url, headers={"Accept": accept}, allow_redirects=False) as resp:
                if resp.status >= 400:
                    raise FetchError(f"GET {url} answered {resp.status}",
                                     code=f"fetch.status_{resp.status}",
                                     details={"status": resp.status})
                body = await resp.content.read(max_bytes + 1)
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise FetchError(f"GET {url} failed: {exc}", code="fetch.failed") from exc
        if len(body) > max_bytes:
            raise FetchError(f"GET {url} is larger than {max_bytes} bytes",
                             code="fetch.too_large")
        return body


def getter_of(services: Any, sources: Iterable[str] = ()) -> Getter:
    """``trustbridge.fetch.SafeFetcher`` (else the plain adapter, see the module doc), limited
    to the hosts of the operator-named ``sources`` (mirror peers, the upstream TIR, a URL given
    on the command line). Those may be private and plain http -- what they serve is verified,
    not trusted -- and sync never fetches a URL found in data: log pages, batches and TIR
    pages all come from the source's own origin.
    """
    try:
        fetch_module = importlib.import_module("trustbridge.fetch")
    except ModuleNotFoundError as exc:
        if exc.name not in ("trustbridge.fetch", "trustbridge"):
            raise
        log.warning("trustbridge.fetch is not installed: sync uses a plain HTTP GET for "
                    "configured peers and upstreams")
        return _PlainGetter(services.settings.fetch_timeout_seconds)
    hosts = sorted({host.lower() for url in sources if (host := urlsplit(url).hostname)})
    if not hosts:
        return _NoSources()
    return _SafeFetcherGetter(fetch_module.SafeFetcher.from_settings(
        services.settings, allow_hosts=hosts, allow_private=True))


class _NoSources:
    async def get(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        raise FetchError(f"{url} is not a configured sync source (sync_mirror_peers, "
                         "sync_upstream_url, or --from)", code="fetch.refused")


def _transient(exc: FetchError) -> bool:
    status = exc.details.get("status") if exc.details else None
    if isinstance(status, int):
        return status >= 500 or status == 429
    return exc.code not in ("fetch.refused", "fetch.too_large") and "status_4" not in exc.code


@dataclass
class RetryingGetter:
    """Retries transient failures with exponential backoff and jitter."""

    inner: Getter
    attempts: int = 4
    base_delay: float = 0.2
    max_delay: float = 5.0
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep
    retries: int = 0

    async def get(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        for attempt in range(1, self.attempts + 1):
            try:
                return await self.inner.get(url, accept=accept, max_bytes=max_bytes)
            except FetchError as exc:
                if attempt == self.attempts or not _transient(exc):
                    raise
            except InfrastructureError:
                if attempt == self.attempts:
                    raise
            self.retries += 1
            delay = min(self.max_delay, self.base_delay * 2 ** (attempt - 1))
            await self.sleep(delay * (0.5 + random.random() / 2))  # noqa: S311 -- jitter, not crypto
        raise AssertionError("unreachable")

    async def get_json(self, url: str, *, max_bytes: int) -> Any:
        body = await self.get(url, accept="application/json", max_bytes=max_bytes)
        try:
            return json.loads(body)
        except ValueError as exc:
            raise FetchError(f"GET {url} is not JSON: {exc}", code="fetch.malformed") from exc


__all__ = ["Getter", "RetryingGetter", "getter_of"]
