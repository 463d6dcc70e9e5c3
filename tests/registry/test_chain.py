"""Trust-chain evaluation (registry.chain) over real signed accreditations (did:key)."""

from __future__ import annotations

from datetime import UTC, datetime

from trustbridge.registry.chain import Accredited, NotAccredited, SignatureVerdict
from trustbridge.registry.model import FOR_TRUST_CHAIN, TO_ACCREDIT, TO_ATTEST

from .support import (
    AT,
    BASE,
    EV,
    MICRO,
    OTHER_SCHEMA,
    SCHEMA,
    World,
    grant,
    tamper,
    three_levels,
)


def refused(answer: object, code: str) -> NotAccredited:
    assert isinstance(answer, NotAccredited), answer
    assert answer.code == code, (answer.code, answer.reason)
    assert not answer.indeterminate
    return answer


async def test_valid_three_level_chain_lists_every_link() -> None:
    w = three_levels()
    answer = await w.evaluate("ti", jurisdiction="ES")
    assert isinstance(answer, Accredited), answer
    assert [link.issuer_type for link in answer.chain] == ["TI", "TAO", "RootTAO"]
    assert [link.did for link in answer.chain] == [w.did("ti"), w.did("tao"), w.did("root")]
    assert answer.anchor == w.did("root")
    assert answer.chain[0].accreditation_type == TO_ATTEST
    assert answer.chain[1].accreditation_type == TO_ACCREDIT
    assert answer.chain[2].accreditation_type == FOR_TRUST_CHAIN
    assert answer.chain[0].accredited_for is not None
    assert answer.chain[0].accredited_for.limit_jurisdiction == ("ES",)
    assert answer.chain[0].valid_until == datetime(2035, 1, 1, tzinfo=UTC)
    assert answer.attribute_id == answer.chain[0].attribute_id


async def test_eu_authority_uris_and_alpha3_are_understood() -> None:
    w = World()
    w.accredit(FOR_TRUST_CHAIN, "root", "root", [grant((EV,))])
    w.accredit(TO_ACCREDIT, "root", "tao",
               [grant((EV,), "http://publications.europa.eu/resource/authority/atu/ESP")])
    w.accredit(TO_ATTEST, "tao", "ti",
               [grant((EV,), "https://publications.europa.eu/resource/authority/country/ESP")])
    assert isinstance(await w.evaluate("ti", jurisdiction="es"), Accredited)
    refused(await w.evaluate("ti", jurisdiction="PT"), "accreditation.jurisdiction")


async def test_ti_accredited_for_another_schema() -> None:
    w = three_levels()
    answer = refused(await w.evaluate("ti", schema=OTHER_SCHEMA), "accreditation.schema_mismatch")
    assert OTHER_SCHEMA in answer.reason


async def test_type_outside_accredited_for() -> None:
    w = three_levels()
    answer = refused(await w.evaluate("ti", types=[*BASE, MICRO]), "accreditation.type_mismatch")
    assert MICRO in answer.reason


async def test_credential_jurisdiction_outside_the_ti_limit() -> None:
    refused(await three_levels().evaluate("ti", jurisdiction="FI"), "accreditation.jurisdiction")


async def test_ti_granted_a_jurisdiction_outside_the_tao_limit() -> None:
    w = three_levels(ti_grants=[grant((EV,), "FI")])
    answer = refused(await w.evaluate("ti", jurisdiction="FI"), "accreditation.jurisdiction")
    assert [link.did for link in answer.partial_chain] == [w.did("ti")]
    # an unlimited grant under a limited TAO exceeds it too
    w2 = three_levels(ti_grants=[grant((EV,))])
    refused(await w2.evaluate("ti"), "accreditation.jurisdiction")


async def test_eu_limit_covers_member_states() -> None:
    w = three_levels(tao_grants=[grant((EV,), "EU")], ti_grants=[grant((EV,), "PT")])
    assert isinstance(await w.evaluate("ti", jurisdiction="PT"), Accredited)


async def test_tao_granting_more_than_it_holds() -> None:
    w = three_levels(ti_grants=[grant((EV, MICRO), "ES")])
    answer = refused(await w.evaluate("ti", types=[*BASE, MICRO]), "accreditation.exceeds_grant")
    assert MICRO in answer.reason and w.did("tao") in answer.reason
    w2 = three_levels(ti_grants=[grant((EV,), "ES", schema=OTHER_SCHEMA)])
    refused(await w2.evaluate("ti", schema=OTHER_SCHEMA), "accreditation.exceeds_grant")


