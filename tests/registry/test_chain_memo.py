"""ChainMemo: the walk above a TI's link, replayed for other TIs, gives exactly the answer a
fresh walk gives -- a differential test over chains that fail in every way chain.py knows."""

from __future__ import annotations

import itertools
import random
from datetime import UTC, datetime
from typing import Any

from trustbridge.registry.chain import Accredited, ChainMemo, SignatureVerdict
from trustbridge.registry.model import FOR_TRUST_CHAIN, TO_ACCREDIT, TO_ATTEST

from .support import BASE, EV, MICRO, OTHER_SCHEMA, World, grant, tamper

PAST = datetime(2020, 1, 1, tzinfo=UTC)
SOON = datetime(2026, 1, 1, tzinfo=UTC)


def varied_world() -> tuple[World, list[str]]:
    """One RootTAO and TAOs below it that are fine, revoked, expired, narrower than what
    their TIs claim, outside their jurisdiction, under an untrusted root, in a cycle, too
    deep, unsigned...; several TIs below each (good and bad ones). Returns the TI names."""
    w = World()
    w.accredit(FOR_TRUST_CHAIN, "root", "root", [grant((EV, MICRO), "EU")])
    w.accredit(FOR_TRUST_CHAIN, "rogue", "rogue", [grant((EV, MICRO))])  # not an anchor
    taos = {
        "ok": ("root", [grant((EV,), "ES")], {}),
        "revoked": ("root", [grant((EV,), "ES")], {}),
        "expired": ("root", [grant((EV,), "ES")], {"valid_until": SOON}),
        "future": ("root", [grant((EV,), "ES")], {"valid_from": datetime(2030, 1, 1,
                                                                         tzinfo=UTC)}),
        "narrow": ("root", [grant((MICRO,), "ES")], {}),
        "other_schema": ("root", [grant((EV,), "ES", schema=OTHER_SCHEMA)], {}),
        "finland": ("root", [grant((EV,), "FI")], {}),
        "unlimited": ("root", [grant((EV,))], {}),
        "untrusted": ("rogue", [grant((EV,), "ES")], {}),
        "orphan": ("nobody", [grant((EV,), "ES")], {}),
        "sub": ("tao_ok", [grant((EV,), "ES")], {}),  # a TAO below a TAO: four levels
    }
    for name, (by, grants, window) in taos.items():
        w.accredit(TO_ACCREDIT, by, f"tao_{name}", grants, **window)
    w.records.pop(w.did("nobody"))  # neither registered nor an anchor
    w.revoke("tao_revoked")
    # a TAO holding an expired accreditation first and a good one second
    w.accredit(TO_ACCREDIT, "root", "tao_two", [grant((EV,), "ES")], valid_until=PAST)
    w.accredit(TO_ACCREDIT, "root", "tao_two", [grant((EV,), "ES")])
    # a forged TAO accreditation (claims changed under the root's signature)
    forged = w.jwt(TO_ACCREDIT, "root", "tao_forged", [grant((EV,), "ES")])
    w.add("tao_forged", tamper(forged, id="urn:forged"), issuer_type="TAO", tao="root")
    # a chain deeper than the cap: root -> d1 -> ... -> d5 -> TI
    for parent, child in itertools.pairwise(["root", "d1", "d2", "d3", "d4", "d5"]):
        w.accredit(TO_ACCREDIT, parent, child, [grant((EV,), "ES")])
    # a cycle through a TI: tao_cycle is accredited by ti_cycle, which tao_cycle accredits
    w.accredit(TO_ACCREDIT, "ti_cycle", "tao_cycle", [grant((EV,), "ES")])
    tis: list[str] = []
    granters = [f"tao_{n}" for n in (*taos, "two", "forged", "cycle")] + ["d5", "root"]
    for g in granters:
        for n, (grants, window, revoked) in enumerate([
                ([grant((EV,), "ES")], {}, False),
                ([grant((EV,), "ES")], {}, False),
                ([grant((EV,), "ES", "FI")], {}, False),
                ([grant((EV, MICRO), "ES")], {}, False),
                ([grant((EV,))], {}, False),
                ([grant((EV,), "ES")], {"valid_until": SOON}, False),
                ([grant((EV,), "ES")], {}, True)]):
            ti = f"ti_{g}_{n}"
            w.accredit(TO_ATTEST, g, ti, grants, **window)
            if revoked:
                w.revoke(ti)
            tis.append(ti)
    w.accredit(TO_ATTEST, "tao_cycle", "ti_cycle", [grant((EV,), "ES")])
    tis.append("ti_cycle")
    w.accredit(TO_ATTEST, "nobody", "ti_orphan", [grant((EV,), "ES")])
    w.records.pop(w.did("nobody"), None)
    tis.append("ti_orphan")
    return w, tis


