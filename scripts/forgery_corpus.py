"""Generate the forgery corpus: mutations of valid presentations and credentials.

Every mutation is something a verifier must refuse (verdict ``invalid``, or a 4xx for an
unusable request). The corpus is deterministic (seeded ``random.Random``, fixed attacker
keys derived from public seeds) and generated at test time by ``tests/hostile``; run
``python scripts/forgery_corpus.py`` to print the categories and counts, or
``--dump DIR`` to write each mutation as a JSON file named after its defect.

Signing here uses ``cryptography`` directly -- deliberately *not* TrustBridge's own JOSE
code -- so the verifier is attacked by an independent signer.

Bases (all verify ``valid`` as shipped; ``tests/hostile/test_forgery_corpus.py`` checks
that first, so a broken base cannot hide behind "0 accepted"):

* ``demo-vp`` / ``demo-vc``: the shipped demo (fixtures/demo), verified by the real
  service's verifier against the shipped demo registry. Every key is a public demo key
  (registry/demo-keys), so mutations can be re-signed by the *legitimate* issuer or holder
  to isolate one defect (duplicate keys, numbers as strings, ...).
* ``ebsi-*``: EBSI-library-made vectors (fixtures/ebsi/vectors/*valid*), no keys held.
* ``ldp-*``: didkit/pyld JSON-LD credentials and presentation (fixtures/ldp/own).
* ``sdjwt``: an SD-JWT VC + KB-JWT issued here by the demo issuer to the demo learner.
"""

from __future__ import annotations

import argparse
import base64
import copy
import functools
import hashlib
import hmac
import json
import random
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import base58
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.x509.oid import NameOID

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "fixtures" / "demo"
DEMO_KEYS = ROOT / "registry" / "demo-keys"
EBSI = ROOT / "fixtures" / "ebsi" / "vectors"
LDP = ROOT / "fixtures" / "ldp" / "own"
SEED = 20261123

Json = dict[str, Any]


# -- encoding ---------------------------------------------------------------------------------

def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def unb64u(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def enc_json(obj: Any) -> str:
    return b64u(json.dumps(obj, separators=(",", ":")).encode())


def dec_segment(token: str, i: int) -> Json:
    value: Json = json.loads(unb64u(token.split(".")[i]))
    return value


# -- keys -------------------------------------------------------------------------------------

_CODEC = {"Ed25519": b"\xed\x01", "P-256": b"\x80\x24", "secp256k1": b"\xe7\x01",
          "P-384": b"\x81\x24"}
_CURVES: dict[str, tuple[ec.EllipticCurve, hashes.HashAlgorithm, int, str]] = {
    "P-256": (ec.SECP256R1(), hashes.SHA256(), 32, "ES256"),
    "secp256k1": (ec.SECP256K1(), hashes.SHA256(), 32, "ES256K"),
    "P-384": (ec.SECP384R1(), hashes.SHA384(), 48, "ES384"),
}


class Key:
    """A signing key with its did:key, kid, JOSE alg and public encodings."""

    def __init__(self, private: Any) -> None:
        self.private = private
        pub = private.public_key()
        if isinstance(private, ed25519.Ed25519PrivateKey):
            self.crv, self.alg = "Ed25519", "EdDSA"
            self.raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
            self.jwk: Json = {"kty": "OKP", "crv": "Ed25519", "x": b64u(self.raw)}
            point = self.raw
        elif isinstance(private, ec.EllipticCurvePrivateKey):
            self.crv = {"secp256r1": "P-256", "secp256k1": "secp256k1",
                        "secp384r1": "P-384"}[private.curve.name]
            _, _, size, self.alg = _CURVES[self.crv]
            nums = pub.public_numbers()
            self.raw = pub.public_bytes(serialization.Encoding.X962,
                                        serialization.PublicFormat.UncompressedPoint)
            self.jwk = {"kty": "EC", "crv": self.crv, "x": b64u(nums.x.to_bytes(size, "big")),
                        "y": b64u(nums.y.to_bytes(size, "big"))}
            point = pub.public_bytes(serialization.Encoding.X962,
                                     serialization.PublicFormat.CompressedPoint)
        else:
            raise TypeError(private)
        self.did = "did:key:z" + base58.b58encode(_CODEC[self.crv] + point).decode()
        self.kid = f"{self.did}#{self.did.removeprefix('did:key:')}"
        self.spki_pem = pub.public_bytes(serialization.Encoding.PEM,
                                         serialization.PublicFormat.SubjectPublicKeyInfo)

    def sign(self, data: bytes, alg: str | None = None) -> bytes:
        if isinstance(self.private, ed25519.Ed25519PrivateKey):
            return self.private.sign(data)
        _, digest, size, _ = _CURVES[self.crv]
        r, s = decode_dss_signature(self.private.sign(data, ec.ECDSA(digest)))
        return r.to_bytes(size, "big") + s.to_bytes(size, "big")

    @classmethod
    def from_pem(cls, path: Path) -> Key:
        data = json.loads(path.read_text())
        return cls(serialization.load_pem_private_key(data["private_key_pem"].encode(), None))

    @classmethod
    def seeded(cls, seed: str, crv: str) -> Key:
        secret = hashlib.sha256(seed.encode()).digest()
        if crv == "Ed25519":
            return cls(ed25519.Ed25519PrivateKey.from_private_bytes(secret))
        curve = _CURVES[crv][0]
        return cls(ec.derive_private_key(int.from_bytes(secret, "big") % (2**250) + 1, curve))


def jws(header: Json | str, payload: Json | str, key: Key) -> str:
    """Compact JWS; ``header``/``payload`` may be pre-serialised JSON text (duplicate keys)."""
    h = b64u(header.encode()) if isinstance(header, str) else enc_json(header)
    p = b64u(payload.encode()) if isinstance(payload, str) else enc_json(payload)
    return f"{h}.{p}.{b64u(key.sign(f'{h}.{p}'.encode()))}"


def hmac_jws(header: Json, payload: Json, secret: bytes, alg: str = "HS256") -> str:
    digest = {"HS256": hashlib.sha256, "HS384": hashlib.sha384, "HS512": hashlib.sha512}[alg]
    h, p = enc_json(header), enc_json(payload)
    return f"{h}.{p}.{b64u(hmac.new(secret, f'{h}.{p}'.encode(), digest).digest())}"


@functools.cache
def rsa_attacker() -> rsa.RSAPrivateKey:
    """One per process (RSA keys cannot be derived from a seed with ``cryptography``)."""
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def self_signed_cert(key: Key, name: str) -> bytes:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    when = datetime(2024, 1, 1, tzinfo=UTC)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject)
            .public_key(key.private.public_key()).serial_number(1)
            .not_valid_before(when).not_valid_after(when + timedelta(days=3650))
            .sign(key.private, None if key.crv == "Ed25519" else hashes.SHA256()))
    return cert.public_bytes(serialization.Encoding.DER)


