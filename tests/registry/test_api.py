"""Registry HTTP API on a real socket: EBSI TIR v5 shapes, the accreditation query, search,
and authenticated, all-or-nothing admin writes."""

from __future__ import annotations

import json
from typing import Any

from trustbridge.registry.model import FOR_TRUST_CHAIN, TO_ACCREDIT, TO_ATTEST, attribute_id

from ..conftest import FIXTURES, ROOT, ClientFactory
from .support import EV, MICRO, World, grant

TIR = "/trusted-issuers-registry/v5"
DEMO = json.loads((FIXTURES / "demo" / "demo.json").read_text())
EBSI = FIXTURES / "ebsi" / "tir"
TOKEN = "admin-token-for-tests"


def ebsi(name: str) -> dict[str, Any]:
    return json.loads((EBSI / name).read_text())["body"]


def same_shape(ours: Any, theirs: Any, where: str = "$") -> None:
    """Same keys and JSON kinds, recursively (lists compared item-wise on the first item)."""
    assert type(ours) is type(theirs), (where, ours, theirs)
    if isinstance(theirs, dict):
        assert set(ours) == set(theirs), (where, sorted(ours), sorted(theirs))
        for k in theirs:
            same_shape(ours[k], theirs[k], f"{where}.{k}")
    elif isinstance(theirs, list) and theirs and ours:
        same_shape(ours[0], theirs[0], f"{where}[0]")


async def test_tir_issuer_list_matches_ebsi_shape_and_pages(make_client: ClientFactory) -> None:
    client = await make_client()
    resp = await client.get(f"{TIR}/issuers", params={"page[size]": "3"})
    assert resp.status == 200
    body = await resp.json()
    same_shape(body, ebsi("issuers-list.pilot.json"))
    assert body["total"] == 8 and body["pageSize"] == 3 and len(body["items"]) == 3
    seen = [i["did"] for i in body["items"]]
    while len(seen) < body["total"]:
        nxt = await client.get(body["links"]["next"].split(str(client.make_url("")).rstrip("/"))
                               [-1])
        body = await nxt.json()
        seen += [i["did"] for i in body["items"]]
    assert len(set(seen)) == 8 and DEMO["navarra_provider"] in seen
    last = await (await client.get(body["links"]["last"].split(":" + str(client.port))[-1])).json()
    assert [i["did"] for i in last["items"]] == seen[6:]
    assert body["items"][0]["href"].endswith(f"{TIR}/issuers/{body['items'][0]['did']}")


async def test_tir_issuer_and_attributes_match_ebsi_shapes(make_client: ClientFactory) -> None:
    client = await make_client()
    did = DEMO["navarra_provider"]
    issuer = await (await client.get(f"{TIR}/issuers/{did}")).json()
    same_shape(issuer, ebsi("issuer.pilot.json"))
    attr = issuer["attributes"][0]
    assert attr["issuerType"] == "TI" and attr["rootTao"] == DEMO["trust_anchor"]
    assert attr["hash"] == attribute_id(attr["body"])
    listing = await (await client.get(f"{TIR}/issuers/{did}/attributes")).json()
    same_shape(listing, ebsi("issuer-attributes.pilot.json"))
    detail = await client.get(f"{TIR}/issuers/{did}/attributes/{attr['hash']}")
    same_shape(await detail.json(), ebsi("issuer-attribute.pilot.json"))


async def test_tir_errors_are_problems(make_client: ClientFactory) -> None:
    client = await make_client()
    cases = [(f"{TIR}/issuers?page[size]=51", 400), (f"{TIR}/issuers/not-a-did", 400),
             (f"{TIR}/issuers/did:key:z6MkUnknownUnknownUnknown", 404),
             (f"{TIR}/issuers?page[after]=x", 400),
             (f"{TIR}/issuers/{DEMO['navarra_provider']}/attributes/{'0' * 64}", 404),
             (f"{TIR}/issuers/{DEMO['navarra_provider']}/attributes/nothex", 400)]
    for path, status in cases:
        resp = await client.get(path)
        assert resp.status == status, path
        assert resp.content_type == "application/problem+json"
        body = await resp.json()
        assert {"title", "status", "detail"} <= set(body)


async def test_accreditation_query(make_client: ClientFactory) -> None:
    client = await make_client()
    ok = await (await client.get("/v1/registry/accreditation", params={
        "issuer": DEMO["navarra_provider"], "type": f"VerifiableAttestation,{EV}",
        "schema": DEMO["schema"], "jurisdiction": "ES", "at": "2026-01-01T00:00:00Z"})).json()
    assert ok["accredited"] is True, ok
    assert [c["issuer_type"] for c in ok["chain"]] == ["TI", "TAO", "RootTAO"]
    assert ok["country"] == "ES" and "Navarro" in ok["issuer_name"]
    no = await (await client.get("/v1/registry/accreditation", params={
        "issuer": DEMO["catalunya_university"], "type": EV, "schema": DEMO["schema"]})).json()
    assert no["accredited"] is False and no["code"] == "accreditation.type_mismatch"
    late = await (await client.get("/v1/registry/accreditation", params={
        "issuer": DEMO["navarra_provider"], "type": EV, "at": "2036-01-01T00:00:00Z"})).json()
    assert late["code"] == "accreditation.expired"
    bad = await client.get("/v1/registry/accreditation", params={"issuer": "nope"})
    assert bad.status == 400


