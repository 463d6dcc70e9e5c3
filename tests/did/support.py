"""A real HTTPS server on 127.0.0.1 with a throwaway CA (trustme) that serves DID documents
and counts every request it sees, plus a TCP server that accepts and never answers."""

from __future__ import annotations

import asyncio
import json
import ssl
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import trustme
from aiohttp import web

from trustbridge.cache import Cache
from trustbridge.cache.memory import MemoryCache
from trustbridge.crypto.jwk import jwk_from_public_key
from trustbridge.crypto.jws import generate_private_key
from trustbridge.did.resolver import CachingResolver
from trustbridge.fetch import SafeFetcher


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0
    chunks: int = 0  # >0: stream the body this many times, without Content-Length


@dataclass
class DocServer:
    port: int
    hits: Counter[str]
    routes: dict[str, Route]

    @property
    def authority(self) -> str:
        return f"localhost%3A{self.port}"

    def serve_document(self, path: str, document: dict[str, Any], **kw: Any) -> None:
        headers = {"Content-Type": "application/did+json", **kw.pop("headers", {})}
        self.routes[path] = Route(body=json.dumps(document).encode(), headers=headers, **kw)


def did_document(did: str) -> dict[str, Any]:
    key = generate_private_key("ES256").public_key()
    return {"@context": ["https://www.w3.org/ns/did/v1"], "id": did,
            "verificationMethod": [{"id": f"{did}#key-1", "type": "JsonWebKey2020",
                                    "controller": did,
                                    "publicKeyJwk": jwk_from_public_key(key)}],
            "assertionMethod": ["#key-1"]}


@dataclass
class ThrowawayCA:
    ca: trustme.CA
    ca_file: Path

    def server_context(self) -> ssl.SSLContext:
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        self.ca.issue_cert("localhost", "127.0.0.1", "::1").configure_cert(ctx)
        return ctx


def make_ca(tmp: Path) -> ThrowawayCA:
    ca = trustme.CA()
    path = tmp / "ca.pem"
    ca.cert_pem.write_to_path(str(path))
    return ThrowawayCA(ca, path)


@asynccontextmanager
async def doc_server(ca: ThrowawayCA) -> AsyncIterator[DocServer]:
    hits: Counter[str] = Counter()
    routes: dict[str, Route] = {}

    async def handler(request: web.Request) -> web.StreamResponse:
        hits[request.path] += 1
        route = routes.get(request.path)
        if route is None:
            return web.Response(status=404)
        if route.delay:
            await asyncio.sleep(route.delay)
        if route.chunks:
            resp = web.StreamResponse(status=route.status, headers=route.headers)
            await resp.prepare(request)
            for _ in range(route.chunks):
                await resp.write(route.body)
            return resp
        return web.Response(status=route.status, body=route.body, headers=route.headers)

    app = web.Application()
    app.router.add_route("GET", "/{tail:.*}", handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ca.server_context())
    await site.start()
    port = runner.addresses[0][1]
    try:
        yield DocServer(port, hits, routes)
    finally:
        await runner.cleanup()


@asynccontextmanager
async def silent_server() -> AsyncIterator[tuple[int, list[int]]]:
    """Accepts TCP connections and never says a word (for timeouts)."""
    connections: list[int] = []
    writers: list[asyncio.StreamWriter] = []

    async def handle(_reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        writers.append(writer)

    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield port, connections
    finally:
        for w in writers:
            w.close()
        server.close()
        await server.wait_closed()


def make_resolver(ca: ThrowawayCA, *, allow_hosts: tuple[str, ...] = ("localhost",),
                  allow_private: bool = True, cache: Cache | None = None, timeout: float = 3.0,
                  max_bytes: int = 256 * 1024, **kw: Any) -> CachingResolver:
    """A resolver that may reach the local test server (allow-listed, private allowed)."""
    fetcher = SafeFetcher(timeout=timeout, allow_hosts=allow_hosts, allow_private=allow_private,
                          ca_file=ca.ca_file)
    return CachingResolver(cache=cache if cache is not None else MemoryCache(), fetcher=fetcher,
                           max_bytes=max_bytes, **kw)