@dataclass
class Keys:
    issuer: Key = field(default_factory=lambda: Key.from_pem(DEMO_KEYS / "es-navarra-ev.json"))
    holder: Key = field(default_factory=lambda: Key.from_pem(DEMO_KEYS / "learner.json"))
    other_issuer: Key = field(
        default_factory=lambda: Key.from_pem(DEMO_KEYS / "es-catalunya-uni.json"))
    attacker: dict[str, Key] = field(default_factory=lambda: {
        crv: Key.seeded(f"trustbridge-forgery-attacker-{crv}", crv)
        for crv in ("Ed25519", "P-256", "secp256k1", "P-384")})


# -- the corpus model -------------------------------------------------------------------------

@dataclass
class Base:
    """A valid input: what it is, and the request context under which it verifies."""

    name: str
    kind: str  # "vp" | "vc"
    input: str | Json
    nonce: str | None
    audience: str | None
    at: str
    verifier: str  # "demo" (the real service) | "fixture" (test registry, all formats)
    holder_signs: bool = False  # the corpus holds the holder key (can re-sign the VP)
    issuer_signs: bool = False  # the corpus holds the issuer key (can re-sign the VC)


@dataclass
class Mutation:
    category: str
    name: str
    base: Base
    kind: str
    input: str | Json
    nonce: str | None = None
    audience: str | None = None

    def as_request(self) -> Json:
        return {self.kind_key: self.input, "nonce": self.nonce, "audience": self.audience,
                "at": self.base.at}

    @property
    def kind_key(self) -> str:
        return "presentation" if self.kind == "vp" else "credential"


# -- bases ------------------------------------------------------------------------------------

def _demo_bases() -> list[Base]:
    meta = json.loads((DEMO / "demo.json").read_text())
    vp = (DEMO / "ev-safety-vp.jwt").read_text().strip()
    vc = (DEMO / "ev-safety-vc.jwt").read_text().strip()
    return [Base("demo-vp", "vp", vp, meta["vp_nonce"], meta["vp_audience"], meta["vp_verify_at"],
                 "demo", holder_signs=True, issuer_signs=True),
            Base("demo-vc", "vc", vc, None, None, meta["vp_verify_at"], "demo",
                 issuer_signs=True)]


EBSI_BASES = ("vc-eddsa-valid", "vc-es256-valid", "vc-es256k-valid", "vp-es256-valid")


def _ebsi_bases() -> list[Base]:
    out = []
    for path in (EBSI / f"{n}.json" for n in EBSI_BASES):
        v = json.loads(path.read_text())
        out.append(Base(f"ebsi-{path.stem}", v["kind"], v["input"], v.get("nonce"),
                        v.get("audience"), v["verify_at"], "fixture"))
    return out


LDP_BASES = ("vc-eddsa-rdfc-2022", "vc-ed25519-2020", "vc-ecdsa-rdfc-2019", "vc-jws-2020",
             "vc-ed25519-2018", "vp-eddsa-rdfc-2022")


def _ldp_bases() -> list[Base]:
    keys = json.loads((LDP / "keys.json").read_text())
    out = []
    for name in LDP_BASES:
        doc = json.loads((LDP / f"{name}.json").read_text())
        vp = name.startswith("vp-")
        out.append(Base(f"ldp-{name}", "vp" if vp else "vc", doc,
                        keys["challenge"] if vp else None, keys["domain"] if vp else None,
                        "2025-01-01T00:06:00Z", "fixture"))
    return out


SD_AT = "2025-06-02T10:05:00Z"
SD_NONCE = "sd-nonce-forgery-1"
SD_AUD = "https://verifier.trustbridge.example"


def _disclosure(salt: str, name: str, value: Any) -> tuple[str, str]:
    enc = b64u(json.dumps([salt, name, value]).encode())
    return enc, b64u(hashlib.sha256(enc.encode()).digest())


def sd_issue(keys: Keys, *, claims: Json | None = None, header: Json | None = None,
             signer: Key | None = None) -> tuple[str, list[str]]:
    """An SD-JWT VC by the demo issuer for the demo learner; given/family name disclosable."""
    disclosures, digests = [], []
    for i, (name, value) in enumerate({"given_name": "Ane", "family_name": "Demo",
                                       "eqf_level": 4}.items()):
        enc, dig = _disclosure(f"salt-{i}-forgery", name, value)
        disclosures.append(enc)
        digests.append(dig)
    payload: Json = {"iss": keys.issuer.did, "vct": "https://trustbridge.example/vct/ev-safety",
                     "iat": 1748768400, "nbf": 1748768400, "exp": 2051222400,
                     "sub": keys.holder.did, "cnf": {"jwk": keys.holder.jwk},
                     "_sd": sorted(digests), "_sd_alg": "sha-256"}
    payload.update(claims or {})
    hdr = header or {"alg": "ES256", "typ": "dc+sd-jwt", "kid": keys.issuer.kid}
    return jws(hdr, payload, signer or keys.issuer), disclosures


def sd_present(issued: str, disclosures: list[str], holder: Key, *, nonce: str = SD_NONCE,
               aud: str = SD_AUD, sd_hash: str | None = None, header: Json | None = None,
               iat: int = 1748858400) -> str:
    presented = issued + "~" + "".join(d + "~" for d in disclosures)
    digest = sd_hash or b64u(hashlib.sha256(presented.encode()).digest())
    hdr = header or {"alg": holder.alg, "typ": "kb+jwt"}
    return presented + jws(hdr, {"nonce": nonce, "aud": aud, "iat": iat, "sd_hash": digest},
                           holder)


def _sd_base(keys: Keys) -> Base:
    issued, disclosures = sd_issue(keys)
    return Base("sdjwt", "vp", sd_present(issued, disclosures, keys.holder), SD_NONCE, SD_AUD,
                SD_AT, "fixture", holder_signs=True, issuer_signs=True)


def bases(keys: Keys | None = None) -> list[Base]:
    keys = keys or Keys()
    return _demo_bases() + _ebsi_bases() + _ldp_bases() + [_sd_base(keys)]


# -- JWS-level mutations (any compact JWS, no key needed except the attacker's) ---------------

Emit = Callable[[str, str, str], None]  # category, name, new token