async def test_search_by_name_and_country(make_client: ClientFactory) -> None:
    client = await make_client()
    hits = await (await client.get("/v1/registry/issuers", params={"q": "navarro"})).json()
    assert [h["did"] for h in hits["items"]] == [DEMO["navarra_provider"]]
    es = await (await client.get("/v1/registry/issuers", params={"country": "es"})).json()
    assert len(es["items"]) == 3 and all(h["country"] == "ES" for h in es["items"])


def _world_under_demo_root() -> tuple[World, str]:
    """A new TI accredited by the demo Spanish TAO (its demo key)."""
    from trustbridge.registry.issuance import DidKey

    w = World()
    keys = ROOT / "registry" / "demo-keys"
    for name in ("es-tao", "eu-root"):
        w.keys[name] = DidKey.from_pem(json.loads((keys / f"{name}.json").read_text())
                                       ["private_key_pem"])
    return w, w.did("es-tao")


async def test_admin_writes_need_a_token(make_client: ClientFactory) -> None:
    disabled = await make_client()
    body = {"did": "did:key:z6MkExample", "attributes": [
        {"jwt": "a.b.cdefghijk", "issuerType": "TI"}]}
    resp = await disabled.post("/v1/registry/issuers", json=body)
    assert resp.status == 403 and (await resp.json())["code"] == "registry.writes_disabled"
    client = await make_client(admin_token=TOKEN)
    assert (await client.post("/v1/registry/issuers", json=body)).status == 401
    wrong = await client.post("/v1/registry/issuers", json=body,
                              headers={"Authorization": "Bearer " + TOKEN[:-1] + "X"})
    assert wrong.status == 401 and (await wrong.json())["code"] == "auth.invalid"
    basic = await client.post("/v1/registry/issuers", json=body,
                              headers={"Authorization": "Basic " + TOKEN})
    assert basic.status == 401
    revoke = await client.post(f"/v1/registry/issuers/{DEMO['navarra_provider']}/revoke",
                               json={})
    assert revoke.status == 401


async def test_admin_adds_issuer_after_verifying_its_chain(make_client: ClientFactory) -> None:
    client = await make_client(admin_token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    w, _ = _world_under_demo_root()
    schema = DEMO["schema"]
    jwt = w.jwt(TO_ATTEST, "es-tao", "new-ti", [grant((EV,), "ES", schema=schema)])
    resp = await client.post("/v1/registry/issuers", headers=auth, json={
        "did": w.did("new-ti"), "name": "Nuevo Centro", "country": "ES",
        "attributes": [{"jwt": jwt, "issuerType": "TI"}]})
    assert resp.status == 201, await resp.text()
    created = await resp.json()
    assert created["attributes"][0]["tao"] == w.did("es-tao")
    q = await (await client.get("/v1/registry/accreditation", params={
        "issuer": w.did("new-ti"), "type": EV, "schema": schema})).json()
    assert q["accredited"] is True
    again = await client.post("/v1/registry/issuers", headers=auth, json={
        "did": w.did("new-ti"), "attributes": [{"jwt": jwt, "issuerType": "TI"}]})
    assert again.status == 409
    # revoking the Spanish TAO's accreditation fails every TI below it
    tao = await (await client.get(f"{TIR}/issuers/{w.did('es-tao')}")).json()
    rv = await client.post(f"/v1/registry/issuers/{w.did('es-tao')}/revoke", headers=auth,
                           json={"attributeId": tao["attributes"][0]["hash"]})
    assert rv.status == 200
    for did in (w.did("new-ti"), DEMO["navarra_provider"]):
        q = await (await client.get("/v1/registry/accreditation", params={
            "issuer": did, "type": EV})).json()
        assert q["code"] == "accreditation.revoked", q


async def test_write_with_one_bad_attribute_stores_nothing(make_client: ClientFactory) -> None:
    client = await make_client(admin_token=TOKEN)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    w, _ = _world_under_demo_root()
    schema = DEMO["schema"]
    good = w.jwt(TO_ATTEST, "es-tao", "ti", [grant((EV,), "ES", schema=schema)])
    exceeds = w.jwt(TO_ATTEST, "es-tao", "ti", [grant((EV,), "FI", schema=schema)])
    epoch_before = await _epoch(client)
    resp = await client.post("/v1/registry/issuers", headers=auth, json={
        "did": w.did("ti"), "attributes": [{"jwt": good, "issuerType": "TI"},
                                           {"jwt": exceeds, "issuerType": "TI"}]})
    assert resp.status == 400
    problem = await resp.json()
    assert problem["code"] == "registry.attribute_rejected"
    assert [r["index"] for r in problem["rejected"]] == [1]
    assert problem["rejected"][0]["code"] == "accreditation.jurisdiction"
    assert (await client.get(f"{TIR}/issuers/{w.did('ti')}")).status == 404
    assert await _epoch(client) == epoch_before
    # a self-made chain (not ending at the anchor) is refused too
    rogue = World()
    rogue.accredit(FOR_TRUST_CHAIN, "root", "root", [grant((EV, MICRO))])
    rogue.accredit(TO_ACCREDIT, "root", "tao", [grant((EV,))])
    jwt = rogue.jwt(TO_ATTEST, "tao", "ti", [grant((EV,))])
    resp = await client.post("/v1/registry/issuers", headers=auth, json={
        "did": rogue.did("ti"), "attributes": [{"jwt": jwt, "issuerType": "TI"}]})
    assert resp.status == 400
    assert (await resp.json())["rejected"][0]["code"] == "chain.untrusted_anchor"


async def _epoch(client: Any) -> int:
    services = client.server.app["services"]
    from trustbridge.registry.service import registry_of

    return await registry_of(services).epoch()
