"""Generate fixtures/ldp/own/: JSON-LD VCs and VPs, valid and tampered, named after their defect.

TEST-ONLY keys: every key below is derived from a public seed string, so anyone can
forge with them. They exist to make the fixtures reproducible; never trust them.

Signers: didkit 0.3.3 (Ed25519Signature2018, Ed25519Signature2020, JsonWebSignature2020,
i.e. an independent implementation) and this project's own Data Integrity signer
(eddsa-rdfc-2022; ecdsa-rdfc-2019 signed here with ``cryptography`` over the same hash).
Ed25519 is deterministic and ``created`` is fixed, so re-running gives identical files.

Run: python scripts/gen_ldp_fixtures.py
"""

from __future__ import annotations

import asyncio
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import base58
import didkit
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from trustbridge.crypto.base64url import b64url_encode
from trustbridge.formats._data_integrity import hash_data, sign_eddsa_rdfc_2022

OUT = Path(__file__).resolve().parent.parent / "fixtures" / "ldp" / "own"
CREATED = "2025-01-01T00:00:00Z"
VP_CREATED = "2025-01-01T00:05:00Z"
CHALLENGE = "tb-challenge-1"
DOMAIN = "verifier.example"

V1 = "https://www.w3.org/2018/credentials/v1"
V2 = "https://www.w3.org/ns/credentials/v2"
ED2020 = "https://w3id.org/security/suites/ed25519-2020/v1"
JWS2020 = "https://w3id.org/security/suites/jws-2020/v1"
UNKNOWN_CONTEXT = "https://contexts.example/unknown/v1"


def ed_key(seed: str) -> ed25519.Ed25519PrivateKey:
    return ed25519.Ed25519PrivateKey.from_private_bytes(hashlib.sha256(seed.encode()).digest())


def ed_jwk(key: ed25519.Ed25519PrivateKey) -> dict[str, str]:
    from cryptography.hazmat.primitives import serialization as s

    d = key.private_bytes(s.Encoding.Raw, s.PrivateFormat.Raw, s.NoEncryption())
    x = key.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
    return {"kty": "OKP", "crv": "Ed25519", "x": b64url_encode(x), "d": b64url_encode(d)}


