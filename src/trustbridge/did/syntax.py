"""DID and DID URL syntax (DID Core §3.1, §3.2), ASCII only and length-capped.

Anything outside the ABNF — whitespace, control characters, non-ASCII look-alikes,
empty segments, oversized input — is ``invalidDid`` before any method code runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trustbridge.did.interface import INVALID_DID, INVALID_DID_URL, DIDError

MAX_DID_LENGTH = 4096
_IDCHAR = r"(?:[A-Za-z0-9._-]|%[0-9A-Fa-f]{2})"
_DID = re.compile(rf"did:([a-z0-9]+):((?:{_IDCHAR}*:)*{_IDCHAR}+)", re.ASCII)
# path-abempty / query / fragment characters (RFC 3986 pchar plus "/" and "?")
_PCHARS = re.compile(r"(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*", re.ASCII)


@dataclass(frozen=True)
class ParsedDID:
    did: str
    method: str
    method_specific_id: str


@dataclass(frozen=True)
class ParsedDIDURL:
    did: ParsedDID
    path: str
    query: str | None
    fragment: str | None


def parse_did(did: object) -> ParsedDID:
    """``did`` split into method and method-specific id, or ``DIDError(invalidDid)``."""
    if not isinstance(did, str) or not did:
        raise DIDError("a DID is a non-empty string", error=INVALID_DID)
    if len(did) > MAX_DID_LENGTH:
        raise DIDError(f"DID longer than {MAX_DID_LENGTH} characters", error=INVALID_DID)
    match = _DID.fullmatch(did)
    if match is None:
        raise DIDError("not a DID (DID Core §3.1 syntax)", error=INVALID_DID)
    return ParsedDID(did, match.group(1), match.group(2))


def parse_did_url(url: object) -> ParsedDIDURL:
    """A DID URL: DID, path, query and fragment (``invalidDidUrl`` when malformed)."""
    if not isinstance(url, str) or len(url) > MAX_DID_LENGTH + 1024:
        raise DIDError("a DID URL is a string of bounded length", error=INVALID_DID_URL)
    rest, hash_, fragment = url.partition("#")
    rest, qmark, query = rest.partition("?")
    end = len(rest)
    for i, ch in enumerate(rest):
        if ch == "/":
            end = i
            break
    did, path = rest[:end], rest[end:]
    for part in (path, query, fragment):
        if _PCHARS.fullmatch(part) is None:
            raise DIDError("DID URL has characters outside RFC 3986", error=INVALID_DID_URL)
    return ParsedDIDURL(parse_did(did), path, query if qmark else None,
                        fragment if hash_ else None)


__all__ = ["MAX_DID_LENGTH", "ParsedDID", "ParsedDIDURL", "parse_did", "parse_did_url"]
