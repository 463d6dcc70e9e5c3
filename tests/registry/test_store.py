"""RegistryStore on SQLite and PostgreSQL: reads, keyset pages, atomic writes, the epoch."""

from __future__ import annotations

import pytest

from trustbridge.errors import NotFound
from trustbridge.registry.model import Attribute, IssuerRecord
from trustbridge.registry.store import RegistryStore
from trustbridge.store import Database


def record(i: int, *, tao: str = "did:key:tao", country: str = "ES") -> IssuerRecord:
    did = f"did:key:zIssuer{i:06d}"
    body = f"header.payload{i}.signature"
    return IssuerRecord(did=did, name=f"Provider {i} Formación", country=country,
                        attributes=(Attribute(id=f"{i:064x}", did=did, body=body,
                                              issuer_type="TI", tao=tao, root_tao="did:key:r"),))


async def test_put_get_and_epoch_moves_once_per_transaction(db: Database) -> None:
    store = RegistryStore(db)
    assert await store.is_empty() and await store.epoch() == 0
    async with store.transaction() as w:
        for i in range(3):
            await w.put_record(record(i))
    assert await store.epoch() == 1
    got = await store.get_issuer("did:key:zIssuer000001")
    assert got is not None and got.name == "Provider 1 Formación" and got.country == "ES"
    assert got.attributes[0].issuer_type == "TI" and got.attributes[0].tao == "did:key:tao"
    many = await store.get_issuers(["did:key:zIssuer000000", "did:key:nobody",
                                    "did:key:zIssuer000002"])
    assert sorted(many) == ["did:key:zIssuer000000", "did:key:zIssuer000002"]
    assert await store.get_attribute("did:key:zIssuer000002", f"{2:064x}") is not None
    assert (await store.find_attribute(f"{1:064x}")).did == "did:key:zIssuer000001"  # type: ignore[union-attr]


async def test_failed_transaction_leaves_nothing(db: Database) -> None:
    store = RegistryStore(db)
    async with store.transaction() as w:
        await w.put_record(record(0))
    with pytest.raises(NotFound):
        async with store.transaction() as w:
            await w.put_record(record(1))
            await w.revoke_attribute("did:key:zIssuer000000", "f" * 64)  # unknown: aborts
    assert await store.get_issuer("did:key:zIssuer000001") is None
    assert await store.epoch() == 1 and await store.count_issuers() == 1


async def test_revocation_keeps_the_jwt_and_marks_revoked(db: Database) -> None:
    store = RegistryStore(db)
    async with store.transaction() as w:
        await w.put_record(record(0))
        await w.put_record(record(1))
    async with store.transaction() as w:
        await w.revoke_attribute("did:key:zIssuer000000", f"{0:064x}")
        await w.revoke_issuer("did:key:zIssuer000001")
    first = await store.get_issuer("did:key:zIssuer000000")
    second = await store.get_issuer("did:key:zIssuer000001")
    assert first is not None and first.attributes[0].revoked and not first.revoked
    assert first.attributes[0].body == "header.payload0.signature"
    assert second is not None and second.revoked and second.attributes[0].revoked
    assert await store.epoch() == 2


async def test_keyset_pages_search_and_subtree(db: Database) -> None:
    store = RegistryStore(db)
    async with store.transaction() as w:
        await w.bulk_insert([record(i, tao="did:key:tao-a" if i % 2 else "did:key:tao-b",
                                    country="ES" if i < 10 else "FI") for i in range(25)])
    assert await store.count_issuers() == 25
    seen: list[str] = []
    after = 0
    while True:
        page = await store.list_issuers(after, 10)
        if not page:
            break
        seen += [r.did for r in page]
        after = page[-1].seq
    assert seen == [f"did:key:zIssuer{i:06d}" for i in range(25)]
    assert await store.last_page_cursor(10) == 20
    assert await store.cursor_before(20, 10) == 10
    assert await store.cursor_before(10, 10) == 0
    hits = await store.search("provider 7 ")
    assert [h.did for h in hits] == ["did:key:zIssuer000007"]
    assert len(await store.search(country="fi", page_size=100)) == 15
    assert [h.did for h in await store.search("zIssuer00002")] == [
        f"did:key:zIssuer{i:06d}" for i in range(20, 25)]
    assert await store.search("100%_") == []
    below = await store.issuers_accredited_by("did:key:tao-a")
    assert len(below) == 12 and "did:key:zIssuer000001" in below