async def test_expired_and_not_yet_valid_accreditations() -> None:
    w = World()
    w.accredit(FOR_TRUST_CHAIN, "root", "root", [grant((EV,))])
    w.accredit(TO_ACCREDIT, "root", "tao", [grant((EV,))],
               valid_until=datetime(2026, 1, 1, tzinfo=UTC))
    w.accredit(TO_ATTEST, "tao", "ti", [grant((EV,))])
    w.accredit(TO_ATTEST, "tao", "late", [grant((EV,))],
               valid_from=datetime(2027, 1, 1, tzinfo=UTC))
    answer = refused(await w.evaluate("ti"), "accreditation.expired")
    assert w.did("tao") in answer.reason
    # before the TAO's accreditation ended, the same chain holds
    assert isinstance(await w.evaluate("ti", at=datetime(2025, 6, 1, tzinfo=UTC)), Accredited)
    refused(await w.evaluate("late", at=datetime(2025, 6, 1, tzinfo=UTC)),
            "accreditation.not_yet_valid")


async def test_revoked_tao_fails_every_ti_below_it() -> None:
    w = three_levels()
    w.accredit(TO_ATTEST, "tao", "ti2", [grant((EV,), "ES")])
    assert isinstance(await w.evaluate("ti2"), Accredited)
    w.revoke("tao")
    for ti in ("ti", "ti2"):
        answer = refused(await w.evaluate(ti), "accreditation.revoked")
        assert w.did("tao") in answer.reason
        assert answer.partial_chain[0].did == w.did(ti)
    w.revoke("ti", whole_issuer=True)
    refused(await w.evaluate("ti"), "accreditation.revoked")


async def test_forged_accreditation_signature() -> None:
    w = World()
    w.accredit(FOR_TRUST_CHAIN, "root", "root", [grant((EV, MICRO))])
    w.accredit(TO_ACCREDIT, "root", "tao", [grant((EV, MICRO))])
    genuine = w.jwt(TO_ATTEST, "tao", "ti", [grant((EV,))])
    forged = tamper(genuine, credentialSubject={"id": w.did("ti"),
                                                "accreditedFor": [grant((EV, MICRO))]})
    w.add("ti", forged, issuer_type="TI", tao="tao")
    answer = refused(await w.evaluate("ti", types=[*BASE, MICRO]),
                     "accreditation.signature_invalid")
    assert w.did("ti") in answer.reason


async def test_accreditation_signed_with_a_key_of_another_did() -> None:
    w = three_levels()
    # "tao2" signs an accreditation claiming to come from "tao" (kid of tao2, iss of tao)
    w.did("tao2")
    claims_jwt = w.jwt(TO_ATTEST, "tao", "ti3", [grant((EV,), "ES")])
    w.keys["tao"], saved = w.keys["tao2"], w.keys["tao"]
    try:
        from trustbridge.registry.issuance import accreditation_claims
        claims = accreditation_claims(kind=TO_ATTEST, issuer=saved.did, subject=w.did("ti3"),
                                      accredited_for=[grant((EV,), "ES")],
                                      valid_from=datetime(2025, 1, 1, tzinfo=UTC),
                                      valid_until=datetime(2035, 1, 1, tzinfo=UTC),
                                      jti="urn:uuid:x")
        foreign = w.keys["tao2"].sign(claims)
    finally:
        w.keys["tao"] = saved
    assert claims_jwt != foreign
    w.add("ti3", foreign, issuer_type="TI", tao="tao")
    answer = refused(await w.evaluate("ti3"), "accreditation.signature_invalid")
    assert "not a key of the issuer" in answer.reason


async def test_cycle_is_detected() -> None:
    w = World()
    w.accredit(TO_ACCREDIT, "a", "b", [grant((EV,))])
    w.accredit(TO_ACCREDIT, "b", "a", [grant((EV,))])
    w.accredit(TO_ATTEST, "a", "ti", [grant((EV,))])
    answer = refused(await w.evaluate("ti", anchors=[w.did("root")]), "chain.cycle")
    assert len(answer.partial_chain) == 3


