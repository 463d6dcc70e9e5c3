"""A test wallet: holds keys and credentials, reads the request it is given, answers it.

Written independently of the code under test: JWTs are signed here with
``cryptography`` (EdDSA, did:key), JSON-LD presentations with didkit
(Ed25519Signature2018), and the request object signature is checked here
against the did:jwk named in ``client_id``.
"""

from __future__ import annotations

import base64
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import base58
import didkit
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

VC_V1 = "https://www.w3.org/2018/credentials/v1"
EXAMPLES_V1 = "https://www.w3.org/2018/credentials/examples/v1"
DEGREE = "UniversityDegreeCredential"


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64u_decode(s: str) -> bytes:
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    h, p, _ = token.split(".")
    return json.loads(b64u_decode(h)), json.loads(b64u_decode(p))


@dataclass
class Ed25519DidKey:
    """An Ed25519 key and its did:key (multicodec 0xed01, base58btc)."""

    key: ed25519.Ed25519PrivateKey = field(default_factory=ed25519.Ed25519PrivateKey.generate)

    @property
    def did(self) -> str:
        raw = self.key.public_key().public_bytes(serialization.Encoding.Raw,
                                                 serialization.PublicFormat.Raw)
        return "did:key:z" + base58.b58encode(b"\xed\x01" + raw).decode()

    @property
    def kid(self) -> str:
        return self.did + "#" + self.did.removeprefix("did:key:")

    @property
    def private_jwk(self) -> str:
        raw_priv = self.key.private_bytes(serialization.Encoding.Raw,
                                          serialization.PrivateFormat.Raw,
                                          serialization.NoEncryption())
        raw_pub = self.key.public_key().public_bytes(serialization.Encoding.Raw,
                                                     serialization.PublicFormat.Raw)
        return json.dumps({"kty": "OKP", "crv": "Ed25519", "x": b64u(raw_pub), "d": b64u(raw_priv)})

    def sign_jwt(self, payload: dict[str, Any], typ: str = "JWT") -> str:
        header = {"alg": "EdDSA", "typ": typ, "kid": self.kid}
        signing_input = b64u(json.dumps(header).encode()) + "." + b64u(json.dumps(payload).encode())
        return signing_input + "." + b64u(self.key.sign(signing_input.encode()))


def verify_request_object(token: str, expected_client_id: str) -> dict[str, Any]:
    """What a wallet does (OpenID4VP 5.9.3 decentralized_identifier, RFC 9101)."""
    header, claims = jwt_parts(token)
    assert header["typ"] == "oauth-authz-req+jwt"
    assert claims["client_id"] == expected_client_id
    assert expected_client_id.startswith("decentralized_identifier:did:jwk:")
    did = expected_client_id.removeprefix("decentralized_identifier:")
    assert header["kid"].split("#")[0] == did
    jwk = json.loads(b64u_decode(did.removeprefix("did:jwk:")))
    assert header["alg"] == "ES256" and jwk["crv"] == "P-256"
    pub = ec.EllipticCurvePublicNumbers(
        int.from_bytes(b64u_decode(jwk["x"]), "big"), int.from_bytes(b64u_decode(jwk["y"]), "big"),
        ec.SECP256R1()).public_key()
    signing_input, sig = token.rsplit(".", 1)
    raw = b64u_decode(sig)
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    try:
        pub.verify(der, signing_input.encode(), ec.ECDSA(hashes.SHA256()))
    except InvalidSignature as exc:  # pragma: no cover - the assertion is the test
        raise AssertionError("request object signature does not verify") from exc
    return claims


