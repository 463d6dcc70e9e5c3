#!/usr/bin/env python3
"""Generate the shipped demo trust lists (eu/es/fi/pt.json) and the demo learner credentials.

    python registry/generate.py            # from the repository root, in the venv
    python registry/generate.py --demo-only  # only fixtures/demo/, against the shipped lists

Keys live in registry/demo-keys/ (made once, never overwritten). They are DEMO ONLY --
NEVER USE IN PRODUCTION: anyone can read them and sign "accredited" credentials.
ECDSA signatures are randomised, so every run rewrites the JWTs (their claims are fixed).

Outputs:
  registry/{eu,es,fi,pt}.json         trust lists (format: registry/README.md)
  fixtures/demo/ev-safety-vc.jwt      EV high-voltage safety credential, Navarre provider
  fixtures/demo/ev-safety-vp.jwt      a VP wrapping it, signed by the demo learner
  fixtures/demo/microcredential-vc.jwt  micro-credential from the Catalan university
  fixtures/demo/ev-safety-vc-unaccredited-issuer.jwt  EV credential from the university
                                      (accredited for micro-credentials only: type mismatch)
  fixtures/demo/holder-key.json       the demo learner's key (DEMO ONLY)
  fixtures/demo/demo.json             DIDs, nonce, audience, verify-at time
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "src"))

from trustbridge.registry.issuance import (  # noqa: E402 -- after the path tweak
    DidKey,
    accreditation_claims,
    attribute_url,
)
from trustbridge.registry.model import (  # noqa: E402
    FOR_TRUST_CHAIN,
    TO_ACCREDIT,
    TO_ATTEST,
    attribute_id,
)
from trustbridge.registry.seed import FORMAT  # noqa: E402

KEYS = ROOT / "registry" / "demo-keys"
DEMO = ROOT / "fixtures" / "demo"
VALID_FROM = datetime(2025, 1, 1, tzinfo=UTC)
VALID_UNTIL = datetime(2035, 1, 1, tzinfo=UTC)
TIR_BASE = "https://trustbridge.example"
WARNING = "DEMO ONLY - NEVER USE IN PRODUCTION. Public test key for the shipped demo registry."

# EBSI Trusted Schemas Registry: the VCDM 1.1 Verifiable Attestation schema (fixtures/ebsi).
ATTESTATION_SCHEMA = ("https://api-pilot.ebsi.eu/trusted-schemas-registry/v3/schemas/"
                      "zDpWGUBenmqXzurskry9Nsk6vq2R8thh9VSeoRqguoyMD")
BASE_TYPES = ["VerifiableCredential", "VerifiableAttestation"]
EV = "EVHighVoltageSafetyCredential"
MICRO = "MicroCredential"
ATU = "http://publications.europa.eu/resource/authority/atu/"

# name -> (alg, display name, country)
ACTORS: dict[str, tuple[str, str, str]] = {
    "eu-root": ("EdDSA", "European Skills Trust Root (DEMO RootTAO)", "EU"),
    "es-tao": ("ES256", "Agencia Nacional de Acreditación de Formación (DEMO TAO, Spain)", "ES"),
    "fi-tao": ("EdDSA", "Opetusalan akkreditointivirasto (DEMO TAO, Finland)", "FI"),
    "pt-tao": ("ES256", "Agência Nacional de Acreditação da Formação (DEMO TAO, Portugal)", "PT"),
    "es-navarra-ev": ("ES256", "Centro Navarro de Seguridad en Alta Tensión (DEMO, Navarra)",
                      "ES"),
    "es-catalunya-uni": ("EdDSA", "Universitat Demo de Catalunya - Microcredencials (DEMO)",
                         "ES"),
    "fi-ev": ("ES256", "Tampereen Sähköajoneuvo-opisto (DEMO, Finland)", "FI"),
    "pt-porto": ("EdDSA", "Escola Profissional Demo do Porto (DEMO, Portugal)", "PT"),
    "learner": ("EdDSA", "Demo learner (holder)", ""),
}


def key(name: str) -> DidKey:
    """The demo key ``name``, created on first use."""
    path = KEYS / f"{name}.json"
    if path.exists():
        return DidKey.from_pem(json.loads(path.read_text())["private_key_pem"])
    k = DidKey.generate(ACTORS[name][0])
    KEYS.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"warning": WARNING, "name": ACTORS[name][1], "did": k.did,
                                "kid": k.kid, "alg": k.alg, "private_key_pem": k.to_pem()},
                               indent=2) + "\n")
    return k


def grant(types: list[str], *jurisdictions: str) -> dict[str, Any]:
    return {"schemaId": ATTESTATION_SCHEMA, "types": BASE_TYPES + types,
            "limitJurisdiction": [ATU + j for j in jurisdictions] if len(jurisdictions) > 1
            else ATU + jurisdictions[0]}


def accredit(kind: str, by: str, to: str, grants: list[dict[str, Any]],
             parent: str | None) -> str:
    """A signed accreditation of ``to`` by ``by``; termsOfUse points at ``by``'s own one."""
    issuer, subject = key(by), key(to)
    terms = ([{"id": parent, "type": "IssuanceCertificate"}] if parent else [])
    claims = accreditation_claims(kind=kind, issuer=issuer.did, subject=subject.did,
                                  accredited_for=grants, valid_from=VALID_FROM,
                                  valid_until=VALID_UNTIL, jti=f"urn:uuid:demo-{kind}-{to}",
                                  terms_of_use=terms, registry_base=TIR_BASE)
    return issuer.sign(claims)


