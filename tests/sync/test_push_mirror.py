"""Push to one node, mirror to another: real apps on 127.0.0.1, separate stores."""

from __future__ import annotations

import asyncio

import pytest

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


async def test_push_reaches_mirror_and_tao_revocation_reaches_every_node(
        make_client: ClientFactory) -> None:
    h = Hierarchy()
    a = await make_client(**h.settings())
    b = await make_client(**h.settings(sync_mirror_peers=[base_url(a)]))
    c = await make_client(**h.settings(sync_mirror_peers=[base_url(b)]))
    code, body = await push(a, h.bootstrap())
    assert code == 200, body
    assert body["status"] == "applied" and body["log"] == {"first": 1, "last": 3}
    provider, university = Actor(), Actor()
    code, body = await push(a, h.es.batch([h.ti(provider), h.ti(university)]))
    assert code == 200, body
    assert await accredited(a, provider.did)
    assert not await accredited(b, provider.did)

    [result] = await mirror(b)
    assert result["status"] == "applied" and result["to"] == 5, str(result)
    [result] = await mirror(c)  # a mirror of a mirror verifies the same signed batches
    assert result["status"] == "applied" and result["to"] == 5, str(result)
    for node in (a, b, c):
        assert await accredited(node, provider.did)
        assert await accredited(node, university.did)

    # The EU registry revokes the Spanish TAO: every TI below it fails, on every node.
    code, body = await push(a, h.eu.batch([revoke_issuer(h.tao_es)]))
    assert code == 200, body
    assert (await mirror(b))[0]["status"] == "applied"
    assert (await mirror(c))[0]["status"] == "applied"
    for node in (a, b, c):
        assert not await accredited(node, provider.did)
        assert not await accredited(node, university.did)
    st = await status(c)
    assert st["log"]["seq"] == 6 and st["peers"][0]["seq"] == 6
    assert st["peers"][0]["last_error"] is None
    assert (await mirror(b))[0]["status"] == "up_to_date"


async def test_log_and_head_are_served_and_the_head_is_signed(make_client: ClientFactory) -> None:
    h = Hierarchy()
    a = await make_client(**h.settings())
    assert (await push(a, h.bootstrap()))[0] == 200
    resp = await a.get("/v1/registry/log/head")
    head = await resp.json()
    assert head["head"]["seq"] == 3 and head["jws"].count(".") == 2
    st = await status(a)
    assert head["head"]["node_did"] == st["node_did"]
    assert head["head"]["hash"] == st["log"]["hash"]
    page = await (await a.get("/v1/registry/log", params={"after": "1", "limit": "1"})).json()
    assert [e["seq"] for e in page["entries"]] == [2] and page["next"] == 2
    assert page["entries"][0]["origin"]["index"] == 1
    first = await (await a.get("/v1/registry/log", params={"after": "0"})).json()
    [digest] = first["batches"]
    resp = await a.get(f"/v1/registry/batches/{digest}")
    assert resp.status == 200 and resp.content_type == "application/jose"
    bad = await a.get("/v1/registry/log", params={"limit": "0"})
    assert bad.status == 400


@pytest.mark.postgres
async def test_postgres_node_pushes_and_an_sqlite_node_mirrors(
        make_client: ClientFactory, postgres_url: str) -> None:
    h = Hierarchy()
    a = await make_client(**h.settings(database_url=postgres_url))
    b = await make_client(**h.settings(sync_mirror_peers=[base_url(a)]))
    provider = Actor()
    assert (await push(a, h.bootstrap()))[0] == 200
    code, body = await push(a, h.es.batch([h.ti(provider)]))
    assert code == 200 and body["log"] == {"first": 4, "last": 4}, body
    assert (await push(a, h.es.batch([h.ti(Actor())], sequence=1)))[0] == 409
    [result] = await mirror(b)
    assert result["status"] == "applied" and result["to"] == 4, str(result)
    assert await accredited(a, provider.did) and await accredited(b, provider.did)
    assert (await status(a))["log"]["hash"] == (await status(b))["peers"][0]["hash"]


async def test_periodic_mirroring_catches_up_without_events(make_client: ClientFactory) -> None:
    h = Hierarchy()
    a = await make_client(**h.settings())
    b = await make_client(**h.settings(sync_mirror_peers=[base_url(a)],
                                       sync_mirror_interval_seconds=0.2))
    assert (await push(a, h.bootstrap()))[0] == 200  # separate caches: no event reaches B
    for _ in range(100):
        if (await status(b))["log"]["seq"] == 3:
            break
        await asyncio.sleep(0.05)
    assert (await status(b))["peers"][0]["seq"] == 3
