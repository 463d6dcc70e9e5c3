"""Property-based fuzzing of every parser that sees untrusted input.

Each parser either returns or raises its documented error family -- ``InputError``
(``MalformedInput``, ``DIDError`` are ones) or the module's own coded ``ValueError``
(``StatusListError``, ``SdJwtError``) -- for *any* input, within a bounded time.
Inputs mix pure noise with near-valid structure (base64url JSON segments, ``did:key:z``
prefixes, multicodec headers, zlib/gzip payloads) so the deeper code paths are reached.
The examples run are counted into the terminal summary.
"""

from __future__ import annotations

import base64
import contextlib
import gzip
import json
import time
import zlib
from collections.abc import Callable
from typing import Any

import base58
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trustbridge.api.body import parse_json_bytes
from trustbridge.crypto.jws import parse_compact_jws
from trustbridge.crypto.multibase import decode_multibase, read_multicodec
from trustbridge.did.jwk import resolve_did_jwk
from trustbridge.did.key import resolve_did_key
from trustbridge.did.syntax import parse_did, parse_did_url
from trustbridge.errors import InputError
from trustbridge.formats._jsonld_loader import JsonLdError, check_contexts
from trustbridge.formats.jwt_vc import JwtVcFormat
from trustbridge.formats.ldp import LdpFormat
from trustbridge.formats.sd_jwt import SdJwtVcFormat
from trustbridge.formats.sd_jwt.disclosures import SdJwtError, process_disclosures, split_sd_jwt
from trustbridge.status.bitstring import StatusListError, decode_bitstring
from trustbridge.status.statuslist import parse_status_list
from trustbridge.status.token_status_list import decode_lst, parse_status_list_token

DOCUMENTED = (InputError, StatusListError, SdJwtError, JsonLdError)
EXAMPLES = 200
SLOWEST_SECONDS = 1.0
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
_RUN: dict[str, int] = {}


def b64u(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner,
                                                                 max_size=4),
    max_leaves=12)
json_objects = st.dictionaries(
    st.sampled_from(["alg", "kid", "typ", "iss", "sub", "exp", "nbf", "iat", "vc", "vp",
                     "@context", "type", "credentialSubject", "proof", "_sd", "_sd_alg",
                     "cnf", "status", "status_list", "issuer", "verifiableCredential",
                     "encodedList", "lst", "bits", "x"]),
    json_values, max_size=8)
segments = (st.text(max_size=40) | json_objects.map(lambda o: b64u(json.dumps(o).encode()))
            | st.binary(max_size=40).map(b64u))
tokens = st.lists(segments, min_size=1, max_size=5).map(".".join) | st.text(max_size=200)


def run(name: str, fn: Callable[[], Any]) -> None:
    """Call ``fn``; only the documented families may escape, and only quickly."""
    _RUN[name] = _RUN.get(name, 0) + 1
    started = time.perf_counter()
    with contextlib.suppress(*DOCUMENTED):
        fn()
    elapsed = time.perf_counter() - started
    assert elapsed < SLOWEST_SECONDS, (name, elapsed)


@pytest.fixture(scope="module", autouse=True)
def _count(hostile_stats: dict[str, dict[str, int]]) -> Any:
    yield
    hostile_stats["parser fuzzing"] = {"parsers": len(_RUN), "parser calls": sum(_RUN.values()),
                                       "undocumented exceptions": 0}


@FUZZ
@given(tokens)
def test_compact_jws(token: str) -> None:
    run("parse_compact_jws", lambda: parse_compact_jws(token))
    run("jwt_vc.parse_credential", lambda: JwtVcFormat().parse_credential(token))
    run("jwt_vc.parse_presentation", lambda: JwtVcFormat().parse_presentation(token))


@FUZZ
@given(json_objects, json_objects)
def test_jwt_vc_claims(header: dict[str, Any], payload: dict[str, Any]) -> None:
    token = f"{b64u(json.dumps(header).encode())}.{b64u(json.dumps(payload).encode())}.AAAA"
    run("jwt_vc.parse_credential(claims)", lambda: JwtVcFormat().parse_credential(token))
    run("jwt_vc.parse_presentation(claims)", lambda: JwtVcFormat().parse_presentation(token))


codecs = st.sampled_from([b"\xed\x01", b"\x80\x24", b"\xe7\x01", b"\x81\x24", b"\x85\x24",
                          b"\xec\x01", b"\xeb\x51", b"", b"\xff\xff\xff\xff\xff\xff\xff\xff\x01"])


@FUZZ
@given(st.text(max_size=80), codecs, st.binary(max_size=80))
def test_multibase_multicodec(text: str, codec: bytes, body: bytes) -> None:
    run("decode_multibase", lambda: decode_multibase(text))
    run("decode_multibase(z)", lambda: decode_multibase("z" + text))
    run("read_multicodec", lambda: read_multicodec(codec + body))


