"""IETF Token Status List (draft-ietf-oauth-status-list): decode a Status List Token and
judge one ``status.status_list`` reference against it -- pure, facts in, ``CheckResult`` out.

The list is ``lst``: base64url of a ZLIB/DEFLATE-compressed byte array holding
``bits`` (1, 2, 4 or 8) per Referenced Token, index 0 in the *least* significant
bits of byte 0 (§4.1; the opposite of the W3C Bitstring Status List). Values:
0x00 VALID, 0x01 INVALID, 0x02 SUSPENDED, 0x03 and 0x0C-0x0F application specific,
the rest reserved (§7). Decompression is capped (zip-bomb). The token's
*signature* is checked by the caller before ``parse_status_list_token`` sees it.
"""

from __future__ import annotations

import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trustbridge.crypto.base64url import b64url_decode
from trustbridge.formats.base import StatusEntry, parse_datetime
from trustbridge.model.report import CheckResult
from trustbridge.status.bitstring import MAX_DECOMPRESSED_BYTES, StatusListError

CHECK = "status"
ENTRY_TYPE = "TokenStatusList"
TOKEN_TYP = "statuslist+jwt"  # noqa: S105 -- a media type, not a secret
BITS = (1, 2, 4, 8)
VALID, INVALID, SUSPENDED = 0x00, 0x01, 0x02


@dataclass(frozen=True)
class TokenStatusList:
    """A decoded Status List Token: who issued it, for which URI, until when, the bytes."""

    uri: str
    issuer: str | None
    bits: int
    lst: bytes
    issued_at: datetime | None
    expires: datetime | None
    ttl_seconds: float | None

    @property
    def size(self) -> int:
        return len(self.lst) * 8 // self.bits


def decode_lst(lst: Any, *, max_bytes: int = MAX_DECOMPRESSED_BYTES) -> bytes:
    """§4.1: base64url(ZLIB(bytes)); ``status.list_malformed`` / ``status.list_too_large``."""
    if not isinstance(lst, str) or not lst:
        raise StatusListError("status_list.lst is missing", code="status.list_malformed")
    try:
        compressed = b64url_decode(lst)
    except ValueError as exc:
        raise StatusListError("status_list.lst is not base64url", code="status.list_malformed") \
            from exc
    # wbits=0: the ZLIB header tells the window size (the spec requires ZLIB, RFC 1950).
    inflater = zlib.decompressobj(wbits=0)
    try:
        data = inflater.decompress(compressed, max_bytes + 1)
    except zlib.error as exc:
        raise StatusListError("status_list.lst is not ZLIB data", code="status.list_malformed") \
            from exc
    if len(data) > max_bytes or inflater.unconsumed_tail:
        raise StatusListError(f"status list expands beyond {max_bytes} bytes",
                              code="status.list_too_large")
    return data


def status_at(lst: bytes, index: int, bits: int) -> int:
    """The ``bits``-wide value at ``index`` (LSB-first within each byte); ``IndexError`` if out."""
    if bits not in BITS:
        raise ValueError("bits must be 1, 2, 4 or 8")
    per_byte = 8 // bits
    byte, slot = divmod(index, per_byte)
    if index < 0 or byte >= len(lst):
        raise IndexError(index)
    return (lst[byte] >> (slot * bits)) & ((1 << bits) - 1)


def parse_status_list_token(header: Mapping[str, Any], payload: Mapping[str, Any], *, uri: str,
                            max_bytes: int = MAX_DECOMPRESSED_BYTES) -> TokenStatusList:
    """§5.1 and §8.3 step 3-4a: typ, required claims, ``sub`` equal to the referenced ``uri``."""
    typ = header.get("typ")
    if not isinstance(typ, str) or typ.lower().removeprefix("application/") != TOKEN_TYP:
        raise StatusListError(f"typ {typ!r} is not {TOKEN_TYP}", code="status.list_malformed")
    if payload.get("sub") != uri:
        raise StatusListError("the Status List Token's sub is not the referenced uri",
                              code="status.list_uri_mismatch")
    iat = payload.get("iat")
    if isinstance(iat, bool) or not isinstance(iat, int | float):
        raise StatusListError("the Status List Token has no iat", code="status.list_malformed")
    status_list = payload.get("status_list")
    if not isinstance(status_list, Mapping):
        raise StatusListError("the token has no status_list claim", code="status.list_malformed")
    bits = status_list.get("bits")
    if bits not in BITS or isinstance(bits, bool):
        raise StatusListError(f"status_list.bits {bits!r} is not 1, 2, 4 or 8",
                              code="status.list_malformed")
    exp = payload.get("exp")
    ttl = payload.get("ttl")
    iss = payload.get("iss")
    return TokenStatusList(
        uri=uri, issuer=iss if isinstance(iss, str) else None, bits=int(bits),
        lst=decode_lst(status_list.get("lst"), max_bytes=max_bytes),
        issued_at=parse_datetime(iat),
        expires=parse_datetime(exp) if isinstance(exp, int | float) else None,
        ttl_seconds=float(ttl) if isinstance(ttl, int | float) and not isinstance(ttl, bool)
        and ttl > 0 else None)


def check_token_status_entry(entry: StatusEntry, token_list: TokenStatusList, *,
                             credential_issuer: str | None, at: datetime,
                             allowed_issuers: frozenset[str] = frozenset()) -> CheckResult:
    """§8.3 steps 4c-7 for one Referenced Token: not expired, index in range, value judged."""
    where = {"uri": token_list.uri, "idx": entry.index, "bits": token_list.bits}
    # 1. The reference carries a non-negative integer idx (§6.2).
    if entry.index is None:
        return CheckResult.failed(CHECK, "status.entry_malformed",
                                  "status.status_list has no non-negative integer idx", **where)
    # 2. When the list names an issuer it is the credential's (or one the operator allows).
    if token_list.issuer is not None and token_list.issuer != credential_issuer \
            and token_list.issuer not in allowed_issuers:
        return CheckResult.failed(CHECK, "status.issuer_mismatch",
                                  "the Status List Token was issued by a different issuer",
                                  list_issuer=token_list.issuer,
                                  credential_issuer=credential_issuer, **where)
    # 3. An expired list says nothing about now (§8.3 4c) -> indeterminate.
    if token_list.expires is not None and at > token_list.expires:
        return CheckResult.error(CHECK, "status.list_expired",
                                 "the Status List Token has expired; current status unknown",
                                 exp=token_list.expires.isoformat(), **where)
    # 4. Out of range: no statement can be made and the token MUST be rejected (§8.3 step 6).
    try:
        value = status_at(token_list.lst, entry.index, token_list.bits)
    except IndexError:
        return CheckResult.failed(CHECK, "status.index_out_of_range",
                                  "idx is outside the status list", size=token_list.size,
                                  **where)
    # 5. The value (§7.1).
    if value == VALID:
        return CheckResult.passed(CHECK, "VALID in the token status list", value=value, **where)
    if value == INVALID:
        return CheckResult.failed(CHECK, "status.revoked",
                                  "the issuer has revoked (INVALID) this credential",
                                  value=value, **where)
    if value == SUSPENDED:
        return CheckResult.failed(CHECK, "status.suspended",
                                  "the issuer has suspended this credential", value=value,
                                  **where)
    return CheckResult.error(CHECK, "status.value_unknown",
                             f"status value {value:#04x} is application specific or reserved",
                             value=value, **where)


__all__ = [
    "ENTRY_TYPE",
    "TOKEN_TYP",
    "TokenStatusList",
    "check_token_status_entry",
    "decode_lst",
    "parse_status_list_token",
    "status_at",
]
