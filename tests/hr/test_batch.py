"""``POST /v1/verify/batch`` over a real socket: order, inline problems, shared fact fetching."""

from __future__ import annotations

from typing import Any

from tests.conftest import ClientFactory
from tests.hr.support import (
    STATUS_AT,
    HttpsServer,
    demo_settings,
    status_credential,
    unaccredited_item,
    vp_item,
)

RELAXED = {"require_accredited_issuer": False, "check_schema": False}


async def test_mixed_batch_of_100_in_order(make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings())
    items: list[Any] = []
    for i in range(100):
        kind = i % 4
        if kind == 0:
            items.append(vp_item())
        elif kind == 1:
            items.append(unaccredited_item())
        elif kind == 2:
            items.append({"credential": "x", "presentation": "y"})  # both: unusable
        else:
            items.append(vp_item(nonce="wrong-nonce"))
    resp = await client.post("/v1/verify/batch", json={"items": items})
    assert resp.status == 200, await resp.text()
    data = await resp.json()
    assert [r["index"] for r in data["items"]] == list(range(100))
    for r in data["items"]:
        kind = r["index"] % 4
        if kind == 0:
            assert r["status"] == 200 and r["report"]["verdict"] == "valid", r
        elif kind == 1:
            assert r["report"]["verdict"] == "invalid"
        elif kind == 2:
            assert r["status"] == 400 and r["problem"]["code"] == "request.nothing_to_verify"
            assert "report" not in r
        else:
            assert r["report"]["verdict"] == "invalid"
    assert data["summary"] == {"valid": 25, "invalid": 50, "indeterminate": 0, "rejected": 25}


async def test_item_limit_and_empty(make_client: ClientFactory) -> None:
    client = await make_client(**demo_settings(hr_batch_max_items=3))
    resp = await client.post("/v1/verify/batch", json={"items": [vp_item()] * 4})
    assert resp.status == 400
    assert (await resp.json())["code"] == "batch.too_many_items"
    resp = await client.post("/v1/verify/batch", json={"items": []})
    assert (await resp.json())["code"] == "batch.empty"
    resp = await client.post("/v1/verify/batch", json={"items": [42, "jwt?", None]})
    data = await resp.json()
    assert [r["problem"]["code"] for r in data["items"]] == ["request.schema"] * 3


async def test_one_status_list_fetch_for_a_concurrent_batch(
        list_server: HttpsServer, make_client: ClientFactory) -> None:
    """50 distinct credentials on two lists, verified concurrently: each list fetched once."""
    url_a = list_server.publish("/lists/a", revoked=[3, 5])
    url_b = list_server.publish("/lists/b", revoked=[])
    client = await make_client(did_web_allow_hosts=["localhost"], did_web_allow_private=True,
                               did_web_ca_file=list_server.ca_file, hr_batch_concurrency=50,
                               hr_batch_max_items=50)
    items = [{"credential": status_credential(url_a if i % 2 else url_b, i), "at": STATUS_AT,
              "policy": RELAXED} for i in range(50)]
    resp = await client.post("/v1/verify/batch", json={"items": items})
    data = await resp.json()
    verdicts = [r["report"]["verdict"] for r in data["items"]]
    assert verdicts[3] == "invalid" and verdicts[5] == "invalid"
    assert verdicts.count("valid") == 48
    assert list_server.hits == {"/lists/a": 1, "/lists/b": 1}