def issuer_entry(name: str, jwt: str, issuer_type: str, tao: str) -> dict[str, Any]:
    _, display, country = ACTORS[name]
    return {"did": key(name).did, "name": display, "country": country,
            "attributes": [{"hash": attribute_id(jwt), "body": jwt, "issuerType": issuer_type,
                            "tao": key(tao).did, "rootTao": key("eu-root").did}]}


def trust_list(jurisdiction: str, name: str, issuers: list[dict[str, Any]],
               anchors: list[str] | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {"format": FORMAT, "jurisdiction": jurisdiction, "name": name,
                           "description": "Generated by registry/generate.py. " + WARNING}
    if anchors:
        out["anchors"] = anchors
    out["issuers"] = issuers
    return out


def learner_credential(issuer_name: str, types: list[str], achievement: dict[str, Any],
                       issuer_attribute: str, jti: str) -> str:
    issuer, learner = key(issuer_name), key("learner")
    issued = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)
    vc = {
        "@context": ["https://www.w3.org/2018/credentials/v1"],
        "id": jti, "type": BASE_TYPES + types, "issuer": issuer.did,
        "issuanceDate": "2025-06-01T09:00:00Z", "issued": "2025-06-01T09:00:00Z",
        "validFrom": "2025-06-01T09:00:00Z", "expirationDate": "2035-01-01T00:00:00Z",
        "credentialSubject": {"id": learner.did, "givenName": "Ane", "familyName": "Demo",
                              "achievement": achievement},
        "credentialSchema": {"id": ATTESTATION_SCHEMA, "type": "FullJsonSchemaValidator2021"},
        "termsOfUse": [{"id": issuer_attribute, "type": "IssuanceCertificate"}],
    }
    return issuer.sign({"iss": issuer.did, "sub": learner.did, "jti": jti,
                        "iat": int(issued.timestamp()), "nbf": int(issued.timestamp()),
                        "exp": int(VALID_UNTIL.timestamp()), "vc": vc})


def main() -> None:
    root = key("eu-root").did
    every = [EV, MICRO]
    root_jwt = accredit(FOR_TRUST_CHAIN, "eu-root", "eu-root", [grant(every, "EUR")], None)
    root_url = attribute_url(TIR_BASE, root, root_jwt)
    taos = {c: accredit(TO_ACCREDIT, "eu-root", f"{c.lower()}-tao", [grant(every, a3)], root_url)
            for c, a3 in (("ES", "ESP"), ("FI", "FIN"), ("PT", "PRT"))}
    tao_url = {c: attribute_url(TIR_BASE, key(f"{c.lower()}-tao").did, jwt)
               for c, jwt in taos.items()}
    tis = {
        "es-navarra-ev": ("ES", accredit(TO_ATTEST, "es-tao", "es-navarra-ev",
                                         [grant([EV], "ESP")], tao_url["ES"])),
        "es-catalunya-uni": ("ES", accredit(TO_ATTEST, "es-tao", "es-catalunya-uni",
                                            [grant([MICRO], "ESP")], tao_url["ES"])),
        "fi-ev": ("FI", accredit(TO_ATTEST, "fi-tao", "fi-ev", [grant([EV], "FIN")],
                                 tao_url["FI"])),
        "pt-porto": ("PT", accredit(TO_ATTEST, "pt-tao", "pt-porto", [grant([MICRO], "PRT")],
                                    tao_url["PT"])),
    }
    lists = {
        "eu": trust_list("EU", "EU root of trust (DEMO)",
                         [issuer_entry("eu-root", root_jwt, "RootTAO", "eu-root")],
                         anchors=[root]),
    }
    names = {"ES": "Spain (DEMO)", "FI": "Finland (DEMO)", "PT": "Portugal (DEMO)"}
    for country, jwt in taos.items():
        entries = [issuer_entry(f"{country.lower()}-tao", jwt, "TAO", "eu-root")]
        entries += [issuer_entry(n, ti_jwt, "TI", f"{country.lower()}-tao")
                    for n, (c, ti_jwt) in tis.items() if c == country]
        lists[country.lower()] = trust_list(country, names[country], entries)
    for stem, data in lists.items():
        (ROOT / "registry" / f"{stem}.json").write_text(json.dumps(data, indent=2) + "\n")

    build_demo({n: jwt for n, (_c, jwt) in tis.items()})


def load_ti_accreditations() -> dict[str, str]:
    """The providers' accreditation JWTs as shipped (for ``--demo-only``)."""
    found: dict[str, str] = {}
    wanted = {key(n).did: n for n in ("es-navarra-ev", "es-catalunya-uni")}
    for path in sorted((ROOT / "registry").glob("*.json")):
        for issuer in json.loads(path.read_text(encoding="utf-8")).get("issuers", []):
            if issuer["did"] in wanted:
                found[wanted[issuer["did"]]] = issuer["attributes"][0]["body"]
    return found


