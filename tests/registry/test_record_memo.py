"""EpochRecordMemo: records remembered per registry epoch; a write (new epoch) is seen at once."""

from __future__ import annotations

from trustbridge.registry.model import Attribute, IssuerRecord
from trustbridge.registry.record_memo import EpochRecordMemo
from trustbridge.registry.store import RegistryStore
from trustbridge.store import Database


def record(i: int) -> IssuerRecord:
    did = f"did:key:zMemo{i:04d}"
    return IssuerRecord(did=did, name=f"Provider {i}", country="ES",
                        attributes=(Attribute(id=f"{i:064x}", did=did, body=f"h.p{i}.s",
                                              issuer_type="TI", tao="did:key:t",
                                              root_tao="did:key:r"),))


async def test_revocation_after_a_read_is_seen_at_the_new_epoch(db: Database) -> None:
    store = RegistryStore(db)
    async with store.transaction() as w:
        await w.put_record(record(0))
    memo = EpochRecordMemo(store)
    before = await store.epoch()
    first = await memo.at(before).get_issuers(["did:key:zMemo0000", "did:key:zNobody"])
    assert list(first) == ["did:key:zMemo0000"] and not first["did:key:zMemo0000"].revoked
    async with store.transaction() as w:
        await w.revoke_issuer("did:key:zMemo0000")
        await w.put_record(record(1))
    after = await store.epoch()
    assert after > before
    now = await memo.at(after).get_issuers(["did:key:zMemo0000", "did:key:zNobody",
                                            "did:key:zMemo0001"])
    assert now["did:key:zMemo0000"].revoked and "did:key:zMemo0001" in now
    assert "did:key:zNobody" not in now


async def test_bounded(db: Database) -> None:
    store = RegistryStore(db)
    async with store.transaction() as w:
        for i in range(5):
            await w.put_record(record(i))
    memo = EpochRecordMemo(store, max_entries=3)
    epoch = await store.epoch()
    got = await memo.at(epoch).get_issuers([f"did:key:zMemo{i:04d}" for i in range(5)])
    assert len(got) == 5 and len(memo._memo) == 3