@dataclass
class TestWallet:
    """Holder keys plus credentials from a did:key issuer."""

    __test__ = False

    holder: Ed25519DidKey = field(default_factory=Ed25519DidKey)
    issuer: Ed25519DidKey = field(default_factory=Ed25519DidKey)

    def jwt_vc(self, types: tuple[str, ...] = (DEGREE,), *, schema: str | None = None,
               tamper: bool = False) -> str:
        now = int(time.time())
        vc: dict[str, Any] = {
            "@context": [VC_V1, EXAMPLES_V1],
            "type": ["VerifiableCredential", *types],
            "issuer": self.issuer.did,
            "issuanceDate": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(now - 60)),
            "credentialSubject": {"id": self.holder.did,
                                  "degree": {"type": "BachelorDegree", "name": "BSc Physics"}},
        }
        if schema is not None:
            vc["credentialSchema"] = {"id": schema, "type": "JsonSchema"}
        token = self.issuer.sign_jwt({"iss": self.issuer.did, "sub": self.holder.did,
                                      "nbf": now - 60, "iat": now - 60,
                                      "jti": f"urn:uuid:{uuid.uuid4()}", "vc": vc})
        if tamper:
            h, p, s = token.split(".")
            token = f"{h}.{p}.{s[:-4]}{'AAAA' if s[-4:] != 'AAAA' else 'BBBB'}"
        return token

    def jwt_vp(self, vcs: list[str], *, nonce: str, aud: str) -> str:
        now = int(time.time())
        return self.holder.sign_jwt({
            "iss": self.holder.did, "aud": aud, "nonce": nonce, "iat": now, "nbf": now - 5,
            "exp": now + 300, "jti": f"urn:uuid:{uuid.uuid4()}",
            "vp": {"@context": [VC_V1], "type": ["VerifiablePresentation"],
                   "holder": self.holder.did, "verifiableCredential": vcs},
        })

    async def ldp_vp(self, *, nonce: str, domain: str) -> dict[str, Any]:
        """JSON-LD VP (Ed25519Signature2018) signed by didkit with challenge/domain."""
        issuer_vm = await didkit.key_to_verification_method("key", self.issuer.private_jwk)
        holder_vm = await didkit.key_to_verification_method("key", self.holder.private_jwk)
        cred = {
            "@context": [VC_V1, EXAMPLES_V1], "type": ["VerifiableCredential", DEGREE],
            "issuer": self.issuer.did, "issuanceDate": "2024-01-01T00:00:00Z",
            "credentialSubject": {"id": self.holder.did,
                                  "degree": {"type": "BachelorDegree", "name": "BSc Physics"}},
        }
        vc = json.loads(await didkit.issue_credential(
            json.dumps(cred), json.dumps({"proofPurpose": "assertionMethod",
                                          "verificationMethod": issuer_vm}),
            self.issuer.private_jwk))
        pres = {"@context": [VC_V1], "type": ["VerifiablePresentation"],
                "holder": self.holder.did, "verifiableCredential": [vc]}
        return dict(json.loads(await didkit.issue_presentation(
            json.dumps(pres), json.dumps({"proofPurpose": "authentication",
                                          "verificationMethod": holder_vm,
                                          "challenge": nonce, "domain": domain}),
            self.holder.private_jwk)))

    async def vp_token_for(self, request: dict[str, Any], *, nonce: str | None = None,
                           aud: str | None = None, vc: str | None = None) -> dict[str, str]:
        """Form fields answering ``request`` (a DCQL or PE authorization request)."""
        nonce = nonce if nonce is not None else request["nonce"]
        aud = aud if aud is not None else request["client_id"]
        fields = {"state": request["state"]}
        if "dcql_query" in request:
            query = request["dcql_query"]
            cq = query["credentials"][0]
            if cq["format"] == "ldp_vc":
                token: dict[str, Any] = {cq["id"]: [await self.ldp_vp(nonce=nonce, domain=aud)]}
            else:
                token = {cq["id"]: [self.jwt_vp([vc or self.jwt_vc()], nonce=nonce, aud=aud)]}
            fields["vp_token"] = json.dumps(token)
        else:
            definition = request["presentation_definition"]
            fields["vp_token"] = self.jwt_vp([vc or self.jwt_vc()], nonce=nonce, aud=aud)
            fields["presentation_submission"] = json.dumps({
                "id": str(uuid.uuid4()), "definition_id": definition["id"],
                "descriptor_map": [{
                    "id": d["id"], "format": "jwt_vp_json", "path": "$",
                    "path_nested": {"format": "jwt_vc_json",
                                    "path": "$.vp.verifiableCredential[0]"},
                } for d in definition["input_descriptors"]],
            })
        return fields


def request_uri_of(deep_link: str) -> str:
    """The ``request_uri`` a wallet reads from an ``openid4vp://`` link."""
    parts = urlsplit(deep_link)
    assert parts.scheme == "openid4vp"
    return parse_qs(parts.query)["request_uri"][0]


__all__ = ["DEGREE", "TestWallet", "jwt_parts", "request_uri_of", "verify_request_object"]
