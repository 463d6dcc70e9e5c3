"""SD-JWT serialization and Disclosure processing (RFC 9901 §4, §7.1 step 3) -- pure.

``split_sd_jwt`` separates ``<issuer-jwt>~<disclosure>~...~[<kb-jwt>]``;
``process_disclosures`` rebuilds the Processed SD-JWT Payload from the Issuer-signed
JWT payload and the presented Disclosures, rejecting everything §7.1 says to reject.
Nothing here checks a signature: callers verify the Issuer-signed JWT separately.
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from trustbridge.crypto.base64url import b64url_decode, b64url_encode
from trustbridge.formats.base import has_two_dots

SD = "_sd"
SD_ALG = "_sd_alg"
ELLIPSIS = "..."
DEFAULT_SD_ALG = "sha-256"
HASHES: Mapping[str, Callable[[bytes], Any]] = {
    "sha-256": hashlib.sha256, "sha-384": hashlib.sha384, "sha-512": hashlib.sha512}
"""``_sd_alg`` values accepted: IANA Named Information Hash Algorithm names (RFC 9901 §4.1.1)."""

MAX_DISCLOSURES = 1024
MAX_DEPTH = 64


class SdJwtError(ValueError):
    """An SD-JWT that must be rejected; ``code`` is a stable dotted string (docs/codes.md)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class SdJwtParts:
    """The three parts of a compact SD-JWT (RFC 9901 §4).

    ``presented`` is the SD-JWT the KB-JWT's ``sd_hash`` covers: everything up to and
    including the last ``~`` (§4.3.1).
    """

    issuer_jwt: str
    disclosures: tuple[str, ...]
    kb_jwt: str | None
    presented: str


def split_sd_jwt(text: str) -> SdJwtParts:
    """Split the compact serialization; ``SdJwtError`` (``sd_jwt.malformed``) if it is not one."""
    text = text.strip()
    if "~" not in text:
        raise SdJwtError("an SD-JWT has at least one '~'", code="sd_jwt.malformed")
    parts = text.split("~")
    issuer_jwt, middle, last = parts[0], parts[1:-1], parts[-1]
    if not has_two_dots(issuer_jwt):
        raise SdJwtError("the Issuer-signed JWT is not a compact JWS", code="sd_jwt.malformed")
    if any(not d for d in middle):
        raise SdJwtError("empty Disclosure between '~' separators", code="sd_jwt.malformed")
    if len(middle) > MAX_DISCLOSURES:
        raise SdJwtError(f"more than {MAX_DISCLOSURES} Disclosures", code="sd_jwt.malformed")
    if last and not has_two_dots(last):
        raise SdJwtError("the part after the last '~' is not a KB-JWT", code="sd_jwt.malformed")
    presented = text[: len(text) - len(last)]
    return SdJwtParts(issuer_jwt, tuple(middle), last or None, presented)


def digest_of(text: str, sd_alg: str) -> str:
    """base64url(hash(ASCII(text))): a Disclosure's digest (§4.2.3) or ``sd_hash`` (§4.3.1)."""
    return b64url_encode(HASHES[sd_alg](text.encode("ascii")).digest())


def sd_alg_of(payload: Mapping[str, Any]) -> str:
    """The payload's ``_sd_alg`` (default sha-256); ``sd_jwt.sd_alg_unsupported`` otherwise."""
    alg = payload.get(SD_ALG, DEFAULT_SD_ALG)
    if not isinstance(alg, str) or alg not in HASHES:
        raise SdJwtError(f"_sd_alg {alg!r} is not supported", code="sd_jwt.sd_alg_unsupported")
    return alg


@dataclass(frozen=True)
class Disclosure:
    """One decoded Disclosure: ``[salt, name, value]`` (object property) or ``[salt, value]``."""

    encoded: str
    digest: str
    salt: str
    name: str | None
    value: Any


def decode_disclosure(encoded: str, sd_alg: str) -> Disclosure:
    """§4.2.1/§4.2.2: a base64url JSON array of 2 or 3 elements with a string salt."""
    try:
        if not encoded.isascii():
            raise ValueError("not ASCII")
        content = json.loads(b64url_decode(encoded))
    except (ValueError, UnicodeDecodeError) as exc:
        raise SdJwtError("a Disclosure is not base64url-encoded JSON",
                         code="sd_jwt.disclosure_malformed") from exc
    if not isinstance(content, list) or len(content) not in (2, 3) \
            or not isinstance(content[0], str):
        raise SdJwtError("a Disclosure must be [salt, name, value] or [salt, value]",
                         code="sd_jwt.disclosure_malformed")
    name: str | None = None
    if len(content) == 3:
        if not isinstance(content[1], str):
            raise SdJwtError("a Disclosure's claim name must be a string",
                             code="sd_jwt.disclosure_malformed")
        name = content[1]
        # §7.1 step 3.c.ii.3 (as in §4.2.1): "_sd" and "..." are not claim names.
        if name in (SD, ELLIPSIS):
            raise SdJwtError(f"a Disclosure uses the reserved claim name {name!r}",
                             code="sd_jwt.claim_name_reserved")
    return Disclosure(encoded, digest_of(encoded, sd_alg), content[0], name, content[-1])


@dataclass
class _State:
    by_digest: dict[str, Disclosure]
    seen_digests: set[str] = field(default_factory=set)
    used: set[str] = field(default_factory=set)
    disclosed_paths: list[str] = field(default_factory=list)
    hidden: int = 0


