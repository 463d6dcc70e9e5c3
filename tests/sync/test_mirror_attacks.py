"""A mirror verifies, not trusts, the transport: a man in the middle (a proxy in front of the
real node) tampers with entries, rewrites history or drops entries; each pull is refused and
the mirror stays at its last good state, with the error on its status."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer

from tests.conftest import ClientFactory
from tests.sync.support import (
    Actor,
    Hierarchy,
    accredited,
    base_url,
    mirror,
    push,
    revoke_issuer,
    status,
)

Tamper = Callable[[str, bytes], bytes]


class Proxy:
    """Forwards GETs to ``target``; ``tamper(path, body)`` may rewrite what comes back."""

    def __init__(self) -> None:
        self.target = ""
        self.tamper: Tamper | None = None

    async def handle(self, request: web.Request) -> web.Response:
        async with aiohttp.ClientSession() as session, session.get(
                self.target + request.path_qs, headers={"Accept": request.headers.get(
                    "Accept", "*/*")}) as resp:
            body = await resp.read()
            ctype = resp.content_type
        if self.tamper is not None:
            body = self.tamper(request.path, body)
        return web.Response(body=body, status=resp.status, content_type=ctype)


@pytest.fixture
async def proxy() -> AsyncIterator[tuple[Proxy, str]]:
    p = Proxy()
    app = web.Application()
    app.router.add_get("/{tail:.*}", p.handle)
    server = TestServer(app, host="127.0.0.1")
    client: TestClient[Any, Any] = TestClient(server)
    await client.start_server()
    yield p, base_url(client)
    await client.close()


def _rewrite_entries(fn: Callable[[list[dict[str, Any]]], None]) -> Tamper:
    def tamper(path: str, body: bytes) -> bytes:
        if path != "/v1/registry/log":
            return body
        page = json.loads(body)
        fn(page["entries"])
        return json.dumps(page).encode()
    return tamper


async def _setup(make_client: ClientFactory, proxy_url: str, **extra: Any
                 ) -> tuple[Hierarchy, TestClient[Any, Any], TestClient[Any, Any]]:
    h = Hierarchy()
    a = await make_client(**h.settings(**extra))
    b = await make_client(**h.settings(sync_mirror_peers=[proxy_url]))
    assert (await push(a, h.bootstrap()))[0] == 200
    return h, a, b


async def _refused(b: TestClient[Any, Any], code: str, at_seq: int) -> None:
    [result] = await mirror(b)
    assert result["status"] == "refused" and result["code"] == code, result
    peer = (await status(b))["peers"][0]
    assert peer["seq"] == at_seq and peer["error_code"] == code, peer
    assert (await status(b))["log"]["seq"] == at_seq


async def test_tampered_entry_is_refused(make_client: ClientFactory,
                                         proxy: tuple[Proxy, str]) -> None:
    p, url = proxy
    h, a, b = await _setup(make_client, url)
    p.target = base_url(a)
    assert (await mirror(b))[0]["status"] == "applied"
    victim = Actor()
    assert (await push(a, h.es.batch([h.ti(victim)])))[0] == 200

    def swap_did(entries: list[dict[str, Any]]) -> None:
        entries[0]["change"]["did"] = Actor().did  # keep the hash: the chain check catches it

    p.tamper = _rewrite_entries(swap_did)
    await _refused(b, "log.entry_tampered", 3)

    def rehash(entries: list[dict[str, Any]]) -> None:  # recompute the hash too
        from trustbridge.registry.changelog import entry_hash

        e = entries[0]
        e["change"]["did"] = Actor().did
        e["entry_hash"] = entry_hash(e["seq"], e["change"], e["origin"], e["prev_hash"])

    p.tamper = _rewrite_entries(rehash)
    await _refused(b, "log.fork", 3)  # no longer ends at the signed head
    assert not await accredited(b, victim.did)
    p.tamper = None  # the honest transport again: the mirror catches up
    assert (await mirror(b))[0]["status"] == "applied"
    assert await accredited(b, victim.did)
    assert (await status(b))["peers"][0]["error_code"] is None


async def test_rewritten_history_under_the_same_node_key_is_a_fork(
        make_client: ClientFactory, proxy: tuple[Proxy, str]) -> None:
    from trustbridge.registry.signed import NodeKey

    p, url = proxy
    key = NodeKey.generate().to_pem()
    h, a, b = await _setup(make_client, url, sync_node_key_pem=key)
    p.target = base_url(a)
    assert (await push(a, h.es.batch([h.ti(Actor())])))[0] == 200
    assert (await mirror(b))[0]["to"] == 4
    # A second node with the same key and another history (a compromised node rewriting
    # its log), served at the same URL.
    forked = await make_client(**h.settings(sync_node_key_pem=key))
    assert (await push(forked, h.bootstrap()))[0] == 200
    h2 = Hierarchy(root=h.root, tao_es=h.tao_es, tao_fi=h.tao_fi, eu=h.eu, es=h.es)
    h2.es.sequence = 0
    assert (await push(forked, h2.es.batch([h2.ti(Actor()), h2.ti(Actor())])))[0] == 200
    p.target = base_url(forked)
    await _refused(b, "log.fork", 4)  # longer log, but it does not extend ours
    h2.es.sequence = 0
    assert (await push(a, h.es.batch([h.ti(Actor())], sequence=2)))[0] == 200
    p.target = base_url(a)
    assert (await mirror(b))[0]["status"] == "applied"


async def test_head_signed_by_another_key_or_gap_is_refused(
        make_client: ClientFactory, proxy: tuple[Proxy, str]) -> None:
    p, url = proxy
    h, a, b = await _setup(make_client, url)
    p.target = base_url(a)
    assert (await mirror(b))[0]["status"] == "applied"
    other = await make_client(**h.settings())
    assert (await push(other, h.bootstrap()))[0] == 200
    p.target = base_url(other)  # a different node answering at the pinned peer URL
    await _refused(b, "log.peer_key_changed", 3)
    p.target = base_url(a)
    assert (await push(a, h.es.batch([h.ti(Actor()), h.ti(Actor())])))[0] == 200

    def drop_first(entries: list[dict[str, Any]]) -> None:
        del entries[0]

    p.tamper = _rewrite_entries(drop_first)
    await _refused(b, "log.gap", 3)

    def forge_head(path: str, body: bytes) -> bytes:
        if path != "/v1/registry/log/head":
            return body
        head, payload, sig = body.decode().split(".")
        return f"{head}.{payload}.{sig[:-4]}AAAA".encode()

    p.tamper = forge_head
    await _refused(b, "log.head_signature_invalid", 3)


async def test_replayed_old_head_is_refused_as_stale(make_client: ClientFactory,
                                                     proxy: tuple[Proxy, str]) -> None:
    """A man in the middle replays yesterday's head to freeze the mirror in the past."""
    p, url = proxy
    h = Hierarchy()
    a = await make_client(**h.settings())
    b = await make_client(**h.settings(sync_mirror_peers=[url], sync_head_max_age_seconds=0.5))
    p.target = base_url(a)
    assert (await push(a, h.bootstrap()))[0] == 200
    old_head = await (await a.get("/v1/registry/log/head",
                                  headers={"Accept": "application/jose"})).read()
    assert (await mirror(b))[0]["status"] == "applied"
    assert (await push(a, h.eu.batch([revoke_issuer(h.tao_es)])))[0] == 200
    await asyncio.sleep(0.6)
    p.tamper = lambda path, body: old_head if path == "/v1/registry/log/head" else body
    await _refused(b, "log.head_stale", 3)
    p.tamper = None
    assert (await mirror(b))[0]["to"] == 4