def ed_did(key: ed25519.Ed25519PrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization as s

    raw = key.public_key().public_bytes(s.Encoding.Raw, s.PublicFormat.Raw)
    return "did:key:z" + base58.b58encode(b"\xed\x01" + raw).decode()


def p256_key(seed: str) -> ec.EllipticCurvePrivateKey:
    scalar = int.from_bytes(hashlib.sha256(seed.encode()).digest(), "big") % (2**255)
    return ec.derive_private_key(scalar, ec.SECP256R1())


def p256_did(key: ec.EllipticCurvePrivateKey) -> str:
    from cryptography.hazmat.primitives import serialization as s

    point = key.public_key().public_bytes(s.Encoding.X962, s.PublicFormat.CompressedPoint)
    return "did:key:z" + base58.b58encode(b"\x80\x24" + point).decode()


def vm_of(did: str) -> str:
    return f"{did}#{did.removeprefix('did:key:')}"


ISSUER = ed_key("trustbridge TEST-ONLY ldp issuer")
HOLDER = ed_key("trustbridge TEST-ONLY ldp holder")
OTHER = ed_key("trustbridge TEST-ONLY ldp other")
EC_ISSUER = p256_key("trustbridge TEST-ONLY ldp ecdsa issuer")


def credential_v1(issuer: str, subject: str, *extra_ctx: str) -> dict[str, Any]:
    return {
        "@context": [V1, *extra_ctx],
        "id": "urn:uuid:8f1e6a2c-7d0b-4c55-9f4e-0a1b2c3d4e5f",
        "type": ["VerifiableCredential"],
        "issuer": issuer,
        "issuanceDate": "2025-01-01T00:00:00Z",
        "expirationDate": "2035-01-01T00:00:00Z",
        "credentialSubject": {"id": subject},
    }


def credential_v2(issuer: str, subject: str) -> dict[str, Any]:
    return {
        "@context": [V2, "https://www.w3.org/ns/credentials/examples/v2"],
        "id": "urn:uuid:2b0c6f9e-1d4a-4e8b-8c3f-5a6b7c8d9e0f",
        "type": ["VerifiableCredential", "AlumniCredential"],
        "name": "Alumni Credential",
        "issuer": issuer,
        "validFrom": "2025-01-01T00:00:00Z",
        "validUntil": "2035-01-01T00:00:00Z",
        "credentialSubject": {"id": subject, "alumniOf": "The School of Examples"},
    }


async def didkit_sign(doc: dict[str, Any], key: ed25519.Ed25519PrivateKey, *, proof_type: str,
                      purpose: str = "assertionMethod", created: str = CREATED,
                      presentation: bool = False, **extra: str) -> dict[str, Any]:
    did = ed_did(key)
    options = {"proofPurpose": purpose, "verificationMethod": vm_of(did), "type": proof_type,
               "created": created, **extra}
    fn = didkit.issue_presentation if presentation else didkit.issue_credential
    signed = await fn(json.dumps(doc), json.dumps(options), json.dumps(ed_jwk(key)))
    await asyncio.sleep(0)
    return dict(json.loads(signed))


def sign_ecdsa(doc: dict[str, Any], key: ec.EllipticCurvePrivateKey) -> dict[str, Any]:
    did = p256_did(key)
    options = {"type": "DataIntegrityProof", "cryptosuite": "ecdsa-rdfc-2019",
               "created": CREATED, "verificationMethod": vm_of(did),
               "proofPurpose": "assertionMethod"}
    der = key.sign(hash_data(doc, options), ec.ECDSA(hashes.SHA256()))
    r, s = decode_dss_signature(der)
    sig = r.to_bytes(32, "big") + s.to_bytes(32, "big")
    return {**doc, "proof": {**options, "proofValue": "z" + base58.b58encode(sig).decode()}}


def flip_proof_value(vc: dict[str, Any]) -> dict[str, Any]:
    bad = copy.deepcopy(vc)
    proof = bad["proof"]
    field = "proofValue" if "proofValue" in proof else "jws"
    value = proof[field]
    # change one signature character (keep the multibase prefix / JWS header intact)
    i = len(value) - 5
    proof[field] = value[:i] + ("A" if value[i] != "A" else "B") + value[i + 1:]
    return bad


def change_claim(vc: dict[str, Any]) -> dict[str, Any]:
    bad = copy.deepcopy(vc)
    bad["credentialSubject"]["id"] = ed_did(OTHER)
    return bad


async def build() -> dict[str, dict[str, Any]]:
    issuer, holder, other = ed_did(ISSUER), ed_did(HOLDER), ed_did(OTHER)
    out: dict[str, dict[str, Any]] = {}
    out["vc-ed25519-2018"] = await didkit_sign(credential_v1(issuer, holder), ISSUER,
                                               proof_type="Ed25519Signature2018")
    out["vc-ed25519-2020"] = await didkit_sign(credential_v1(issuer, holder, ED2020), ISSUER,
                                               proof_type="Ed25519Signature2020")
    out["vc-jws-2020"] = await didkit_sign(credential_v1(issuer, holder, JWS2020), ISSUER,
                                           proof_type="JsonWebSignature2020")
    rdfc = sign_eddsa_rdfc_2022(credential_v2(issuer, holder), ISSUER,
                                verification_method=vm_of(issuer), created=CREATED)
    out["vc-eddsa-rdfc-2022"] = rdfc
    out["vc-ecdsa-rdfc-2019"] = sign_ecdsa(credential_v2(p256_did(EC_ISSUER), holder), EC_ISSUER)

    for name in ("vc-ed25519-2018", "vc-ed25519-2020", "vc-jws-2020", "vc-eddsa-rdfc-2022",
                 "vc-ecdsa-rdfc-2019"):
        out[f"{name}-claim-changed"] = change_claim(out[name])
        out[f"{name}-proofvalue-changed"] = flip_proof_value(out[name])
    for name in ("vc-ed25519-2018", "vc-eddsa-rdfc-2022"):
        unknown = copy.deepcopy(out[name])
        unknown["@context"] = [*unknown["@context"], UNKNOWN_CONTEXT]
        out[f"{name}-unknown-context"] = unknown
    scoped = copy.deepcopy(rdfc)
    scoped["credentialSubject"]["@context"] = UNKNOWN_CONTEXT
    out["vc-eddsa-rdfc-2022-unknown-embedded-context"] = scoped

    swapped = copy.deepcopy(rdfc)
    swapped["proof"]["verificationMethod"] = vm_of(other)
    out["vc-eddsa-rdfc-2022-vm-other-did"] = swapped
    out["vc-eddsa-rdfc-2022-signed-by-other-did"] = sign_eddsa_rdfc_2022(
        credential_v2(issuer, holder), OTHER, verification_method=vm_of(other), created=CREATED)
    swapped_2018 = copy.deepcopy(out["vc-ed25519-2018"])  # didkit refuses to sign this itself
    swapped_2018["proof"]["verificationMethod"] = vm_of(other)
    out["vc-ed25519-2018-vm-other-did"] = swapped_2018
    moved = credential_v2(issuer, holder)
    moved["id"] = "urn:uuid:0d9c8b7a-6f5e-4d3c-2b1a-000000000000"
    moved["proof"] = copy.deepcopy(rdfc["proof"])
    out["vc-eddsa-rdfc-2022-proof-moved"] = moved
    out["vc-eddsa-rdfc-2022-purpose-authentication"] = sign_eddsa_rdfc_2022(
        credential_v2(issuer, holder), ISSUER, verification_method=vm_of(issuer),
        created=CREATED, proof_purpose="authentication")

    vp1 = {"@context": [V1], "type": ["VerifiablePresentation"], "holder": holder,
           "verifiableCredential": [out["vc-ed25519-2018"]]}
    out["vp-ed25519-2018"] = await didkit_sign(
        vp1, HOLDER, proof_type="Ed25519Signature2018", purpose="authentication",
        created=VP_CREATED, presentation=True, challenge=CHALLENGE, domain=DOMAIN)
    vp2 = {"@context": [V2], "type": ["VerifiablePresentation"], "holder": holder,
           "verifiableCredential": [rdfc]}
    out["vp-eddsa-rdfc-2022"] = sign_eddsa_rdfc_2022(
        vp2, HOLDER, verification_method=vm_of(holder), created=VP_CREATED,
        proof_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN)
    out["vp-eddsa-rdfc-2022-signed-by-other-did"] = sign_eddsa_rdfc_2022(
        vp2, OTHER, verification_method=vm_of(other), created=VP_CREATED,
        proof_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN)
    vp_bad_vc = copy.deepcopy(vp2)
    vp_bad_vc["verifiableCredential"] = [out["vc-eddsa-rdfc-2022-claim-changed"]]
    out["vp-eddsa-rdfc-2022-credential-claim-changed"] = sign_eddsa_rdfc_2022(
        vp_bad_vc, HOLDER, verification_method=vm_of(holder), created=VP_CREATED,
        proof_purpose="authentication", challenge=CHALLENGE, domain=DOMAIN)
    vp_challenge = copy.deepcopy(out["vp-eddsa-rdfc-2022"])
    vp_challenge["proof"]["challenge"] = "tb-challenge-2"
    out["vp-eddsa-rdfc-2022-challenge-changed"] = vp_challenge
    return out


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    docs = asyncio.run(build())
    for name, doc in sorted(docs.items()):
        (OUT / f"{name}.json").write_text(json.dumps(doc, indent=2) + "\n", encoding="utf-8")
    keys = {"TEST_ONLY": "derived from public seeds; anyone can sign with these",
            "issuer": ed_did(ISSUER), "holder": ed_did(HOLDER), "other": ed_did(OTHER),
            "ecdsa_issuer": p256_did(EC_ISSUER), "challenge": CHALLENGE, "domain": DOMAIN,
            "vp_created": VP_CREATED}
    (OUT / "keys.json").write_text(json.dumps(keys, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {len(docs)} documents to {OUT}")


if __name__ == "__main__":
    main()