async def test_chain_not_ending_at_a_configured_anchor() -> None:
    w = three_levels()
    rogue = World()
    refused(await w.evaluate("ti", anchors=[rogue.did("elsewhere")]), "chain.untrusted_anchor")
    refused(await w.evaluate("ti", anchors=[]), "chain.untrusted_anchor")
    # accredited by a DID that is neither registered nor an anchor
    w2 = three_levels()
    del w2.records[w2.did("tao")]
    answer = refused(await w2.evaluate("ti"), "chain.untrusted_anchor")
    assert w2.did("tao") in answer.reason


async def test_anchor_without_a_record_is_trusted_by_configuration() -> None:
    w = three_levels()
    del w.records[w.did("root")]
    answer = await w.evaluate("ti")
    assert isinstance(answer, Accredited)
    assert answer.chain[-1].did == w.did("root") and answer.chain[-1].attribute_id is None


async def test_depth_is_bounded() -> None:
    w = World()
    w.accredit(FOR_TRUST_CHAIN, "root", "root", [grant((EV,))])
    previous = "root"
    for i in range(6):
        w.accredit(TO_ACCREDIT, previous, f"tao{i}", [grant((EV,))])
        previous = f"tao{i}"
    w.accredit(TO_ATTEST, previous, "ti", [grant((EV,))])
    refused(await w.evaluate("ti", max_depth=5), "chain.too_deep")
    assert isinstance(await w.evaluate("ti", max_depth=8), Accredited)


async def test_unregistered_and_unaccredited_issuers() -> None:
    w = three_levels()
    outsider = World()
    from trustbridge.registry.chain import evaluate_accreditation
    answer = evaluate_accreditation(outsider.did("x"), credential_types=[EV], schema_id=SCHEMA,
                                    jurisdiction=None, at=AT, records=w.records, verified={},
                                    anchors=[w.did("root")])
    refused(answer, "issuer.not_registered")
    # a TAO issuing credentials itself holds no VerifiableAccreditationToAttest
    refused(await w.evaluate("tao"), "issuer.not_accredited")


async def test_a_ti_cannot_accredit_others() -> None:
    w = three_levels()
    w.accredit(TO_ATTEST, "ti", "sub", [grant((EV,), "ES")])
    refused(await w.evaluate("sub"), "chain.granter_not_accredited")


async def test_terms_of_use_selects_the_accreditation() -> None:
    w = three_levels()
    good = w.records[w.did("ti")].attributes[0]
    w.accredit(TO_ATTEST, "tao", "ti", [grant((MICRO,), "ES")])  # exceeds the TAO's grant
    answer = await w.evaluate("ti", terms_of_use_ref=good.id)
    assert isinstance(answer, Accredited) and answer.attribute_id == good.id
    bad = w.records[w.did("ti")].attributes[1]
    refused(await w.evaluate("ti", types=[*BASE, MICRO], terms_of_use_ref=bad.id),
            "accreditation.exceeds_grant")
    refused(await w.evaluate("ti", terms_of_use_ref="0" * 64),
            "accreditation.terms_of_use_unknown")


async def test_unfetchable_key_is_indeterminate_never_accredited() -> None:
    w = three_levels()
    verdicts = await w.verdicts()
    tao_attr = w.records[w.did("tao")].attributes[0].id
    verdicts[tao_attr] = SignatureVerdict(False, "accreditation.key_unavailable", "timeout",
                                          transient=True)
    answer = await w.evaluate("ti", verified=verdicts)
    assert isinstance(answer, NotAccredited) and answer.indeterminate
    del verdicts[tao_attr]
    answer = await w.evaluate("ti", verified=verdicts)
    assert isinstance(answer, NotAccredited) and answer.indeterminate


async def test_malformed_attribute_is_reported_not_raised() -> None:
    w = three_levels()
    w.add("ti", "not.a.jwt", issuer_type="TI", tao="tao")
    assert isinstance(await w.evaluate("ti"), Accredited)  # the good one still counts
    w2 = World()
    w2.accredit(FOR_TRUST_CHAIN, "root", "root", [grant((EV,))])
    w2.add("ti", "eyJhbGciOiJFUzI1NiJ9.bm90IGpzb24.c2ln", issuer_type="TI", tao="root")
    refused(await w2.evaluate("ti"), "accreditation.malformed")


async def test_schema_match_uses_the_tsr_schema_id() -> None:
    w = three_levels()
    other_host = SCHEMA.replace("api-pilot.ebsi.eu", "api-conformance.ebsi.eu").replace(
        "/v3/", "/v2/")
    assert isinstance(await w.evaluate("ti", schema=other_host), Accredited)
