"""A small accreditation world for chain tests: real did:key keys and real signed JWTs."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any

from trustbridge.did.resolver import offline_resolver
from trustbridge.registry.chain import Answer, SignatureVerdict, evaluate_accreditation
from trustbridge.registry.facts import ResolverSignatureVerifier, verify_records
from trustbridge.registry.issuance import DidKey, accreditation_claims
from trustbridge.registry.model import (
    FOR_TRUST_CHAIN,
    TO_ACCREDIT,
    TO_ATTEST,
    Attribute,
    IssuerRecord,
    attribute_id,
)

SCHEMA = "https://api-pilot.ebsi.eu/trusted-schemas-registry/v3/schemas/zSchemaEV"
OTHER_SCHEMA = "https://api-pilot.ebsi.eu/trusted-schemas-registry/v3/schemas/zSchemaOther"
EV = "EVHighVoltageSafetyCredential"
MICRO = "MicroCredential"
BASE = ["VerifiableCredential", "VerifiableAttestation"]
FROM = datetime(2025, 1, 1, tzinfo=UTC)
UNTIL = datetime(2035, 1, 1, tzinfo=UTC)
AT = datetime(2026, 6, 1, tzinfo=UTC)
KIND_TYPE = {TO_ATTEST: "TI", TO_ACCREDIT: "TAO", FOR_TRUST_CHAIN: "RootTAO"}


def grant(types: Iterable[str] = (EV,), *jurisdictions: str, schema: str = SCHEMA
          ) -> dict[str, Any]:
    out: dict[str, Any] = {"schemaId": schema, "types": BASE + list(types)}
    if jurisdictions:
        out["limitJurisdiction"] = list(jurisdictions)
    return out


def tamper(jwt: str, **vc_changes: Any) -> str:
    """The same signature over changed claims: a forged accreditation."""
    head, payload, sig = jwt.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    claims["vc"].update(vc_changes)
    raw = base64.urlsafe_b64encode(json.dumps(claims).encode()).rstrip(b"=").decode()
    return f"{head}.{raw}.{sig}"


class World:
    """Named did:key actors, their records, and evaluation with real signature checks."""

    def __init__(self) -> None:
        self.keys: dict[str, DidKey] = {}
        self.records: dict[str, IssuerRecord] = {}

    def did(self, name: str) -> str:
        if name not in self.keys:
            self.keys[name] = DidKey.generate("ES256" if len(self.keys) % 2 else "EdDSA")
            self.records.setdefault(self.keys[name].did, IssuerRecord(
                did=self.keys[name].did, name=name, country="ES"))
        return self.keys[name].did

    def jwt(self, kind: str, by: str, to: str, grants: list[dict[str, Any]], *,
            valid_from: datetime = FROM, valid_until: datetime = UNTIL) -> str:
        self.did(to)
        claims = accreditation_claims(kind=kind, issuer=self.did(by), subject=self.did(to),
                                      accredited_for=grants, valid_from=valid_from,
                                      valid_until=valid_until, jti=f"urn:uuid:{kind}-{to}")
        return self.keys[by].sign(claims)

    def add(self, to: str, jwt: str, *, issuer_type: str, tao: str | None) -> Attribute:
        did = self.did(to)
        attr = Attribute(id=attribute_id(jwt), did=did, body=jwt, issuer_type=issuer_type,
                         tao=self.did(tao) if tao else None)
        rec = self.records[did]
        self.records[did] = rec.model_copy(update={"attributes": (*rec.attributes, attr)})
        return attr

    def accredit(self, kind: str, by: str, to: str, grants: list[dict[str, Any]] | None = None,
                 **window: datetime) -> Attribute:
        jwt = self.jwt(kind, by, to, grants if grants is not None else [grant()], **window)
        return self.add(to, jwt, issuer_type=KIND_TYPE[kind], tao=by)

    def revoke(self, name: str, *, whole_issuer: bool = False) -> None:
        rec = self.records[self.did(name)]
        attrs = tuple(a.model_copy(update={"issuer_type": "Revoked"}) for a in rec.attributes)
        self.records[rec.did] = rec.model_copy(update={"attributes": attrs,
                                                       "revoked": whole_issuer})

    async def verdicts(self) -> dict[str, SignatureVerdict]:
        return await verify_records(ResolverSignatureVerifier(offline_resolver()),
                                    self.records.values())

    async def evaluate(self, name: str, *, types: Iterable[str] = (*BASE, EV),
                       schema: str | None = SCHEMA, jurisdiction: str | None = None,
                       at: datetime = AT, anchors: Iterable[str] | None = None,
                       verified: dict[str, SignatureVerdict] | None = None,
                       **kwargs: Any) -> Answer:
        return evaluate_accreditation(
            self.did(name), credential_types=list(types), schema_id=schema,
            jurisdiction=jurisdiction, at=at, records=self.records,
            verified=verified if verified is not None else await self.verdicts(),
            anchors=list(anchors) if anchors is not None else [self.did("root")], **kwargs)


def three_levels(tao_grants: list[dict[str, Any]] | None = None,
                 ti_grants: list[dict[str, Any]] | None = None) -> World:
    """root (RootTAO, EU) -> tao (TAO, ES) -> ti (TI, ES), all for EV under SCHEMA."""
    w = World()
    w.accredit(FOR_TRUST_CHAIN, "root", "root", [grant((EV, MICRO), "EU")])
    w.accredit(TO_ACCREDIT, "root", "tao", tao_grants or [grant((EV,), "ES")])
    w.accredit(TO_ATTEST, "tao", "ti", ti_grants or [grant((EV,), "ES")])
    return w
