"""SSRF-safe GET for documents named by untrusted data (did:web, status lists, schemas, DIDR).

A URL found in a credential or a DID is an attacker's choice of where this node connects.
So every fetch:

1. accepts ``https`` only (``http`` only when private addresses are allowed, i.e. development
   and tests), no user-info, and — when an allow-list of hosts is configured — only those hosts;
2. resolves the host once and refuses the whole fetch if *any* address is loopback, private,
   link-local, multicast, reserved, unspecified or otherwise not global — also when hidden
   inside IPv4-mapped, 6to4, Teredo or NAT64 IPv6 addresses (unless ``allow_private``);
3. connects to exactly the vetted addresses (the connector's resolver returns them; there is
   no second DNS lookup to rebind), while TLS still verifies the certificate for the real host
   name (SNI and hostname come from the URL);
4. never follows redirects, bounds the connect and total time, caps the body size (declared
   and actual), and checks the response content type against what was asked for.

``FetchError`` codes: ``fetch.refused`` (policy), ``fetch.timeout``, ``fetch.failed``
(connection), ``fetch.status`` (any answer but 200, redirects included; ``details.status``),
``fetch.too_large``, ``fetch.content_type``.
"""

from __future__ import annotations

import asyncio
import functools
import ipaddress
import re
import socket
import ssl
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult
from yarl import URL

from trustbridge.errors import FetchError

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
# host, port -> addresses (getaddrinfo by default; tests may swap in a fixed table)
HostLookup = Callable[[str, int], Awaitable[list[IPAddress]]]

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*\"?(\d{1,10})\"?\s*(?:,|$)", re.IGNORECASE)
_NO_STORE = re.compile(r"(?:^|,)\s*(?:no-store|no-cache|private)\s*(?:,|$|=)", re.IGNORECASE)


def address_refusal(ip: IPAddress) -> str | None:
    """Why ``ip`` must not be contacted, or ``None`` for a public unicast address."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded: IPAddress | None = ip.ipv4_mapped or ip.sixtofour
        if embedded is None and ip.teredo is not None:
            embedded = ip.teredo[1]
        if embedded is None and (ip in _NAT64 or ip in _NAT64_LOCAL):
            embedded = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_refusal(embedded)
            return f"embeds {embedded}: {inner}" if inner else None
    for name in ("is_unspecified", "is_loopback", "is_link_local", "is_multicast",
                 "is_private", "is_reserved"):
        if getattr(ip, name):
            return name.removeprefix("is_").replace("_", "-") + " address"
    if not ip.is_global:
        return "non-global address"
    return None


async def system_lookup(host: str, port: int) -> list[IPAddress]:
    """Every address ``getaddrinfo`` gives for ``host`` (IPv4 and IPv6)."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    out: list[IPAddress] = []
    for _family, _type, _proto, _name, sockaddr in infos:
        ip = ipaddress.ip_address(str(sockaddr[0]).split("%", 1)[0])
        if ip not in out:
            out.append(ip)
    return out


class _PinnedResolver(AbstractResolver):
    """Answers aiohttp's lookup with the addresses that were already vetted, nothing else."""

    def __init__(self, host: str, addresses: list[IPAddress]) -> None:
        self._host = host
        self._addresses = addresses

    async def resolve(self, host: str, port: int = 0,
                      family: socket.AddressFamily = socket.AF_INET) -> list[ResolveResult]:
        if host != self._host:  # pragma: no cover - one session per URL, redirects are off
            raise OSError(f"unexpected host {host!r}")
        return [ResolveResult(hostname=host, host=str(ip), port=port,
                              family=socket.AF_INET6 if ip.version == 6 else socket.AF_INET,
                              proto=0, flags=socket.AI_NUMERICHOST)
                for ip in self._addresses]

    async def close(self) -> None:
        return None


@dataclass(frozen=True)
class FetchedDocument:
    """A fetched body with the response facts callers cache on."""

    url: str
    body: bytes
    content_type: str
    cache_control_max_age: int | None  # None: no max-age given; 0: must not be cached


