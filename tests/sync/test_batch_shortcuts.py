"""A batch's accreditations judged with the port's shortcuts (facts above a TI's granters
gathered once per run, the chain above its link walked once: ``chain.ChainMemo``) and
without them: the same rejections, code and reason, for every kind of chain."""

from __future__ import annotations

from typing import Any

from tests.conftest import ClientFactory
from tests.sync.support import Actor, Hierarchy, add, push
from trustbridge.registry._sync_registry import RegistryStorePort
from trustbridge.registry.batch import Change


def varied_changes(h: Hierarchy, stored: Actor) -> list[dict[str, Any]]:
    """TIs below good, foreign, new, expired, looping and unknown granters, forged and
    self-made accreditations, an update of a stored TI: several TIs below each granter."""
    tao_new, tao_old, tao_sub, loop_tao, loop_ti, stranger = (Actor() for _ in range(6))
    changes = [
        add(tao_new, h.root.accredit(tao_new, issuer_type="TAO", jurisdiction="ESP")),
        add(tao_old, h.root.accredit(tao_old, issuer_type="TAO", jurisdiction="ESP",
                                     valid_for=-60)),
        add(tao_sub, h.tao_es.accredit(tao_sub, issuer_type="TAO", jurisdiction="ESP")),
        # a TAO accredited by a TI that it accredits in turn (a loop through the TI)
        add(loop_tao, loop_ti.accredit(loop_tao, issuer_type="TAO", jurisdiction="ESP")),
        add(loop_ti, loop_tao.accredit(loop_ti, issuer_type="TI", jurisdiction="ESP")),
        add(stored, h.tao_es.accredit(stored, issuer_type="TI", jurisdiction="ESP"),
            op="add_attribute"),
    ]
    for granter in (h.tao_es, h.tao_fi, h.root, tao_new, tao_old, tao_sub, loop_tao, stranger):
        for n in range(3):
            ti = Actor()
            attribute = granter.accredit(ti, issuer_type="TI", jurisdiction="ESP", root=h.root,
                                         signer=Actor() if n == 2 else None)
            changes.append(add(ti, attribute))
        mismatched = Actor()
        attribute = granter.accredit(mismatched, issuer_type="TI", jurisdiction="ESP")
        changes.append(add(mismatched, {**attribute, "tao": tao_new.did}))
    selfmade = Actor()
    changes.append(add(selfmade, selfmade.accredit(selfmade, issuer_type="TI",
                                                   jurisdiction="ESP")))
    return changes


async def test_shortcuts_give_the_same_rejections(make_client: ClientFactory) -> None:
    h = Hierarchy()
    node = await make_client(**h.settings())
    stored = Actor()
    assert (await push(node, h.bootstrap()))[0] == 200
    assert (await push(node, h.es.batch([h.ti(stored)])))[0] == 200
    engine = node.server.app["services"].components["sync"].engine
    port = engine.registry
    assert isinstance(port, RegistryStorePort)
    changes = [(i, Change.model_validate(c)) for i, c in enumerate(varied_changes(h, stored))]
    at = engine.clock()
    fast = await port.check_attributes(changes, at)
    port.shortcuts = False
    try:
        plain = await port.check_attributes(changes, at)
    finally:
        del port.shortcuts
    assert fast == plain
    codes = {r.code for r in plain}
    assert {"accreditation.expired", "accreditation.jurisdiction", "chain.cycle",
            "chain.untrusted_anchor", "accreditation.signature_invalid",
            "accreditation.issuer_mismatch"} <= codes, codes
    assert len(plain) < len(changes)  # and some are accepted


async def test_apply_writes_the_attributes_of_the_changes_it_is_given(
        make_client: ClientFactory) -> None:
    """``apply`` takes a change's attribute from the last check only for that very change
    object: a batch applied after another one was checked writes its own accreditations."""
    h = Hierarchy()
    node = await make_client(**h.settings())
    assert (await push(node, h.bootstrap()))[0] == 200
    engine = node.server.app["services"].components["sync"].engine
    port = engine.registry
    assert isinstance(port, RegistryStorePort)
    tis = [Actor() for _ in range(3)]

    def batch(op: str) -> list[Change]:  # each call: new accreditations (another jti)
        return [Change.model_validate(add(ti, h.ti(ti)["attribute"], op=op)) for ti in tis]

    async def held(ti: Actor) -> list[str]:
        record = await port.store.get_issuer(ti.did)
        return [a.id for a in record.attributes] if record else []

    checked = batch("add_issuer")
    assert await port.check_attributes(list(enumerate(checked)), engine.clock()) == []
    async with port.db.transaction() as tx:
        await port.apply(tx, checked)
    assert [await held(ti) for ti in tis] == [[c.attribute.hash] for c in checked if c.attribute]
    # checked, then another batch for the same DIDs applied: its own accreditations are written
    for op in ("add_issuer", "add_attribute"):
        other, given = batch(op), batch(op)
        assert await port.check_attributes(list(enumerate(other)), engine.clock()) == []
        before = [await held(ti) for ti in tis]
        async with port.db.transaction() as tx:
            await port.apply(tx, given)
        after = [await held(ti) for ti in tis]
        assert after == [[*b, c.attribute.hash] for b, c in zip(before, given, strict=True)
                         if c.attribute]
