"""Pushes that must be refused with nothing applied: replays, gaps, foreign jurisdictions,
forged accreditations, bad signatures, unknown registries."""

from __future__ import annotations

import json
from typing import Any

from aiohttp.test_utils import TestClient

from tests.conftest import ClientFactory
from tests.sync.support import Actor, Hierarchy, Registry, accredited, push, status


async def _state(client: TestClient[Any, Any]) -> tuple[int, int]:
    st = await status(client)
    return st["log"]["seq"], st["log"]["epoch"]


async def _node(make_client: ClientFactory) -> tuple[Hierarchy, TestClient[Any, Any]]:
    h = Hierarchy()
    node = await make_client(**h.settings())
    code, body = await push(node, h.bootstrap())
    assert code == 200, body
    return h, node


async def test_replay_is_idempotent_and_other_content_or_gaps_conflict(
        make_client: ClientFactory) -> None:
    h, node = await _node(make_client)
    batch = h.es.batch([h.ti(Actor())])
    assert (await push(node, batch))[0] == 200
    before = await _state(node)
    code, body = await push(node, batch)  # the same batch again
    assert code == 200 and body["status"] == "duplicate", body
    code, body = await push(node, json.dumps({"batch": batch}), content_type="application/json")
    assert code == 200 and body["status"] == "duplicate", body
    assert await _state(node) == before
    code, body = await push(node, h.es.batch([h.ti(Actor())], sequence=1))
    assert code == 409 and body["code"] == "batch.replayed", body
    code, body = await push(node, h.es.batch([h.ti(Actor())], sequence=3))
    assert code == 409 and body["code"] == "batch.out_of_order", body
    assert body["expected"] == 2
    assert await _state(node) == before


async def test_batch_for_another_jurisdiction_is_refused_whole(
        make_client: ClientFactory) -> None:
    h, node = await _node(make_client)
    before = await _state(node)
    spanish, finnish = Actor(), Actor()
    code, body = await push(node, h.es.batch([
        h.ti(spanish), h.ti(finnish, tao=h.tao_fi, jurisdiction="FIN")]))
    assert code == 400 and body["code"] == "batch.rejected", body
    assert [(r["index"], r["code"]) for r in body["rejected"]] == [(1, "change.jurisdiction")]
    assert await _state(node) == before
    assert not await accredited(node, spanish.did)


async def test_one_forged_accreditation_refuses_the_batch(make_client: ClientFactory) -> None:
    h, node = await _node(make_client)
    before = await _state(node)
    good, forged_for, also_good = Actor(), Actor(), Actor()
    forger = Actor()
    forged = h.tao_es.accredit(forged_for, issuer_type="TI", jurisdiction="ESP", root=h.root,
                               signer=forger)  # claims tao_es, signed by someone else
    code, body = await push(node, h.es.batch([
        h.ti(good), {"op": "add_issuer", "did": forged_for.did, "attribute": forged},
        h.ti(also_good)]))
    assert code == 400 and body["code"] == "batch.rejected", body
    assert [r["index"] for r in body["rejected"]] == [1]
    assert "signature" in body["rejected"][0]["code"] or "kid" in body["rejected"][0]["reason"]
    assert await _state(node) == before
    for actor in (good, forged_for, also_good):
        assert not await accredited(node, actor.did)


async def test_signature_authorisation_and_format_errors(make_client: ClientFactory) -> None:
    h, node = await _node(make_client)
    before = await _state(node)
    stranger = Registry()
    code, body = await push(node, stranger.batch([h.ti(Actor())]))
    assert code == 403 and body["code"] == "batch.not_authorised", body
    # the signature authenticates before the payload is read (api/sync.py): a stranger
    # signing for ES is the stranger, not authorised; no JWS at all is anonymous (401)
    code, body = await push(node, h.es.batch([h.ti(Actor())], signer=stranger))
    assert code == 403 and body["code"] == "batch.not_authorised", body
    code, body = await push(node, "not.a.jws")
    assert code == 401 and body["code"] == "batch.unsigned", body
    code, body = await push(node, h.es.batch([{"op": "drop_table", "did": "did:key:z1"}]))
    assert code == 400 and body["code"] == "batch.malformed", body
    resp = await node.post("/v1/registry/batches", data="x", headers={"Content-Type":
                                                                     "text/plain"})
    assert resp.status == 415
    assert await _state(node) == before


async def test_a_tao_holding_accreditation_may_push_for_its_jurisdiction(
        make_client: ClientFactory) -> None:
    h, node = await _node(make_client)  # tao_es is not configured, but holds a TAO grant
    provider = Actor()
    code, body = await push(node, h.tao_es.batch([h.ti(provider)]))
    assert code == 200, body
    assert await accredited(node, provider.did)
    code, body = await push(node, h.tao_es.batch([h.ti(Actor(), tao=h.tao_fi,
                                                      jurisdiction="FIN")]))
    assert code == 400 and body["rejected"][0]["code"] == "change.jurisdiction", body