def media_types(accept: str) -> list[str]:
    """The media types of an Accept header value (parameters and q-values dropped)."""
    return [part.split(";", 1)[0].strip().lower() for part in accept.split(",") if part.strip()]


def content_type_acceptable(content_type: str, accept: str) -> bool:
    """Whether a response's type is one the caller asked for; asking for ``application/json``
    also accepts any ``+json`` type (RFC 6839 structured syntax suffix)."""
    wanted = media_types(accept)
    if not wanted or "*/*" in wanted:
        return True
    got = content_type.split(";", 1)[0].strip().lower()
    return any(got == w or (w.endswith("/*") and got.startswith(w[:-1]))
               or (w == "application/json" and got.startswith("application/")
                   and got.endswith("+json"))
               for w in wanted)


def max_age_of(cache_control: str | None) -> int | None:
    if not cache_control:
        return None
    if _NO_STORE.search(cache_control):
        return 0
    match = _MAX_AGE.search(cache_control)
    return int(match.group(1)) if match else None


def _tls_context(ca_file: Path | None) -> ssl.SSLContext:
    """The verifying TLS context, shared by every fetcher of the process that trusts the same
    CAs: loading the system's CA bundle took ~40 ms per fetcher (every app start). Keyed on
    the extra CA file's path, size and mtime, so a replaced file is read again. Never changed
    after it is made."""
    if ca_file is None:
        return _tls_context_for(None)
    stat = ca_file.stat()
    return _tls_context_for((str(ca_file), stat.st_size, stat.st_mtime_ns))


@functools.lru_cache(maxsize=16)
def _tls_context_for(ca: tuple[str, int, int] | None) -> ssl.SSLContext:
    context = ssl.create_default_context()
    if ca is not None:
        context.load_verify_locations(cafile=ca[0])
    return context


