"""ADAPTER (temporary): an SSRF-safe HTTPS GET with the promised ``SafeFetcher.fetch`` shape,
used only while ``trustbridge.fetch`` (the DID engineer's) is not installed.

Rules: ``https`` only; the host must be in the allow-list (``did_web_allow_hosts``; empty
means nothing is fetched -- conservative, as this is a stand-in); every
address the name resolves to must be public unless private addresses are explicitly
allowed (checked in the resolver, so the connection goes to a vetted address -- no DNS
rebinding between check and connect); no redirects; a body cap counted while reading;
a total timeout. Failures raise ``FetchError`` with stable codes. Delete this module
when ``trustbridge.fetch`` lands.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver

from trustbridge.errors import FetchError


def _public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return ip.is_global and not ip.is_multicast


class AddressRefused(OSError):
    """The name resolves only to addresses the policy forbids."""


class _VettingResolver(AbstractResolver):
    """Resolves through the default resolver and drops every non-public address."""

    def __init__(self, *, allow_private: bool) -> None:
        self._inner = DefaultResolver()
        self._allow_private = allow_private

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        allowed = [r for r in results if self._allow_private or _public(r["host"])]
        if not allowed:
            raise AddressRefused(f"{host} resolves only to non-public addresses")
        return allowed

    async def close(self) -> None:
        await self._inner.close()


class FallbackSafeFetcher:
    """``fetch(url, *, accept, max_bytes) -> bytes`` with the rules in the module docstring."""

    def __init__(self, *, allow_hosts: list[str] | None = None, allow_private: bool = False,
                 ca_file: Path | None = None, timeout: float = 5.0) -> None:
        self.allow_hosts = {h.lower() for h in (allow_hosts or [])}
        self.allow_private = allow_private
        self.ca_file = ca_file
        self.timeout = timeout
        self._session: aiohttp.ClientSession | None = None

    @classmethod
    def from_settings(cls, settings: Any) -> FallbackSafeFetcher:
        return cls(allow_hosts=list(settings.did_web_allow_hosts),
                   allow_private=bool(settings.did_web_allow_private),
                   ca_file=settings.did_web_ca_file,
                   timeout=float(settings.fetch_timeout_seconds))

    def _session_for(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            context = ssl.create_default_context(
                cafile=str(self.ca_file) if self.ca_file else None)
            connector = aiohttp.TCPConnector(
                ssl=context, resolver=_VettingResolver(allow_private=self.allow_private),
                limit=32)
            self._session = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=self.timeout),
                trust_env=False)
        return self._session

    def _vet(self, url: str) -> None:
        parts = urlsplit(url)
        host = (parts.hostname or "").lower()
        if parts.scheme != "https" or not host or parts.username or parts.password:
            raise FetchError(f"refusing to fetch {url!r}: only plain https URLs",
                             code="fetch.refused")
        # Conservative while this is a stand-in: no allow-list means nothing is fetched.
        if host not in self.allow_hosts:
            raise FetchError(f"host {host} is not in the fetch allow-list "
                             "(did_web_allow_hosts)", code="fetch.refused")
        try:
            literal = ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            return
        if not self.allow_private and not _public(str(literal)):
            raise FetchError(f"address {host} is not public", code="fetch.refused")

    async def fetch(self, url: str, *, accept: str, max_bytes: int) -> bytes:
        self._vet(url)
        try:
            async with self._session_for().get(url, headers={"Accept": accept},
                                               allow_redirects=False) as resp:
                if resp.status != 200:
                    raise FetchError(f"{url} answered HTTP {resp.status}", code="fetch.status",
                                     details={"status": resp.status})
                declared = resp.content_length
                if declared is not None and declared > max_bytes:
                    raise FetchError(f"{url} declares {declared} bytes > {max_bytes}",
                                     code="fetch.too_large")
                body = bytearray()
                async for chunk in resp.content.iter_chunked(16384):
                    body += chunk
                    if len(body) > max_bytes:
                        raise FetchError(f"{url} is larger than {max_bytes} bytes",
                                         code="fetch.too_large")
                return bytes(body)
        except TimeoutError as exc:
            raise FetchError(f"{url} timed out", code="fetch.timeout") from exc
        except aiohttp.ClientConnectorError as exc:
            refused = isinstance(exc.os_error, AddressRefused)
            code = "fetch.refused" if refused else "fetch.failed"
            raise FetchError(f"cannot connect for {url}: {exc}", code=code) from exc
        except aiohttp.ClientError as exc:
            raise FetchError(f"fetching {url} failed: {exc}", code="fetch.failed") from exc

    async def aclose(self) -> None:
        if self._session is not None:
            await self._session.close()


__all__ = ["FallbackSafeFetcher"]
