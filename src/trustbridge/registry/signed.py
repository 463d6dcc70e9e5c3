"""Compact JWS signed by a DID, for the registry: the node's signing key, and verification
of batches, log heads and accreditations against the DID that must have signed them.

JOSE is ``trustbridge.crypto.jws`` (algorithm allow-list, strict parsing); keys come
from a ``trustbridge.did`` resolver (the verifier's, ``verify.service.resolver_for``).
Verifying a JWS by a DID:

1. parse the compact JWS and its JSON payload;
2. bind the header's ``kid`` to the signer DID (a relative ``#frag`` is taken as relative
   to it; a key of another DID never counts);
3. dereference the ``kid`` through the resolver with relationship ``assertionMethod``;
4. verify with the algorithm allow-list.

Batches may be far larger than an ordinary JWT, hence ``MAX_JWS_CHARS``.
"""

from __future__ import annotations

import json
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from trustbridge.crypto import jws as _jws
from trustbridge.crypto.jwk import PublicKey
from trustbridge.did.interface import public_key_of
from trustbridge.did.key import did_key_from_public_key
from trustbridge.did.resolver import offline_resolver

ALLOWED_ALGS = frozenset(_jws.DEFAULT_ALGS)
MAX_JWS_CHARS = 256 * 1024 * 1024
# did:key and did:jwk carry their key in the DID: what their kid dereferences to never changes.
SELF_CERTIFYING = ("did:key:", "did:jwk:")
_KEY_MEMO_SIZE = 4096


class JoseError(Exception):
    """A JWS could not be parsed or did not verify; ``code`` is a stable dotted code."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class NodeKey:
    """The node's signing key and the DID/kid that name it."""

    private_key: ed25519.Ed25519PrivateKey
    did: str
    kid: str

    @classmethod
    def generate(cls) -> NodeKey:
        return cls.from_private(ed25519.Ed25519PrivateKey.generate())

    @classmethod
    def from_private(cls, key: ed25519.Ed25519PrivateKey, *, did: str | None = None,
                     kid: str | None = None) -> NodeKey:
        """``did:key`` of ``key`` unless another DID (e.g. did:web) and kid are configured."""
        if did is None:
            did = did_key_from_public_key(key.public_key())
            kid = kid or f"{did}#{did.removeprefix('did:key:')}"
        return cls(key, did, kid or f"{did}#key-1")

    @classmethod
    def from_pem(cls, pem: str, *, did: str | None = None, kid: str | None = None) -> NodeKey:
        key = serialization.load_pem_private_key(pem.encode("ascii"), password=None)
        if not isinstance(key, ed25519.Ed25519PrivateKey):
            raise ValueError("the node key must be an Ed25519 private key (PKCS#8 PEM)")
        return cls.from_private(key, did=did, kid=kid)

    def to_pem(self) -> str:
        return self.private_key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption()).decode("ascii")

    def sign(self, payload: dict[str, Any], *, typ: str) -> str:
        """Compact JWS (EdDSA) over the JSON ``payload``."""
        return sign_compact(payload, self.private_key, kid=self.kid, typ=typ)


def sign_compact(payload: dict[str, Any], key: ed25519.Ed25519PrivateKey, *, kid: str,
                 typ: str) -> str:
    return _jws.sign_jws({"alg": "EdDSA", "kid": kid, "typ": typ},
                         json.dumps(payload, separators=(",", ":")).encode("utf-8"), key)


@dataclass(frozen=True)
class VerifiedJws:
    header: dict[str, Any]
    payload: dict[str, Any]
    kid: str


def parse_jws(token: str) -> tuple[dict[str, Any], dict[str, Any], _jws.CompactJWS]:
    """Step 1: header, JSON payload and the parsed JWS; ``JoseError`` when malformed."""
    try:
        jws = _jws.parse_compact_jws(token.strip(), max_len=MAX_JWS_CHARS)
        header = dict(jws.header)
        payload = json.loads(jws.payload)
    except (ValueError, TypeError) as exc:
        raise JoseError(f"not a compact JWS with a JSON payload: {exc}",
                        code="jws.malformed") from exc
    if not isinstance(payload, dict):
        raise JoseError("the JWS payload is not a JSON object", code="jws.malformed")
    return header, payload, jws


def bind_kid(header: dict[str, Any], signer_did: str) -> tuple[str | None, str | None]:
    """Step 2: ``(kid, None)`` with a relative kid made absolute, or ``(kid, problem)`` where
    ``problem`` is ``kid_missing`` or ``kid_mismatch`` (the kid names another DID's key)."""
    kid = header.get("kid")
    if not isinstance(kid, str) or not kid:
        return None, "kid_missing"
    if kid.startswith("#"):
        kid = signer_did + kid
    if kid.split("#", 1)[0] != signer_did:
        return kid, "kid_mismatch"
    return kid, None


class KeyMemo:
    """Step 3 with a memo: the ``assertionMethod`` key a kid names, remembered for
    self-certifying DIDs only (their documents are pure functions of the DID), so a TAO that
    signed 100,000 accreditations is dereferenced once. Failures are never remembered."""

    def __init__(self, resolver: Any, *, max_entries: int = _KEY_MEMO_SIZE) -> None:
        self.resolver = resolver if resolver is not None else offline_resolver()
        self.max_entries = max_entries
        self._keys: OrderedDict[str, PublicKey] = OrderedDict()

    async def key(self, kid: str) -> PublicKey:
        """The key; raises what the resolver or ``public_key_of`` raise."""
        hit = self._keys.get(kid)
        if hit is not None:
            self._keys.move_to_end(kid)
            return hit
        vm = await self.resolver.dereference(kid, relationship="assertionMethod")
        key: PublicKey = public_key_of(vm)
        if kid.startswith(SELF_CERTIFYING):
            self._keys[kid] = key
            if len(self._keys) > self.max_entries:
                self._keys.popitem(last=False)
        return key


async def verify_parsed_by(parsed: tuple[dict[str, Any], dict[str, Any], _jws.CompactJWS],
                           signer_did: str, resolver: Any) -> VerifiedJws:
    """Steps 2-4 over an already parsed JWS (``parse_jws``); ``JoseError`` when it fails."""
    header, payload, jws = parsed
    kid, problem = bind_kid(header, signer_did)
    if problem == "kid_missing" or kid is None:
        raise JoseError("the JWS header has no kid", code="jws.kid_missing")
    if problem == "kid_mismatch":
        raise JoseError(f"kid {kid} does not belong to {signer_did}", code="jws.kid_mismatch")
    try:
        key = await KeyMemo(resolver).key(kid)
    except Exception as exc:  # resolver errors come from another package; keep their message
        raise JoseError(f"cannot resolve {kid}: {exc}", code="jws.key_unresolved") from exc
    try:
        _jws.verify_jws(jws, key, allowed_algs=ALLOWED_ALGS)
    except _jws.SignatureError as exc:
        raise JoseError(f"signature of {kid} does not verify: {exc}",
                        code="jws.signature_invalid") from exc
    return VerifiedJws(header, payload, kid)


async def verify_jws_by(token: str, signer_did: str, resolver: Any) -> VerifiedJws:
    """Verify ``token`` with the ``assertionMethod`` key its ``kid`` names, which must belong
    to ``signer_did`` (steps 1-4 of the module docstring)."""
    return await verify_parsed_by(parse_jws(token), signer_did, resolver)


__all__ = ["ALLOWED_ALGS", "SELF_CERTIFYING", "JoseError", "KeyMemo", "NodeKey", "VerifiedJws",
           "bind_kid", "parse_jws", "sign_compact", "verify_jws_by",
           "verify_parsed_by"]