@dataclass(frozen=True)
class ProcessedPayload:
    """The Processed SD-JWT Payload plus what the report may say about it (names, no values)."""

    claims: dict[str, Any]
    sd_alg: str
    disclosed_paths: tuple[str, ...]
    hidden_digests: int
    """Digests with no presented Disclosure: undisclosed claims *and* decoys (indistinguishable)."""
    top_level_disclosed: frozenset[str]


def process_disclosures(payload: Mapping[str, Any], encoded: tuple[str, ...]
                        ) -> ProcessedPayload:
    """RFC 9901 §7.1 step 3: rebuild the claims; raise ``SdJwtError`` for any rejection rule."""
    sd_alg = sd_alg_of(payload)
    state = _State(by_digest={})
    for item in encoded:
        disclosure = decode_disclosure(item, sd_alg)
        if disclosure.digest in state.by_digest:
            raise SdJwtError("the same Disclosure is presented more than once",
                             code="sd_jwt.disclosure_duplicate")
        state.by_digest[disclosure.digest] = disclosure
    claims = _object(copy.deepcopy(dict(payload)), state, "", 0)
    claims.pop(SD_ALG, None)
    # §7.1 step 3.e: every Disclosure must be referenced by a digest (tampered ones are not).
    unreferenced = [d for d in state.by_digest if d not in state.used]
    if unreferenced:
        raise SdJwtError(f"{len(unreferenced)} Disclosure(s) are not referenced by the "
                         "Issuer-signed JWT (tampered or from another credential)",
                         code="sd_jwt.disclosure_unreferenced")
    top = frozenset(p for p in state.disclosed_paths if "/" not in p and "[" not in p)
    return ProcessedPayload(claims, sd_alg, tuple(state.disclosed_paths), state.hidden, top)


def _see(digest: Any, state: _State) -> str:
    if not isinstance(digest, str):
        raise SdJwtError("a digest is not a string", code="sd_jwt.malformed")
    # §7.1 step 3.d: a digest appearing twice (directly or via Disclosures) is rejected.
    if digest in state.seen_digests:
        raise SdJwtError("a digest appears more than once in the SD-JWT",
                         code="sd_jwt.digest_duplicate")
    state.seen_digests.add(digest)
    return digest


def _object(node: dict[str, Any], state: _State, path: str, depth: int) -> dict[str, Any]:
    if depth > MAX_DEPTH:
        raise SdJwtError("the payload nests too deeply", code="sd_jwt.malformed")
    digests = node.pop(SD, None)
    out: dict[str, Any] = {}
    for name, value in node.items():
        out[name] = _value(value, state, _join(path, name), depth + 1)
    if digests is None:
        return out
    if not isinstance(digests, list):
        raise SdJwtError("_sd is not an array", code="sd_jwt.malformed")
    for raw in digests:
        digest = _see(raw, state)
        disclosure = state.by_digest.get(digest)
        if disclosure is None:
            state.hidden += 1
            continue
        if disclosure.name is None:
            raise SdJwtError("an array-element Disclosure is referenced from an _sd array",
                             code="sd_jwt.disclosure_misplaced")
        # §7.1 step 3.c.ii.2: a Disclosure must not overwrite a claim at the same level.
        if disclosure.name in out:
            raise SdJwtError(f"a Disclosure would overwrite the claim {disclosure.name!r}",
                             code="sd_jwt.claim_overwrite")
        state.used.add(digest)
        child = _join(path, disclosure.name)
        state.disclosed_paths.append(child)
        out[disclosure.name] = _value(copy.deepcopy(disclosure.value), state, child, depth + 1)
    return out


def _value(value: Any, state: _State, path: str, depth: int) -> Any:
    if isinstance(value, dict):
        return _object(value, state, path, depth)
    if isinstance(value, list):
        return _array(value, state, path, depth)
    return value


def _array(items: list[Any], state: _State, path: str, depth: int) -> list[Any]:
    if depth > MAX_DEPTH:
        raise SdJwtError("the payload nests too deeply", code="sd_jwt.malformed")
    out: list[Any] = []
    for item in items:
        if isinstance(item, dict) and ELLIPSIS in item:
            if len(item) != 1:
                raise SdJwtError("an array digest object has keys besides '...'",
                                 code="sd_jwt.malformed")
            digest = _see(item[ELLIPSIS], state)
            disclosure = state.by_digest.get(digest)
            if disclosure is None:
                state.hidden += 1  # undisclosed element or decoy: removed (§7.1 3.c.iii.1)
                continue
            if disclosure.name is not None:
                raise SdJwtError("an object-property Disclosure is referenced from an array",
                                 code="sd_jwt.disclosure_misplaced")
            state.used.add(digest)
            child = f"{path}[{len(out)}]"
            state.disclosed_paths.append(child)
            out.append(_value(copy.deepcopy(disclosure.value), state, child, depth + 1))
        else:
            out.append(_value(item, state, f"{path}[{len(out)}]", depth + 1))
    return out


def _join(path: str, name: str) -> str:
    return f"{path}/{name}" if path else name


__all__ = [
    "DEFAULT_SD_ALG",
    "HASHES",
    "Disclosure",
    "ProcessedPayload",
    "SdJwtError",
    "SdJwtParts",
    "decode_disclosure",
    "digest_of",
    "process_disclosures",
    "sd_alg_of",
    "split_sd_jwt",
]