def bit_flips(token: str, rng: random.Random, emit: Emit, per_segment: int = 6) -> None:
    parts = token.split(".")
    for i, label in enumerate(("header", "payload", "signature")):
        raw = bytearray(unb64u(parts[i]))
        for n in range(per_segment):
            flipped = bytearray(raw)
            bit = rng.randrange(len(flipped) * 8)
            flipped[bit // 8] ^= 1 << (bit % 8)
            new = list(parts)
            new[i] = b64u(bytes(flipped))
            emit("bitflip", f"{label}-bit{bit}-{n}", ".".join(new))
        # a flip in the base64 text itself (including the last character's spare bits)
        text = parts[i]
        for pos in (0, len(text) // 2, len(text) - 1):
            ch = text[pos]
            repl = "A" if ch != "A" else "B"
            if pos == len(text) - 1:
                repl = chr(ord(ch) ^ 1) if chr(ord(ch) ^ 1).isalnum() else "Q"
            new = list(parts)
            new[i] = text[:pos] + repl + text[pos + 1:]
            emit("bitflip", f"{label}-char{pos}", ".".join(new))


def b64_variants(token: str, emit: Emit) -> None:
    parts = token.split(".")
    for i, label in enumerate(("header", "payload", "signature")):
        seg = parts[i]
        variants = {
            "padded": seg + "=" * (-len(seg) % 4 or 4) if len(seg) % 4 else seg + "==",
            "standard-alphabet": seg.replace("-", "+").replace("_", "/"),
            "standard-padded": base64.b64encode(unb64u(seg)).decode(),
            "space-inside": seg[:5] + " " + seg[5:],
            "newline-inside": seg[:7] + "\n" + seg[7:],
            "tab-inside": seg[:3] + "\t" + seg[3:],
            "percent-encoded": seg[:4] + "%41" + seg[5:],
            "unicode-digit": seg[:2] + "\uff21" + seg[3:],
        }
        for name, new_seg in variants.items():
            new = list(parts)
            new[i] = new_seg
            emit("base64", f"{label}-{name}", ".".join(new))
    emit("base64", "extra-segment", token + ".AAAA")
    emit("base64", "json-serialization", json.dumps(
        {"protected": parts[0], "payload": parts[1], "signature": parts[2]}))
    emit("base64", "empty-signature", f"{parts[0]}.{parts[1]}.")
    emit("base64", "two-segments", f"{parts[0]}.{parts[1]}")


def alg_attacks(token: str, pub: list[Key], keys: Keys, emit: Emit) -> None:
    """``none``, HMAC with the public key as secret, other curves (attacker-signed)."""
    header, payload = dec_segment(token, 0), dec_segment(token, 1)
    _, p, s = token.split(".")
    for alg in ("none", "None", "NONE", "nOnE", ""):
        hdr = header | {"alg": alg}
        emit("alg", f"alg-{alg or 'empty'}-no-sig", f"{enc_json(hdr)}.{p}.")
        emit("alg", f"alg-{alg or 'empty'}-sig-kept", f"{enc_json(hdr)}.{p}.{s}")
    emit("alg", "alg-missing", jws({k: v for k, v in header.items() if k != "alg"}, payload,
                                   keys.attacker["P-256"]))
    for key in pub:
        secrets: dict[str, bytes] = {
            "jwk-json": json.dumps(key.jwk, separators=(",", ":")).encode(),
            "jwk-json-spaced": json.dumps(key.jwk).encode(),
            "raw-point": key.raw,
            "spki-pem": key.spki_pem,
            "did": key.did.encode(),
            "kid": key.kid.encode(),
            "multibase": key.did.removeprefix("did:key:").encode(),
        }
        for label, secret in secrets.items():
            for alg in ("HS256", "HS384", "HS512"):
                emit("alg", f"{alg}-pubkey-{label}",
                     hmac_jws(header | {"alg": alg}, payload, secret, alg))
    for attacker in keys.attacker.values():
        emit("alg", f"other-curve-{attacker.alg}-kid-kept",
             jws(header | {"alg": attacker.alg}, payload, attacker))
    emit("alg", "alg-lowercase", jws(header | {"alg": header.get("alg", "").lower()}, payload,
                                     keys.attacker["P-256"]))
    rkey = rsa_attacker()
    hr, pr = enc_json(header | {"alg": "RS256"}), enc_json(payload)
    sig = rkey.sign(f"{hr}.{pr}".encode(), padding.PKCS1v15(), hashes.SHA256())
    emit("alg", "RS256-attacker-kid-kept", f"{hr}.{pr}.{b64u(sig)}")


def header_injection(token: str, keys: Keys, emit: Emit) -> None:
    """Attacker's key carried in the header; signed by the attacker."""
    header, payload = dec_segment(token, 0), dec_segment(token, 1)
    att = keys.attacker["P-256"]
    base = header | {"alg": att.alg}
    no_kid = {k: v for k, v in base.items() if k != "kid"}
    cert = base64.b64encode(self_signed_cert(att, str(payload.get("iss", "issuer"))[:60])).decode()
    injected: dict[str, Json] = {
        "jwk-kid-kept": base | {"jwk": att.jwk},
        "jwk-no-kid": no_kid | {"jwk": att.jwk},
        "jku-kid-kept": base | {"jku": "https://attacker.invalid/jwks.json"},
        "jku-no-kid": no_kid | {"jku": "https://127.0.0.1:1/jwks.json"},
        "x5u": no_kid | {"x5u": "https://attacker.invalid/cert.pem"},
        "x5c-self-signed": no_kid | {"x5c": [cert]},
        "x5c-kid-kept": base | {"x5c": [cert]},
        "kid-attacker-jwk-thumbprint": base | {"kid": "urn:ietf:params:oauth:jwk-thumbprint:"
                                                      "sha-256:" + b64u(b"x" * 32),
                                               "jwk": att.jwk},
        "crit-unknown": base | {"crit": ["exp"], "exp": 1},
        "b64-false": base | {"b64": False, "crit": ["b64"]},
    }
    for name, hdr in injected.items():
        emit("header-injection", name, jws(hdr, payload, att))


def kid_games(token: str, keys: Keys, emit: Emit, signer_is_holder: bool) -> None:
    header, payload = dec_segment(token, 0), dec_segment(token, 1)
    att = keys.attacker["Ed25519"]
    hdr = header | {"alg": att.alg}
    legit = keys.holder if signer_is_holder else keys.issuer
    x25519 = keys.holder.did + "#z6LSbysY2xFMRpGMhb7tFTLMpeuPRaqaWM1yECx2AtzE3KCc"
    games: dict[str, tuple[Json, Key]] = {
        "kid-attacker-did": (hdr | {"kid": att.kid}, att),
        "kid-other-accredited-did-signed-by-it": (
            header | {"alg": keys.other_issuer.alg, "kid": keys.other_issuer.kid},
            keys.other_issuer),
        "kid-relative-fragment": (hdr | {"kid": "#" + att.kid.split("#")[1]}, att),
        "kid-url": (hdr | {"kid": "https://attacker.invalid/keys#1"}, att),
        "kid-did-web-attacker": (hdr | {"kid": "did:web:attacker.invalid#key-1"}, att),
        "kid-did-jwk-attacker": (
            hdr | {"kid": "did:jwk:" + enc_json(att.jwk) + "#0"}, att),
        "kid-did-jwk-use-enc": (
            hdr | {"kid": "did:jwk:" + enc_json(att.jwk | {"use": "enc"}) + "#0"}, att),
        "kid-legit-did-attacker-fragment": (
            hdr | {"kid": f"{legit.did}#{att.did.removeprefix('did:key:')}"}, att),
        "kid-key-agreement-fragment-legit-signature": (
            header | {"kid": x25519}, keys.holder),
        "kid-path-traversal": (hdr | {"kid": legit.did + "/../" + att.kid}, att),
        "kid-array": (hdr | {"kid": [att.kid, legit.kid]}, att),
    }
    for name, (h, key) in games.items():
        emit("kid", name, jws(h, payload, key))


def confusables(token: str, keys: Keys, emit: Emit, field_name: str) -> None:
    """Issuer/holder DIDs spelt with look-alike characters; attacker-signed."""
    header, payload = dec_segment(token, 0), dec_segment(token, 1)
    att = keys.attacker["Ed25519"]
    did = str(payload.get(field_name, ""))
    tricks = {
        "cyrillic-a": did.replace("a", "\u0430", 1),
        "fullwidth-colon": did.replace(":", "\uff1a", 1),
        "zero-width-joiner": did[:12] + "\u200d" + did[12:],
        "trailing-nbsp": did + "\u00a0",
        "uppercase-method": did.replace("did:key", "did:KEY", 1),
        "nfkc-ligature": did.replace("fi", "\ufb01", 1) if "fi" in did else did + "\ufb01",
        "combining-dot": did[:-1] + did[-1] + "\u0307",
    }
    for name, fake in tricks.items():
        if fake == did:
            continue
        p = copy.deepcopy(payload)
        p[field_name] = fake
        for claim in ("vc", "vp"):
            if claim in p and isinstance(p[claim], dict):
                role = "issuer" if claim == "vc" else "holder"
                p[claim][role] = fake
        emit("confusable", f"{field_name}-{name}-attacker-kid",
             jws(header | {"alg": att.alg, "kid": att.kid}, p, att))
        emit("confusable", f"{field_name}-{name}-confusable-kid",
             jws(header | {"alg": att.alg, "kid": fake + "#" + att.kid.split("#")[1]}, p, att))


def signature_transplant(token: str, donors: list[str], emit: Emit) -> None:
    h, p, _ = token.split(".")
    for i, donor in enumerate(donors):
        if donor == token or donor.count(".") != 2:
            continue
        dh, _, ds = donor.split(".")
        emit("transplant", f"signature-of-other-token-{i}", f"{h}.{p}.{ds}")
        emit("transplant", f"header-of-other-token-{i}", f"{dh}.{p}.{token.split('.')[2]}")


def jwt_token_mutations(token: str, keys: Keys, rng: random.Random, emit: Emit, *,
                        pub: list[Key], donors: list[str], signer_is_holder: bool,
                        confusable_field: str) -> None:
    bit_flips(token, rng, emit)
    b64_variants(token, emit)
    alg_attacks(token, pub, keys, emit)
    header_injection(token, keys, emit)
    kid_games(token, keys, emit, signer_is_holder)
    confusables(token, keys, emit, confusable_field)
    signature_transplant(token, donors, emit)


# -- claim-level mutations of the demo (keys held: re-sign to isolate one defect) -------------

def _dup_keys_text(obj: Json, key: str, first: Any, last: Any) -> str:
    """JSON text of ``obj`` with ``key`` twice: ``first`` then ``last``."""
    rest = {k: v for k, v in obj.items() if k != key}
    body = json.dumps(rest, separators=(",", ":"))[1:-1]
    lead = f"{json.dumps(key)}:{json.dumps(first)}"
    tail = f"{json.dumps(key)}:{json.dumps(last)}"
    return "{" + lead + ("," + body if body else "") + "," + tail + "}"


def duplicate_keys(token: str, signer: Key, keys: Keys, emit: Emit, evil: dict[str, Any],
                   evil_header: dict[str, Any]) -> None:
    header, payload = dec_segment(token, 0), dec_segment(token, 1)
    att = keys.attacker["Ed25519"]
    for name, bad in evil_header.items():
        for order, (a, b) in {"good-first": (header[name], bad),
                              "good-last": (bad, header[name])}.items():
            text = _dup_keys_text(header, name, a, b)
            emit("duplicate-keys", f"header-{name}-{order}-legit-signed",
                 jws(text, payload, signer))
    for name, bad in evil.items():
        for order, (a, b) in {"good-first": (payload.get(name), bad),
                              "good-last": (bad, payload.get(name))}.items():
            text = _dup_keys_text(payload, name, a, b)
            emit("duplicate-keys", f"payload-{name}-{order}-legit-signed",
                 jws(header, text, signer))
            emit("duplicate-keys", f"payload-{name}-{order}-attacker-signed",
                 jws(header | {"alg": att.alg, "kid": att.kid}, text, att))


WEIRD_NUMBERS: dict[str, Any] = {
    "string": "9999999999", "string-small": "0", "float-huge": 1e300, "int-huge": 10**40,
    "int-beyond-datetime": 253402300800 * 10, "negative": -1, "zero": 0, "bool": True,
    "null": None, "list": [9999999999], "object": {"$date": 9999999999},
    "float-fraction": 2051222400.5e10,
}
RAW_NUMBER_TEXT = {"nan": "NaN", "infinity": "Infinity", "neg-infinity": "-Infinity",
                   "exp-overflow": "1e400", "leading-zero": "0999999999", "plus-sign": "+9"}
WEIRD_DATES = ["9999-99-99T00:00:00Z", "-2025-06-01T09:00:00Z", "+002025-06-01T09:00:00Z",
               "NaN", "2025-06-01T09:00:00Z\u0000", "2025-02-30T00:00:00Z", "", "0",
               "2025-06-01T25:00:00Z", "2035-01-01T00:00:00+99:99"]


def numbers_and_dates(token: str, signer: Key, emit: Emit, *, claim: str,
                      expire_claims: tuple[str, ...]) -> None:
    """Numeric dates as strings, huge, negative, NaN; ISO dates nonsense -- legitimately
    signed, so only the parser stands between them and ``valid``."""
    header, payload = dec_segment(token, 0), dec_segment(token, 1)
    for field_name in ("exp", "nbf", "iat"):
        if field_name not in payload:
            continue
        for label, value in WEIRD_NUMBERS.items():
            if field_name in ("iat", "nbf") and label in ("negative", "zero"):
                continue  # a start in 1969 is a well-formed, harmless NumericDate
            p = copy.deepcopy(payload)
            p[field_name] = value
            emit("numbers", f"{field_name}-{label}", jws(header, p, signer))
        for label, text in RAW_NUMBER_TEXT.items():
            raw = json.dumps(payload, separators=(",", ":"))
            old = f'"{field_name}":{json.dumps(payload[field_name])}'
            emit("numbers", f"{field_name}-raw-{label}",
                 jws(header, raw.replace(old, f'"{field_name}":{text}'), signer))
    inner = payload.get(claim)
    if isinstance(inner, dict):
        for date_field in expire_claims:
            if date_field not in inner:
                continue
            for i, bad in enumerate(WEIRD_DATES):
                p = copy.deepcopy(payload)
                p[claim][date_field] = bad
                emit("dates", f"{claim}-{date_field}-{i}", jws(header, p, signer))


# -- presentation-level games (demo VP; holder and issuer keys held) --------------------------

def vp_games(vp: str, vc: str, keys: Keys, emit: Emit, base: Base) -> None:
    header, payload = dec_segment(vp, 0), dec_segment(vp, 1)
    att = keys.attacker["Ed25519"]
    vc_payload = dec_segment(vc, 1)

    def holder_vp(creds: list[Any], *, signer: Key | None = None, **claims: Any) -> str:
        p = copy.deepcopy(payload)
        p["vp"]["verifiableCredential"] = creds
        p.update(claims)
        key = signer or keys.holder
        if key is not keys.holder:
            p["iss"] = p["sub"] = p["vp"]["holder"] = key.did
        return jws(header | {"alg": key.alg, "kid": key.kid}, p, key)

    # 1. subject swapped: the legit VC presented by someone else, or re-subjected
    emit("subject", "stolen-vc-in-attacker-vp", holder_vp([vc], signer=att))
    for field_path in ("sub", "credentialSubject.id"):
        p = copy.deepcopy(vc_payload)
        if field_path == "sub":
            p["sub"] = att.did
        else:
            p["vc"]["credentialSubject"]["id"] = att.did
        forged = ".".join([vc.split(".")[0], enc_json(p), vc.split(".")[2]])
        emit("subject", f"vc-{field_path}-swapped-unsigned", holder_vp([forged], signer=att))
        emit("subject", f"vc-{field_path}-swapped-attacker-signed",
             holder_vp([jws(dec_segment(vc, 0) | {"alg": att.alg, "kid": att.kid}, p, att)],
                       signer=att))
    # the holder re-signs with a holder field naming someone else
    p = copy.deepcopy(payload)
    p["vp"]["holder"] = att.did
    emit("subject", "vp-holder-field-other-did", jws(header, p, keys.holder))
    p = copy.deepcopy(payload)
    p["iss"] = att.did
    emit("subject", "vp-iss-other-did-holder-signed", jws(header, p, keys.holder))

    # 2. issuer swapped: re-signed by the attacker under various names
    for label, claims in {
        "iss-and-issuer-attacker": {"iss": att.did, "issuer": att.did},
        "iss-accredited-issuer-attacker-kid": {"iss": keys.issuer.did, "issuer": keys.issuer.did},
        "issuer-object-accredited": {"iss": att.did, "issuer": {"id": keys.issuer.did}},
        "iss-attacker-vc-issuer-accredited": {"iss": att.did, "issuer": keys.issuer.did},
        "iss-accredited-vc-issuer-attacker": {"iss": keys.issuer.did, "issuer": att.did},
    }.items():
        p = copy.deepcopy(vc_payload)
        p["iss"] = claims["iss"]
        p["vc"]["issuer"] = claims["issuer"]
        forged = jws({"alg": att.alg, "typ": "JWT", "kid": att.kid}, p, att)
        emit("issuer", label, holder_vp([forged]))
    p = copy.deepcopy(vc_payload)
    p["iss"] = p["vc"]["issuer"] = keys.other_issuer.did
    emit("issuer", "other-accredited-issuer-signs-ev-type",
         holder_vp([jws({"alg": "EdDSA", "typ": "JWT", "kid": keys.other_issuer.kid}, p,
                        keys.other_issuer)]))
    del p["iss"]
    emit("issuer", "iss-missing-other-issuer-signs",
         holder_vp([jws({"alg": "EdDSA", "typ": "JWT", "kid": keys.other_issuer.kid}, p,
                        keys.other_issuer)]))

    # 3. nesting and type confusion
    emit("nesting", "vp-inside-vp", holder_vp([vp]))
    emit("nesting", "vp-inside-vp-only", holder_vp([vp, vp]))
    p = copy.deepcopy(vc_payload)
    p["vc"]["credentialSubject"]["presentation"] = vp
    emit("nesting", "vp-inside-vc-subject-attacker", holder_vp(
        [jws({"alg": att.alg, "typ": "JWT", "kid": att.kid}, p | {"iss": att.did}, att)]))
    p = copy.deepcopy(vc_payload)
    p["vp"] = payload["vp"]
    emit("nesting", "vc-carrying-vp-claim-attacker", holder_vp(
        [jws({"alg": att.alg, "kid": att.kid}, p | {"iss": att.did}, att)]))
    p = copy.deepcopy(payload)
    p["vc"] = vc_payload["vc"]
    emit("nesting", "vp-carrying-vc-claim-as-credential", holder_vp(
        [jws(header, p, keys.holder)]))
    emit("nesting", "vp-as-credential-of-itself", holder_vp([{"jwt": vc}]))
    emit("nesting", "vc-object-not-jwt", holder_vp([vc_payload["vc"]]))
    emit("nesting", "vc-typ-vp", holder_vp(
        [jws({"alg": att.alg, "typ": "vp+jwt", "kid": att.kid}, vc_payload | {"iss": att.did},
             att)]))
    emit("nesting", "no-credentials", holder_vp([]))
    emit("nesting", "credential-null", holder_vp([None]))
    emit("nesting", "credential-number", holder_vp([12345]))
    emit("nesting", "vc-and-forged-vc", holder_vp(
        [vc, jws({"alg": att.alg, "kid": att.kid}, vc_payload | {"iss": att.did}, att)]))

    # 4. holder-signed presentations with the wrong request binding
    aud = base.audience or ""
    nonce = base.nonce or ""
    binds = {
        "aud-confusable": {"aud": aud.replace("i", "\u0456", 1)},
        "aud-trailing-slash": {"aud": aud + "/"},
        "aud-list-with-other": {"aud": ["https://attacker.invalid"]},
        "aud-missing": {"aud": None},
        "nonce-zero-width": {"nonce": nonce + "\u200b"},
        "nonce-number": {"nonce": 1},
        "nonce-list": {"nonce": [nonce + "x"]},
        "nonce-missing": {"nonce": None},
        "exp-before-at": {"exp": payload["iat"] - 1},
    }
    for label, change in binds.items():
        p = copy.deepcopy(payload)
        for k, v in change.items():
            if v is None:
                p.pop(k, None)
            else:
                p[k] = v
        emit("binding", label, jws(header, p, keys.holder))


# -- JSON-LD ----------------------------------------------------------------------------------

def _flip_multibase(value: str, pos: int) -> str:
    ch = value[pos]
    return value[:pos] + ("2" if ch != "2" else "3") + value[pos + 1:]


def ldp_mutations(doc: Json, others: list[Json], rng: random.Random,
                  emit: Callable[[str, str, Json], None]) -> None:
    proof = doc["proof"]
    pv_key = "proofValue" if "proofValue" in proof else "jws"
    pv = proof[pv_key]

    def with_proof(**changes: Any) -> Json:
        d = copy.deepcopy(doc)
        d["proof"].update(changes)
        return d

    for n in range(6):
        pos = rng.randrange(2, len(pv) - 1)
        emit("bitflip", f"{pv_key}-char{pos}-{n}", with_proof(**{pv_key: _flip_multibase(pv, pos)}))
    if pv_key == "proofValue" and pv.startswith("z"):
        raw = base58.b58decode(pv[1:])
        emit("base64", "proofValue-multibase-base64url",
             with_proof(proofValue="u" + b64u(raw)))
        emit("base64", "proofValue-multibase-base64pad",
             with_proof(proofValue="M" + base64.b64encode(raw).decode()))
        emit("base64", "proofValue-no-prefix", with_proof(proofValue=pv[1:]))
        emit("base64", "proofValue-whitespace", with_proof(proofValue=pv[:9] + " " + pv[9:]))
        emit("base64", "proofValue-truncated", with_proof(proofValue=pv[:-2]))
        emit("base64", "proofValue-extended", with_proof(proofValue=pv + "1"))
    emit("proof", "proof-removed", {k: v for k, v in doc.items() if k != "proof"})
    emit("proof", "proof-empty-list", doc | {"proof": []})
    emit("proof", "proof-set-with-attacker-proof", doc | {"proof": [
        proof, proof | {"verificationMethod": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta"
                                               "2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEG"
                                               "ta2doK", pv_key: pv[:-3] + "abc"}]})
    emit("proof", "proof-purpose-authentication", with_proof(proofPurpose="authentication"))
    emit("proof", "proof-purpose-missing", {**doc, "proof": {k: v for k, v in proof.items()
                                                             if k != "proofPurpose"}})
    emit("proof", "created-changed", with_proof(created="2020-01-01T00:00:00Z"))
    emit("proof", "created-garbage", with_proof(created="not-a-date"))
    emit("proof", "expires-past", with_proof(expires="2020-01-01T00:00:00Z"))
    emit("proof", "vm-other-did", with_proof(
        verificationMethod="did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
                           "#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"))
    emit("proof", "vm-did-web-unreachable",
         with_proof(verificationMethod="did:web:127.0.0.1%3A1#k"))
    if "cryptosuite" in proof:
        for suite in ("eddsa-jcs-2022", "ecdsa-rdfc-2019", "eddsa-2022", "none"):
            if suite != proof["cryptosuite"]:
                emit("proof", f"cryptosuite-{suite}", with_proof(cryptosuite=suite))
    for t in ("Ed25519Signature2020", "DataIntegrityProof", "JsonWebSignature2020", "None"):
        if t != proof.get("type"):
            emit("proof", f"proof-type-{t}", with_proof(type=t))
    def content(d: Json) -> Json:
        return {k: v for k, v in d.items() if k not in ("proof", "@context")}

    for i, other in enumerate(others):
        if other is doc or "proof" not in other:
            continue
        if content(other) == content(doc):
            # same statements by the same issuer: a legitimate proof, not a forgery --
            # move it onto this document with one claim changed instead
            emit("transplant", f"proof-moved-from-{i}-onto-changed-id",
                 doc | {"proof": other["proof"], "id": "urn:uuid:attacker"})
            continue
        emit("transplant", f"proof-moved-from-{i}", doc | {"proof": other["proof"]})
    ctx = doc["@context"]
    ctx_list = ctx if isinstance(ctx, list) else [ctx]
    swaps = {"v1": "https://www.w3.org/2018/credentials/v1",
             "v2": "https://www.w3.org/ns/credentials/v2"}
    for label, url in swaps.items():
        if ctx_list[0] != url:
            emit("context", f"base-context-swapped-{label}", doc | {"@context": [url,
                                                                                *ctx_list[1:]]})
    emit("context", "extended-unknown-url", doc | {"@context": [*ctx_list,
                                                                "https://attacker.invalid/ctx"]})
    subj0 = doc.get("credentialSubject") if isinstance(doc.get("credentialSubject"), dict) else {}
    emit("context", "extended-inline-vocab-with-new-claim", doc | {
        "@context": [*ctx_list, {"@vocab": "https://attacker.invalid/#"}],
        "credentialSubject": subj0 | {"grade": "A+"}})
    emit("context", "undefined-claim-no-context", doc | {"credentialSubject": subj0 | {
        "unsignedGradeXyz": "A+"}})
    emit("context", "extended-inline-protected-override", doc | {"@context": [
        *ctx_list, {"@version": 1.1, "VerifiableCredential": "https://attacker.invalid/VC"}]})
    emit("context", "context-dropped-extension", doc | {"@context": ctx_list[:1]})
    emit("context", "context-reordered", doc | {"@context": list(reversed(ctx_list))})
    if len(ctx_list) > 1:  # a one-element list and its string are the same JSON-LD
        emit("context", "context-string-not-list", doc | {"@context": ctx_list[-1]})
    for label, field_name, value in (
        ("issuer-swapped", "issuer", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
        ("issuer-confusable", "issuer", str(doc.get("issuer", "")).replace("a", "\u0430", 1)),
        ("type-extended", "type", [*doc.get("type", []), "UniversityDegreeCredential"]),
        ("id-changed", "id", "urn:uuid:00000000-0000-0000-0000-000000000000"),
        ("holder-swapped", "holder", "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"),
    ):
        if field_name in doc:
            emit("claims", label, doc | {field_name: value})
    subj = doc.get("credentialSubject")
    if isinstance(subj, dict):
        emit("subject", "subject-id-swapped", doc | {"credentialSubject": subj | {
            "id": "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"}})
        emit("subject", "subject-claim-added", doc | {"credentialSubject": subj | {
            "degree": {"type": "DoctoralDegree"}}})
    for date_field in ("issuanceDate", "validFrom", "expirationDate", "validUntil"):
        if date_field in doc:
            emit("dates", f"{date_field}-shifted", doc | {date_field: "2019-01-01T00:00:00Z"})
            emit("dates", f"{date_field}-garbage", doc | {date_field: "-2025-13-45T99:00:00Z"})
    vcs = doc.get("verifiableCredential")
    if vcs is not None:
        first = vcs[0] if isinstance(vcs, list) else vcs
        emit("nesting", "vp-inside-vp", doc | {"verifiableCredential": [doc]})
        emit("nesting", "credential-claim-changed", doc | {"verifiableCredential": [
            first | {"credentialSubject": {"id": "did:example:attacker"}}]})
        emit("nesting", "credential-proof-removed", doc | {"verifiableCredential": [
            {k: v for k, v in first.items() if k != "proof"}]})


# -- SD-JWT -----------------------------------------------------------------------------------

def sd_jwt_games(keys: Keys, emit: Emit, rng: random.Random) -> None:
    issued, disc = sd_issue(keys)
    holder, att = keys.holder, keys.attacker["Ed25519"]

    def present(ds: list[str], **kw: Any) -> str:
        return sd_present(issued, ds, holder, **kw)

    forged, _ = _disclosure("salt-0-forgery", "given_name", "Mallory")
    emit("sd-jwt", "disclosure-value-changed", present([forged, *disc[1:]]))
    evil_iss, _ = _disclosure("x", "iss", att.did)
    emit("sd-jwt", "unreferenced-disclosure-iss", present([*disc, evil_iss]))
    evil_cnf, _ = _disclosure("x", "cnf", {"jwk": att.jwk})
    emit("sd-jwt", "unreferenced-disclosure-cnf", present([*disc, evil_cnf]))
    emit("sd-jwt", "disclosure-repeated", present([disc[0], disc[0], *disc[1:]]))
    emit("sd-jwt", "disclosure-padded", present([disc[0] + "=", *disc[1:]]))
    std = next((d for d in disc if "-" in d or "_" in d), None)
    if std is not None:
        emit("sd-jwt", "disclosure-standard-alphabet", present(
            [base64.b64encode(unb64u(std)).decode().rstrip("="), *[d for d in disc
                                                                   if d != std]]))
    emit("sd-jwt", "disclosure-four-elements",
         present([b64u(json.dumps(["s", "given_name", "A", "x"]).encode())]))
    emit("sd-jwt", "disclosure-not-array", present([b64u(b'{"given_name":"A"}')]))
    emit("sd-jwt", "disclosure-name-_sd", present([b64u(json.dumps(["s", "_sd", ["x"]]).encode())]))
    issued_plain, disc_plain = sd_issue(keys, claims={"given_name": "Ane"})
    emit("sd-jwt", "disclosure-overrides-plain-claim",
         sd_present(issued_plain, disc_plain, holder))
    dup_digest_issued, dd = sd_issue(keys, signer=att, header={"alg": att.alg, "typ": "dc+sd-jwt",
                                                               "kid": att.kid})
    emit("sd-jwt", "issuer-jwt-attacker-signed", sd_present(dup_digest_issued, dd, holder))
    # key binding
    presented = issued + "~" + "".join(d + "~" for d in disc)
    emit("sd-jwt", "kb-missing", presented)
    emit("sd-jwt", "kb-missing-no-tilde", presented[:-1])
    emit("sd-jwt", "kb-signed-by-attacker", sd_present(issued, disc, att))
    emit("sd-jwt", "kb-sd-hash-over-fewer-disclosures",
         presented.replace(disc[2] + "~", "") + present(disc).rsplit("~", 1)[1])
    emit("sd-jwt", "kb-sd-hash-other", present(disc, sd_hash=b64u(b"\x00" * 32)))
    emit("sd-jwt", "kb-nonce-other", present(disc, nonce="other-nonce"))
    emit("sd-jwt", "kb-aud-other", present(disc, aud="https://attacker.invalid"))
    emit("sd-jwt", "kb-iat-stale", present(disc, iat=1748858400 - 86400 * 30))
    emit("sd-jwt", "kb-iat-future", present(disc, iat=1748858400 + 86400))
    emit("sd-jwt", "kb-iat-string", present(disc, iat="1748858400"))  # type: ignore[arg-type]
    emit("sd-jwt", "kb-typ-jwt", present(disc, header={"alg": "EdDSA", "typ": "JWT"}))
    kb_payload = {"nonce": SD_NONCE, "aud": SD_AUD, "iat": 1748858400,
                  "sd_hash": b64u(hashlib.sha256(presented.encode()).digest())}
    emit("sd-jwt", "kb-alg-none", presented + enc_json({"alg": "none", "typ": "kb+jwt"}) + "."
         + enc_json(kb_payload) + ".")
    emit("sd-jwt", "kb-hs256-holder-key", presented + hmac_jws(
        {"alg": "HS256", "typ": "kb+jwt"}, kb_payload,
        json.dumps(holder.jwk, separators=(",", ":")).encode()))
    emit("sd-jwt", "kb-is-issuer-jwt", presented + issued)
    emit("sd-jwt", "extra-tilde", present(disc).replace("~", "~~", 1))
    emit("sd-jwt", "issuer-cnf-swapped-attacker-signed", sd_present(
        sd_issue(keys, claims={"cnf": {"jwk": att.jwk}}, signer=att,
                 header={"alg": att.alg, "typ": "dc+sd-jwt", "kid": att.kid})[0], disc, att))
    emit("sd-jwt", "issuer-typ-jwt-legit", sd_present(
        sd_issue(keys, header={"alg": "ES256", "typ": "JWT", "kid": keys.issuer.kid})[0],
        disc, holder))
    emit("sd-jwt", "sd-alg-md5-legit", sd_present(
        sd_issue(keys, claims={"_sd_alg": "md5"})[0], disc, holder))
    emit("sd-jwt", "exp-string-legit", sd_present(
        sd_issue(keys, claims={"exp": "9999999999"})[0], disc, holder))
    emit("sd-jwt", "exp-past-legit", sd_present(
        sd_issue(keys, claims={"exp": 1700000000})[0], disc, holder))
    emit("sd-jwt", "cnf-missing-legit", sd_present(
        sd_issue(keys, claims={"cnf": None})[0], disc, holder))
    # the issuer-signed JWT gets the generic JWS treatment, re-presented by the holder
    def inner(cat: str, name: str, token: str) -> None:
        if token.count(".") == 2 and "~" not in token:
            emit(cat, f"issuer-jwt-{name}", sd_present(token, disc, holder))
    bit_flips(issued, rng, inner, per_segment=3)
    alg_attacks(issued, [keys.issuer], keys, inner)
    header_injection(issued, keys, inner)


# -- assembly ---------------------------------------------------------------------------------

def corpus(seed: int = SEED) -> list[Mutation]:
    """Every mutation, deterministic for ``seed``; duplicates and no-ops removed."""
    rng = random.Random(seed)  # noqa: S311 -- reproducible mutations, not secrets
    keys = Keys()
    all_bases = bases(keys)
    by_name = {b.name: b for b in all_bases}
    out: list[Mutation] = []
    seen: set[str] = set()

    def add(base: Base, category: str, name: str, value: str | Json) -> None:
        text = value if isinstance(value, str) else json.dumps(value, sort_keys=True)
        original = base.input if isinstance(base.input, str) else json.dumps(base.input,
                                                                             sort_keys=True)
        if text == original or text in seen:
            return
        seen.add(text)
        out.append(Mutation(category, f"{base.name}/{name}", base, base.kind, value,
                            base.nonce, base.audience))

    def emitter(base: Base, prefix: str = "") -> Emit:
        return lambda cat, name, tok: add(base, cat, prefix + name, tok)

    demo_vp, demo_vc = by_name["demo-vp"], by_name["demo-vc"]
    vp, vc = str(demo_vp.input), str(demo_vc.input)
    donors = [vc, vp] + [str(b.input) for b in all_bases
                         if b.name.startswith("ebsi-") and isinstance(b.input, str)]

    # demo VP: outer token, and the inner VC re-wrapped in a holder-signed VP
    jwt_token_mutations(vp, keys, rng, emitter(demo_vp), pub=[keys.holder], donors=donors,
                        signer_is_holder=True, confusable_field="iss")
    vp_header, vp_payload = dec_segment(vp, 0), dec_segment(vp, 1)

    def rewrap(cat: str, name: str, inner_vc: str) -> None:
        p = copy.deepcopy(vp_payload)
        p["vp"]["verifiableCredential"] = [inner_vc]
        add(demo_vp, cat, "vc-in-vp/" + name, jws(vp_header, p, keys.holder))

    jwt_token_mutations(vc, keys, rng, rewrap, pub=[keys.issuer], donors=donors,
                        signer_is_holder=False, confusable_field="iss")
    vp_games(vp, vc, keys, emitter(demo_vp), demo_vp)
    duplicate_keys(vp, keys.holder, keys, emitter(demo_vp),
                   evil={"nonce": "attacker-nonce", "aud": "https://attacker.invalid",
                         "exp": 1600000000, "iss": keys.attacker["Ed25519"].did},
                   evil_header={"alg": "none", "kid": keys.attacker["Ed25519"].kid})
    duplicate_keys(vc, keys.issuer, keys, rewrap,
                   evil={"exp": 1600000000, "sub": keys.attacker["Ed25519"].did,
                         "iss": keys.attacker["Ed25519"].did},
                   evil_header={"alg": "HS256", "kid": keys.attacker["Ed25519"].kid})
    numbers_and_dates(vp, keys.holder, emitter(demo_vp), claim="vp", expire_claims=())
    numbers_and_dates(vc, keys.issuer, rewrap, claim="vc",
                      expire_claims=("expirationDate", "issuanceDate", "validFrom"))
    # demo VC alone: the generic token games (a credential without a presentation)
    jwt_token_mutations(vc, keys, rng, emitter(demo_vc), pub=[keys.issuer], donors=donors,
                        signer_is_holder=False, confusable_field="iss")
    # VC presented as a VP and vice versa
    add(demo_vp, "nesting", "vc-as-presentation", vc)
    add(demo_vc, "nesting", "vp-as-credential", vp)

    # EBSI-made tokens: no keys held; tamper and attacker-sign only
    for base in all_bases:
        if base.name.startswith("ebsi-") and isinstance(base.input, str):
            tok = base.input
            header = dec_segment(tok, 0)
            kid_did = str(header.get("kid", "")).split("#")[0]
            pub = [k for k in (keys.issuer,) if k.did == kid_did]
            bit_flips(tok, rng, emitter(base), per_segment=3)
            b64_variants(tok, emitter(base))
            alg_attacks(tok, pub, keys, emitter(base))
            header_injection(tok, keys, emitter(base))
            confusables(tok, keys, emitter(base), "iss")
            signature_transplant(tok, donors, emitter(base))

    # JSON-LD
    ldp_docs = [b.input for b in all_bases if b.name.startswith("ldp-")]
    for base in all_bases:
        if base.name.startswith("ldp-") and isinstance(base.input, dict):
            ldp_mutations(base.input, [d for d in ldp_docs if isinstance(d, dict)], rng,
                          lambda cat, name, doc, b=base: add(b, cat, name, doc))

    # SD-JWT
    sd_jwt_games(keys, emitter(by_name["sdjwt"]), rng)
    return out


def summary(mutations: list[Mutation]) -> Counter[str]:
    return Counter(m.category for m in mutations)


def _main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seed", type=int, default=SEED)
    parser.add_argument("--dump", type=Path, help="write one JSON file per mutation here")
    args = parser.parse_args(argv)
    muts = corpus(args.seed)
    for cat, n in sorted(summary(muts).items()):
        print(f"{cat:20s} {n}")
    print(f"{'total':20s} {len(muts)}")
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        for i, m in enumerate(muts):
            safe = m.name.replace("/", "__")
            (args.dump / f"{i:05d}-{m.category}-{safe}.json").write_text(json.dumps(
                {"category": m.category, "name": m.name, "base": m.base.name,
                 **m.as_request()}, indent=1))
    return 0


def iter_names(mutations: list[Mutation]) -> Iterator[str]:
    return (m.name for m in mutations)


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