# A well-formed ESCO skill URI that is NOT a real ESCO entry (the demo must not claim one).
ILLUSTRATIVE_ESCO_SKILL = "http://data.europa.eu/esco/skill/0e1a7c53-5c9b-4c6f-9d0e-3f5d7a2b1c40"

# Annex I of the Council Recommendation on micro-credentials, in the flat shape
# trustbridge.microcred reads (docs/microcredentials.md): every mandatory element is present.
EV_ACHIEVEMENT: dict[str, Any] = {
    "title": "EV high-voltage safety (work on de-energised systems)",
    "awardingBody": {"name": ACTORS["es-navarra-ev"][1], "country": "ES"},
    "ects": 2, "workloadHours": 50, "eqfLevel": 4,
    "learningOutcomes": [
        {"text": "De-energise a high-voltage battery system and secure it against reconnection",
         "escoSkills": [{"id": ILLUSTRATIVE_ESCO_SKILL, "label": "apply high-voltage safety "
                         "procedures (illustrative URI, not a real ESCO entry)"}]},
        {"text": "Verify the absence of voltage with a rated two-pole tester"},
        {"text": "Select, inspect and use insulating personal protective equipment"},
    ],
    "assessmentType": "Practical examination on a training vehicle and written test",
    "formOfParticipation": "In person",
    "supervision": "Supervised, onsite with identity verification",
    "qualityAssurance": {"type": "Accredited training provider (national TAO)",
                         "body": ACTORS["es-tao"][1]},
    "prerequisites": "Basic electrical knowledge (EQF 3)",
    "grade": "Pass",
}
MICRO_ACHIEVEMENT: dict[str, Any] = {
    "title": "Battery chemistry for technicians",
    "awardingBody": {"name": ACTORS["es-catalunya-uni"][1], "country": "ES"},
    "ects": 3, "eqfLevel": 6,
    "learningOutcomes": ["Explain lithium-ion cell chemistries and their failure modes",
                         "Interpret battery management system data"],
    "assessmentType": "Online proctored examination",
    "formOfParticipation": "Online",
    "qualityAssurance": "Internal QA of an accredited higher-education institution",
}


def build_demo(ti_jwts: dict[str, str]) -> None:
    """Demo learner credentials (fixtures/demo/), relying on the providers' accreditations."""
    DEMO.mkdir(parents=True, exist_ok=True)
    navarra = key("es-navarra-ev").did
    nav_attr = attribute_url(TIR_BASE, navarra, ti_jwts["es-navarra-ev"])
    uni = key("es-catalunya-uni").did
    uni_attr = attribute_url(TIR_BASE, uni, ti_jwts["es-catalunya-uni"])
    ev_achievement = EV_ACHIEVEMENT
    ev_vc = learner_credential("es-navarra-ev", [EV], ev_achievement, nav_attr,
                               "urn:uuid:demo-ev-safety-0001")
    micro_vc = learner_credential("es-catalunya-uni", [MICRO], MICRO_ACHIEVEMENT, uni_attr,
                                  "urn:uuid:demo-micro-0001")
    wrong_vc = learner_credential("es-catalunya-uni", [EV], ev_achievement, uni_attr,
                                  "urn:uuid:demo-ev-safety-wrong-issuer")
    learner = key("learner")
    nonce, audience = "demo-nonce-0001", "https://verifier.trustbridge.example"
    vp_at = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
    vp = learner.sign({"iss": learner.did, "sub": learner.did, "aud": audience, "nonce": nonce,
                       "jti": "urn:uuid:demo-vp-0001", "iat": int(vp_at.timestamp()),
                       "nbf": int(vp_at.timestamp()), "exp": int(vp_at.timestamp()) + 600,
                       "vp": {"@context": ["https://www.w3.org/2018/credentials/v1"],
                              "id": "urn:uuid:demo-vp-0001",
                              "type": ["VerifiablePresentation"], "holder": learner.did,
                              "verifiableCredential": [ev_vc]}})
    for name, text in (("ev-safety-vc.jwt", ev_vc), ("ev-safety-vp.jwt", vp),
                       ("microcredential-vc.jwt", micro_vc),
                       ("ev-safety-vc-unaccredited-issuer.jwt", wrong_vc)):
        (DEMO / name).write_text(text + "\n")
    (DEMO / "holder-key.json").write_text((KEYS / "learner.json").read_text())
    (DEMO / "demo.json").write_text(json.dumps({
        "warning": WARNING, "trust_anchor": key("eu-root").did, "navarra_provider": navarra,
        "catalunya_university": uni, "holder": learner.did, "vp_nonce": nonce,
        "vp_audience": audience, "vp_verify_at": "2025-06-02T10:05:00Z",
        "schema": ATTESTATION_SCHEMA}, indent=2) + "\n")


if __name__ == "__main__":
    if "--demo-only" in sys.argv[1:]:
        build_demo(load_ti_accreditations())  # keep the shipped trust lists byte for byte
    else:
        main()
