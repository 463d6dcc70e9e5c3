"""Actors for the sync tests: a trust hierarchy with did:key keys, national registries that
sign batches, and helpers to ask a node whether an issuer is accredited."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from aiohttp.test_utils import TestClient

from trustbridge.registry.batch import BATCH_TYP
from trustbridge.registry.signed import NodeKey, sign_compact

SCHEMA = "https://api-pilot.ebsi.eu/trusted-schemas-registry/v3/schemas/0xmicrocred"
TYPES = ["VerifiableCredential", "VerifiableAttestation", "MicroCredential"]
JURISDICTION = "https://publications.europa.eu/resource/authority/atu/{}"


@dataclass
class Actor:
    """A DID with a key: an accreditation body, a training provider or a registry."""

    key: NodeKey = field(default_factory=NodeKey.generate)

    @property
    def did(self) -> str:
        return self.key.did

    def accredit(self, subject: Actor | str, *, issuer_type: str, jurisdiction: str | None,
                 root: Actor | None = None, valid_for: int = 3600 * 24 * 365,
                 signer: Actor | None = None) -> dict[str, Any]:
        """An EBSI-style accreditation attribute issued by ``self`` about ``subject``."""
        sub = subject if isinstance(subject, str) else subject.did
        vc_type = {"RootTAO": "VerifiableAuthorisationForTrustChain",
                   "TAO": "VerifiableAccreditationToAccredit",
                   "TI": "VerifiableAccreditationToAttest",
                   "Revoked": "VerifiableAccreditationToAttest"}[issuer_type]
        grant: dict[str, Any] = {"schemaId": SCHEMA, "types": TYPES}
        if jurisdiction:
            grant["limitJurisdiction"] = JURISDICTION.format(jurisdiction)
        now = int(time.time())
        payload = {
            "iss": self.did, "sub": sub, "nbf": now - 60, "iat": now - 60,
            "exp": now + valid_for, "jti": f"urn:uuid:{uuid.uuid4()}",
            "vc": {"@context": ["https://www.w3.org/2018/credentials/v1"],
                   "type": ["VerifiableCredential", "VerifiableAttestation", vc_type],
                   "issuer": self.did,
                   "credentialSubject": {"id": sub, "accreditedFor": [grant]}}}
        by = signer or self
        jwt = sign_compact(payload, by.key.private_key, kid=by.key.kid, typ="JWT")
        return {"jwt": jwt, "issuerType": issuer_type, "tao": self.did,
                "rootTao": (root or self).did}


@dataclass
class Registry(Actor):
    """A national registry: signs numbered batches with its DID."""

    sequence: int = 0

    def batch(self, changes: list[dict[str, Any]], *, sequence: int | None = None,
              signer: Actor | None = None) -> str:
        if sequence is None:
            self.sequence += 1
            sequence = self.sequence
        payload = {"registry": self.did, "sequence": sequence,
                   "issued_at": "2026-05-01T10:00:00Z", "changes": changes}
        by = signer or self
        return sign_compact(payload, by.key.private_key, kid=by.key.kid, typ=BATCH_TYP)


def add(did: Actor | str, attribute: dict[str, Any], op: str = "add_issuer") -> dict[str, Any]:
    return {"op": op, "did": did if isinstance(did, str) else did.did, "attribute": attribute}


def revoke_issuer(did: Actor | str) -> dict[str, Any]:
    return {"op": "revoke_issuer", "did": did if isinstance(did, str) else did.did}


@dataclass
class Hierarchy:
    """EU RootTAO -> TAOs for Spain and Finland; an EU-level registry bootstraps them."""

    root: Actor = field(default_factory=Actor)
    tao_es: Registry = field(default_factory=Registry)
    tao_fi: Actor = field(default_factory=Actor)
    eu: Registry = field(default_factory=Registry)
    es: Registry = field(default_factory=Registry)
    _boot: str | None = None

    def settings(self, **extra: Any) -> dict[str, Any]:
        values: dict[str, Any] = {
            "trust_anchors": [self.root.did],
            "sync_registries": {self.eu.did: ["EU"], self.es.did: ["ES"]},
            "seed_registry": False,
        }
        values.update(extra)
        return values

    def bootstrap(self) -> str:
        """The EU registry's first batch (the same JWS every time it is asked for)."""
        if self._boot is None:
            self._boot = self._bootstrap()
        return self._boot

    def _bootstrap(self) -> str:
        return self.eu.batch([
            add(self.root, self.root.accredit(self.root, issuer_type="RootTAO",
                                              jurisdiction=None)),
            add(self.tao_es, self.root.accredit(self.tao_es, issuer_type="TAO",
                                                jurisdiction="ESP")),
            add(self.tao_fi, self.root.accredit(self.tao_fi, issuer_type="TAO",
                                                jurisdiction="FIN")),
        ])

    def ti(self, provider: Actor, *, tao: Actor | None = None,
           jurisdiction: str = "ESP") -> dict[str, Any]:
        return add(provider, (tao or self.tao_es).accredit(
            provider, issuer_type="TI", jurisdiction=jurisdiction, root=self.root))


async def push(client: TestClient[Any, Any], jws: str, *,
               content_type: str = "application/jose") -> tuple[int, dict[str, Any]]:
    resp = await client.post("/v1/registry/batches", data=jws,
                             headers={"Content-Type": content_type})
    return resp.status, await resp.json(content_type=None)


async def accredited(client: TestClient[Any, Any], did: str) -> bool:
    """Ask the node: the registry's query endpoint when installed, else sync's fallback."""
    resp = await client.get("/v1/registry/accreditation", params={
        "issuer": did, "type": TYPES[-1], "schema": SCHEMA})
    if resp.status == 404 and (await resp.json()).get("code") == "route.not_found":
        registry = client.server.app["services"].components["sync"].registry
        ok, _ = await registry.accredited(did)
        return bool(ok)
    body = await resp.json()
    return bool(body.get("accredited"))


async def status(client: TestClient[Any, Any]) -> dict[str, Any]:
    resp = await client.get("/v1/registry/sync/status")
    assert resp.status == 200, await resp.text()
    data: dict[str, Any] = await resp.json()
    return data


async def mirror(client: TestClient[Any, Any]) -> list[dict[str, Any]]:
    results = await client.server.app["services"].components["sync"].mirror_all()
    return [r.to_json() for r in results]


def base_url(client: TestClient[Any, Any]) -> str:
    return str(client.make_url("")).rstrip("/")