class SafeFetcher:
    """GET with the SSRF rules above; one short-lived connection pool per fetch."""

    def __init__(self, *, timeout: float = 5.0, connect_timeout: float | None = None,
                 allow_private: bool = False, allow_hosts: Iterable[str] = (),
                 ca_file: Path | None = None, lookup: HostLookup = system_lookup,
                 user_agent: str = "TrustBridge") -> None:
        self.timeout = timeout
        self.connect_timeout = connect_timeout if connect_timeout is not None else timeout
        self.allow_private = allow_private
        self.allow_hosts = frozenset(h.lower() for h in allow_hosts)
        self._lookup = lookup
        self._ssl = _tls_context(ca_file)
        self._user_agent = user_agent

    @classmethod
    def from_settings(cls, settings: Any, **overrides: Any) -> SafeFetcher:
        values: dict[str, Any] = {
            "timeout": settings.fetch_timeout_seconds,
            "allow_private": settings.did_web_allow_private,
            "allow_hosts": settings.did_web_allow_hosts,
            "ca_file": settings.did_web_ca_file,
        }
        values.update(overrides)
        return cls(**values)

    def host_allowed(self, host: str) -> bool:
        """With an allow-list configured, only its hosts are fetched (tests, locked-down nodes)."""
        return not self.allow_hosts or host in self.allow_hosts

    async def vet(self, url: str) -> tuple[URL, list[IPAddress]]:
        """Steps 1-2: the parsed URL and the addresses it may be fetched from."""
        try:
            parsed = URL(url)
        except (ValueError, TypeError) as exc:
            raise FetchError(f"not a URL: {exc}", code="fetch.refused") from exc
        host = (parsed.host or "").lower()
        if not parsed.is_absolute() or not host:
            raise FetchError("only absolute URLs are fetched", code="fetch.refused")
        if parsed.user is not None or parsed.password is not None:
            raise FetchError("URLs with credentials are not fetched", code="fetch.refused")
        if parsed.scheme != "https" and not (parsed.scheme == "http" and self.allow_private):
            raise FetchError(f"scheme {parsed.scheme!r} is not fetched (https only)",
                             code="fetch.refused")
        if not self.host_allowed(host):
            raise FetchError(f"{host} is not in the allow-list of hosts", code="fetch.refused")
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        try:
            addresses = [ipaddress.ip_address(host.strip("[]"))]
        except ValueError:
            try:
                addresses = await asyncio.wait_for(self._lookup(host, port), self.connect_timeout)
            except TimeoutError as exc:
                raise FetchError(f"DNS lookup of {host} timed out", code="fetch.timeout") from exc
            except OSError as exc:
                raise FetchError(f"cannot resolve {host}: {exc}", code="fetch.failed") from exc
        if not addresses:
            raise FetchError(f"{host} has no addresses", code="fetch.failed")
        if not self.allow_private:
            for ip in addresses:
                reason = address_refusal(ip)
                if reason is not None:
                    raise FetchError(f"{host} resolves to {ip} ({reason})", code="fetch.refused",
                                     details={"address": str(ip)})
        return parsed, addresses

    async def fetch(self, url: str, *, accept: str, max_bytes: int) -> FetchedDocument:
        """Steps 1-4; ``FetchError`` for anything that is not a small, acceptable 200."""
        parsed, addresses = await self.vet(url)
        connector = aiohttp.TCPConnector(
            resolver=_PinnedResolver(parsed.host or "", addresses), use_dns_cache=False,
            ssl=self._ssl if parsed.scheme == "https" else False, force_close=True, limit=1)
        timeout = aiohttp.ClientTimeout(total=self.timeout, sock_connect=self.connect_timeout)
        headers = {"Accept": accept, "User-Agent": self._user_agent,
                   "Accept-Encoding": "identity"}
        try:
            async with aiohttp.ClientSession(connector=connector, timeout=timeout,
                                             trust_env=False, auto_decompress=False) as session, \
                    session.get(parsed, headers=headers, allow_redirects=False) as resp:
                return await self._read(url, resp, accept=accept, max_bytes=max_bytes)
        except TimeoutError as exc:
            raise FetchError(f"GET {url} timed out", code="fetch.timeout") from exc
        except aiohttp.ClientError as exc:
            raise FetchError(f"GET {url} failed: {exc}", code="fetch.failed") from exc

    @staticmethod
    async def _read(url: str, resp: aiohttp.ClientResponse, *, accept: str,
                    max_bytes: int) -> FetchedDocument:
        if resp.status != 200:
            note = "; redirects are not followed" if 300 <= resp.status < 400 else ""
            raise FetchError(f"GET {url} answered {resp.status}{note}", code="fetch.status",
                             details={"status": resp.status})
        if resp.content_length is not None and resp.content_length > max_bytes:
            raise FetchError(f"GET {url} declares {resp.content_length} bytes (cap {max_bytes})",
                             code="fetch.too_large")
        content_type = resp.headers.get("Content-Type", "")
        if not content_type_acceptable(content_type, accept):
            raise FetchError(f"GET {url} returned {content_type or 'no content type'}, "
                             f"expected {accept}", code="fetch.content_type")
        chunks: list[bytes] = []
        size = 0
        async for chunk in resp.content.iter_chunked(64 * 1024):
            size += len(chunk)
            if size > max_bytes:
                raise FetchError(f"GET {url} is larger than {max_bytes} bytes",
                                 code="fetch.too_large")
            chunks.append(chunk)
        return FetchedDocument(url=url, body=b"".join(chunks), content_type=content_type,
                               cache_control_max_age=max_age_of(resp.headers.get("Cache-Control")))

    async def aclose(self) -> None:
        return None


def fetcher_of(services: Any) -> SafeFetcher:
    """The shared fetcher component (attached by ``trustbridge.did.service``)."""
    existing = services.components.get("fetcher")
    if isinstance(existing, SafeFetcher):
        return existing
    return SafeFetcher.from_settings(services.settings)


__all__ = [
    "FetchedDocument",
    "HostLookup",
    "SafeFetcher",
    "address_refusal",
    "content_type_acceptable",
    "fetcher_of",
    "max_age_of",
    "media_types",
    "system_lookup",
]
