"""registry.changed: every applied change reaches the caches of every node sharing a Redis."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import ClientFactory
from tests.sync.support import Actor, Hierarchy, accredited, base_url, push, revoke_issuer, status
from trustbridge.registry.events import RegistryChanged, events_of, on_registry_change


async def _eventually(check: Any, within: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while True:
        if await check():
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def _services(client: TestClient[Any, Any]) -> Any:
    return client.server.app["services"]


async def test_in_process_subscribers_see_each_change_with_dids_and_epoch(
        make_client: ClientFactory) -> None:
    h = Hierarchy()
    node = await make_client(**h.settings())
    seen: list[RegistryChanged] = []

    async def record(event: RegistryChanged) -> None:
        seen.append(event)

    on_registry_change(_services(node), record)
    await events_of(_services(node)).wait_listening()
    await _services(node).cache.set("verify:result:abc", b"{}")
    code, body = await push(node, h.bootstrap())
    assert code == 200
    await _eventually(lambda: _true(bool(seen)))
    assert set(seen[0].dids) == {h.root.did, h.tao_es.did, h.tao_fi.did}
    assert seen[0].epoch == body["epoch"] and seen[0].node == (await status(node))["node_did"]
    assert await _services(node).cache.get("verify:result:abc") is None


async def _true(value: bool) -> bool:
    return value


async def _two_nodes_sharing_redis(make_client: ClientFactory, redis_url: str
                                   ) -> tuple[Hierarchy, TestClient[Any, Any],
                                              TestClient[Any, Any]]:
    """A and B share one Redis; B mirrors A (no polling: only on A's events)."""
    h = Hierarchy()
    a = await make_client(**h.settings(redis_url=redis_url))
    b = await make_client(**h.settings(redis_url=redis_url, sync_mirror_peers=[base_url(a)]))
    for node in (a, b):
        await events_of(_services(node)).wait_listening()
    return h, a, b


@pytest.mark.redis
async def test_change_on_one_node_is_seen_on_another_within_seconds(
        make_client: ClientFactory, redis_url: str) -> None:
    h, a, b = await _two_nodes_sharing_redis(make_client, redis_url)
    on_b: list[RegistryChanged] = []

    async def record(event: RegistryChanged) -> None:
        on_b.append(event)

    on_registry_change(_services(b), record)
    provider = Actor()
    assert (await push(a, h.bootstrap()))[0] == 200
    assert (await push(a, h.es.batch([h.ti(provider)])))[0] == 200
    # B hears A's event and mirrors A at once: no polling interval configured.
    await _eventually(lambda: accredited(b, provider.did))
    b_did = (await status(b))["node_did"]
    assert any(provider.did in e.dids and e.node != b_did for e in on_b)
    assert (await push(a, h.eu.batch([revoke_issuer(h.tao_es)])))[0] == 200
    await _eventually(lambda: _not(accredited(b, provider.did)))
    assert (await status(b))["peers"][0]["seq"] == (await status(a))["log"]["seq"]


async def _not(value: Any) -> bool:
    return not await value


def _credential(provider: Actor) -> str:
    import time
    import uuid

    from tests.sync.support import SCHEMA, TYPES
    from trustbridge.registry.signed import sign_compact

    now = int(time.time())
    vc_id = f"urn:uuid:{uuid.uuid4()}"
    payload = {"iss": provider.did, "sub": "did:key:z6MkholderPlaceholder", "nbf": now - 30,
               "iat": now - 30, "exp": now + 3600, "jti": vc_id,
               "vc": {"@context": ["https://www.w3.org/2018/credentials/v1"],
                      "id": vc_id, "type": TYPES,
                      "issuer": provider.did, "issuanceDate": time.strftime(
                          "%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 30)),
                      "credentialSubject": {"id": "did:key:z6MkholderPlaceholder"},
                      "credentialSchema": {"id": SCHEMA, "type": "FullJsonSchemaValidator2021"}}}
    return sign_compact(payload, provider.key.private_key, kid=provider.key.kid, typ="JWT")


async def _verdict(node: TestClient[Any, Any], jwt: str) -> tuple[str, bool]:
    resp = await node.post("/v1/verify", json={"credential": jwt, "policy": {
        "check_status": False, "check_schema": False, "require_holder_binding": False}})
    body = await resp.json()
    assert resp.status == 200, body
    return body["verdict"], bool(body.get("cached"))


@pytest.mark.redis
async def test_revoked_tao_stops_its_credentials_verifying_on_every_node(
        make_client: ClientFactory, redis_url: str) -> None:
    h, a, b = await _two_nodes_sharing_redis(make_client, redis_url)
    provider = Actor()
    assert (await push(a, h.bootstrap()))[0] == 200
    assert (await push(a, h.es.batch([h.ti(provider)])))[0] == 200
    await _eventually(lambda: accredited(b, provider.did))
    jwt = _credential(provider)
    for node in (a, b):
        assert (await _verdict(node, jwt))[0] == "valid"
        assert await _verdict(node, jwt) == ("valid", True)  # served from the result cache
    assert (await push(a, h.eu.batch([revoke_issuer(h.tao_es)])))[0] == 200

    async def invalid_on_b() -> bool:
        return (await _verdict(b, jwt))[0] == "invalid"

    await _eventually(invalid_on_b)
    assert (await _verdict(a, jwt))[0] == "invalid"