dids = (st.text(max_size=60) | st.text(max_size=60).map(lambda t: "did:" + t)
        | st.builds(lambda c, b: "did:key:z" + base58.b58encode(c + b).decode(), codecs,
                    st.binary(max_size=70))
        | json_objects.map(lambda o: "did:jwk:" + b64u(json.dumps(o).encode()))
        | st.builds(lambda k: "did:jwk:" + b64u(json.dumps(k).encode()),
                    st.fixed_dictionaries({"kty": st.sampled_from(["EC", "OKP", "RSA", "oct"]),
                                           "crv": st.sampled_from(["P-256", "Ed25519", "X25519",
                                                                   "secp256k1", "P-384"]),
                                           "x": st.binary(max_size=48).map(b64u),
                                           "y": st.binary(max_size=48).map(b64u)})))


@FUZZ
@given(dids, st.text(max_size=20))
def test_did_syntax_and_key_methods(did: str, tail: str) -> None:
    run("parse_did", lambda: parse_did(did))
    run("parse_did_url", lambda: parse_did_url(did + "#" + tail))
    run("resolve_did_key", lambda: resolve_did_key(did))
    run("resolve_did_jwk", lambda: resolve_did_jwk(did))


def _compressions(data: bytes) -> st.SearchStrategy[str]:
    return st.sampled_from([b64u(zlib.compress(data)), b64u(gzip.compress(data)),
                            "u" + b64u(gzip.compress(data)),
                            base64.b64encode(gzip.compress(data)).decode(), b64u(data)])


encoded_lists = st.text(max_size=80) | st.binary(max_size=200).flatmap(_compressions)


@FUZZ
@given(encoded_lists, json_values, st.integers(min_value=-3, max_value=300))
def test_status_list_decoding(encoded: str, lst: Any, bits: Any) -> None:
    run("decode_bitstring", lambda: decode_bitstring(encoded))
    run("decode_lst", lambda: decode_lst(encoded))
    run("decode_lst(any)", lambda: decode_lst(lst))
    header = {"typ": "statuslist+jwt", "alg": "ES256"}
    payload = {"sub": "https://s.test/1", "iat": 1, "status_list": {"bits": bits, "lst": encoded}}
    run("parse_status_list_token", lambda: parse_status_list_token(
        header, payload, uri="https://s.test/1"))
    credential = {"credentialSubject": {"type": "BitstringStatusList", "encodedList": encoded,
                                        "statusPurpose": lst}}
    run("parse_status_list", lambda: parse_status_list(credential, url="https://s.test/1"))


@FUZZ
@given(json_objects, json_values)
def test_status_list_shapes(subject: dict[str, Any], other: Any) -> None:
    run("parse_status_list(shape)", lambda: parse_status_list(
        {"credentialSubject": subject, "validUntil": other}, url="https://s.test/1"))
    run("parse_status_list_token(shape)", lambda: parse_status_list_token(
        {"typ": "statuslist+jwt"}, subject, uri="https://s.test/1"))


contexts = st.lists(st.sampled_from([
    "https://www.w3.org/2018/credentials/v1", "https://www.w3.org/ns/credentials/v2",
    "https://attacker.invalid/ctx", "", "urn:x"]) | json_values, max_size=4)


@FUZZ
@given(json_objects, contexts)
def test_jsonld_input_shape(doc: dict[str, Any], ctx: list[Any]) -> None:
    doc = {"@context": ctx, **doc}
    fmt = LdpFormat()
    run("ldp.detect", lambda: fmt.detect(doc))
    run("ldp.parse_credential", lambda: fmt.parse_credential(doc))
    run("ldp.parse_presentation", lambda: fmt.parse_presentation(doc))
    run("check_contexts", lambda: check_contexts(doc))


disclosures = (st.text(max_size=30)
               | st.lists(json_values, max_size=4).map(lambda a: b64u(json.dumps(a).encode())))


@FUZZ
@given(st.lists(tokens | disclosures, max_size=5), st.booleans(), json_objects)
def test_sd_jwt_splitting(parts: list[str], trailing: bool, payload: dict[str, Any]) -> None:
    text = "~".join(parts) + ("~" if trailing else "")
    run("split_sd_jwt", lambda: split_sd_jwt(text))
    run("process_disclosures", lambda: process_disclosures(payload, tuple(parts)))
    run("sd_jwt.parse_credential", lambda: SdJwtVcFormat().parse_credential(text))
    run("sd_jwt.parse_presentation", lambda: SdJwtVcFormat().parse_presentation(text))


@FUZZ
@given(st.binary(max_size=300) | json_values.map(lambda v: json.dumps(v).encode())
       | st.text(max_size=100).map(lambda t: t.encode("utf-16")))
def test_request_body_reader(raw: bytes) -> None:
    run("parse_json_bytes", lambda: parse_json_bytes(raw, max_depth=16))


def test_deep_and_wide_bodies_are_bounded() -> None:
    for raw in (b"[" * 100_000, b'{"a":' * 50_000, b"1" * 5_000_000, b'"' + b"\\u0000" * 200_000
                + b'"', b"[" + b"1," * 500_000 + b"1]"):
        run("parse_json_bytes(huge)", lambda raw=raw: parse_json_bytes(raw, max_depth=16))