QUERIES: list[dict[str, Any]] = [
    {"jurisdiction": "ES"},
    {"jurisdiction": None},
    {"jurisdiction": "FI"},
    {"types": (*BASE, EV, MICRO)},
    {"schema": OTHER_SCHEMA},
    {"schema": None, "types": ()},
    {"jurisdiction": "ES", "at": datetime(2031, 1, 1, tzinfo=UTC)},
]


async def test_memoised_answers_equal_fresh_ones_in_any_order() -> None:
    w, tis = varied_world()
    verdicts = await w.verdicts()
    fresh = {(ti, q): await w.evaluate(ti, verified=verdicts, **QUERIES[q])
             for ti in tis for q in range(len(QUERIES))}
    codes = {a.code for a in fresh.values()}
    # the world really does fail in every way the memo must not paper over
    assert {"issuer.accredited", "accreditation.revoked", "accreditation.expired",
            "accreditation.not_yet_valid", "accreditation.exceeds_grant",
            "accreditation.jurisdiction", "chain.untrusted_anchor", "chain.cycle",
            "chain.too_deep", "accreditation.signature_invalid", "accreditation.schema_mismatch",
            "accreditation.type_mismatch"} <= codes, codes
    rng = random.Random(11)
    for _ in range(3):
        memo = ChainMemo()
        order = list(fresh)
        rng.shuffle(order)
        for ti, q in order:
            memoised = await w.evaluate(ti, verified=verdicts, memo=memo, **QUERIES[q])
            assert memoised == fresh[(ti, q)], (ti, QUERIES[q])
        assert memo.hits > memo.walks  # it was exercised, not bypassed


async def test_cycle_through_one_ti_is_not_replayed_for_another() -> None:
    w, _ = varied_world()
    verdicts = await w.verdicts()
    for first, second in (("ti_cycle", "ti_tao_cycle_0"), ("ti_tao_cycle_0", "ti_cycle")):
        memo = ChainMemo()
        for name in (first, second):
            memoised = await w.evaluate(name, jurisdiction="ES", verified=verdicts, memo=memo)
            assert memoised == await w.evaluate(name, jurisdiction="ES", verified=verdicts)
    assert (await w.evaluate("ti_cycle", jurisdiction="ES", verified=verdicts)).code \
        == "chain.cycle"


async def test_changed_facts_are_never_replayed() -> None:
    """A memo primed over one set of facts, asked over another (changed verdicts, anchors,
    time, depth cap, records): every answer is the one a fresh walk gives over the facts of
    that evaluation."""
    w, _ = varied_world()
    w.accredit(TO_ACCREDIT, "root", "tao_2028", [grant((EV,), "ES")],
               valid_until=datetime(2028, 1, 1, tzinfo=UTC))
    w.accredit(TO_ATTEST, "tao_2028", "ti_2028", [grant((EV,), "ES")])
    verdicts = await w.verdicts()
    tao_attr = w.records[w.did("tao_ok")].attributes[0]
    bad = {**verdicts, tao_attr.id: SignatureVerdict(False, reason="forged")}
    transient = {**verdicts, tao_attr.id: SignatureVerdict(False, "accreditation.key_unavailable",
                                                           "timeout", transient=True)}
    changes: list[tuple[str, dict[str, Any]]] = [
        ("ti_tao_ok_0", {"verified": bad}), ("ti_tao_ok_0", {"verified": transient}),
        ("ti_tao_ok_0", {"anchors": [w.did("rogue")]}), ("ti_tao_ok_0", {"max_depth": 1}),
        ("ti_2028", {"at": datetime(2030, 1, 1, tzinfo=UTC)})]
    for ti, kwargs in changes:
        memo = ChainMemo()
        primed = await w.evaluate(ti, jurisdiction="ES", verified=verdicts, memo=memo)
        assert isinstance(primed, Accredited)
        kwargs.setdefault("verified", verdicts)
        fresh = await w.evaluate(ti, jurisdiction="ES", **kwargs)
        assert not fresh.accredited, kwargs
        assert await w.evaluate(ti, jurisdiction="ES", memo=memo, **kwargs) == fresh
    memo = ChainMemo()
    assert (await w.evaluate("ti_tao_ok_0", jurisdiction="ES", verified=verdicts,
                             memo=memo)).accredited
    w.revoke("tao_ok")  # new record objects
    for ti in ("ti_tao_ok_0", "ti_tao_ok_1"):
        fresh = await w.evaluate(ti, jurisdiction="ES", verified=verdicts)
        assert fresh.code == "accreditation.revoked"
        assert await w.evaluate(ti, jurisdiction="ES", verified=verdicts, memo=memo) == fresh
