"""The bulk write path of a pushed batch (COPY on PostgreSQL, executemany on SQLite) is part
of the batch's one transaction: a row that fails in the middle of it leaves nothing."""

from __future__ import annotations

from tests.conftest import ClientFactory
from tests.sync.support import Actor, Hierarchy, accredited, push, status
from trustbridge.registry.batch import AttributeIn


async def test_a_bad_row_in_the_middle_of_the_bulk_insert_rolls_the_batch_back(
        make_client: ClientFactory, database_url: str) -> None:
    h = Hierarchy()
    node = await make_client(**h.settings(database_url=database_url))
    assert (await push(node, h.bootstrap()))[0] == 200
    before = await status(node)
    providers = [Actor() for _ in range(7)]
    changes = [h.ti(p) for p in providers]
    batch = h.es.batch(changes)
    # A stray attribute row (no issuer row, so the batch verifies: its DIDs are all new)
    # collides with the bulk insert of the 4th provider's attribute.
    stray = changes[3]
    db = node.server.app["services"].db
    await db.execute(
        "INSERT INTO registry_attributes (did, id, position, body, issuer_type, tao, root_tao) "
        "VALUES (?, ?, 1, 'stray', 'TI', NULL, NULL)",
        stray["did"], AttributeIn.model_validate(stray["attribute"]).hash)

    code, _ = await push(node, batch)
    assert code == 500
    after = await status(node)
    assert after["log"] == before["log"]  # no entries, no batch record, same epoch
    for provider in providers:
        assert not await accredited(node, provider.did)
    rows = await db.fetch("SELECT did FROM registry_issuers WHERE did = ?", providers[0].did)
    assert rows == []

    await db.execute("DELETE FROM registry_attributes WHERE body = 'stray'")
    code, body = await push(node, batch)
    assert code == 200 and body["status"] == "applied", body
    assert body["log"] == {"first": before["log"]["seq"] + 1,
                           "last": before["log"]["seq"] + len(providers)}
    for provider in providers:
        assert await accredited(node, provider.did)
