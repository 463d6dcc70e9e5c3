"""Status-list credentials and the per-entry check (pure; facts in, ``CheckResult`` out).

Implements the validation algorithm of W3C Bitstring Status List v1.0 §3.2
(and the same steps for the CCG StatusList2021 draft §5 and EBSI's
StatusList2021 profile, whose lists are served by the TIR as JWT VCs). The
list credential's *signature* is checked by the caller with its format before
``parse_status_list`` sees it; here only its content is judged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from trustbridge.formats.base import StatusEntry, as_list, issuer_id, parse_datetime, types_of
from trustbridge.model.report import CheckResult
from trustbridge.status.bitstring import (
    MAX_DECOMPRESSED_BYTES,
    StatusListError,
    bit_length,
    decode_bitstring,
    status_value,
)

CHECK = "status"

ENTRY_TYPES = frozenset({"StatusList2021Entry", "BitstringStatusListEntry"})
LIST_TYPES = frozenset({"StatusList2021", "BitstringStatusList"})
LIST_CREDENTIAL_TYPES = frozenset({"StatusList2021Credential", "BitstringStatusListCredential"})
MIN_ENTRIES = 131_072
"""16 KiB: the herd-privacy minimum both specs ask for (reported, not enforced)."""


@dataclass(frozen=True)
class StatusList:
    """A decoded status list and the facts about the credential that carried it."""

    url: str
    issuer: str | None
    purposes: tuple[str, ...]
    bits: bytes
    valid_from: datetime | None
    valid_until: datetime | None
    ttl_seconds: float | None


def parse_status_list(
    credential: Mapping[str, Any], *, url: str, max_bytes: int = MAX_DECOMPRESSED_BYTES
) -> StatusList:
    """Read a (signature-checked) status-list credential; ``StatusListError`` if unusable."""
    subject = next(iter(as_list(credential.get("credentialSubject"))), None)
    if not isinstance(subject, Mapping):
        raise StatusListError("status list credential has no credentialSubject",
                              code="status.list_malformed")
    subject_types = set(types_of(subject))
    if not subject_types & LIST_TYPES:
        raise StatusListError(f"credentialSubject type {sorted(subject_types)} is not a status "
                              "list", code="status.list_malformed")
    purposes = tuple(p for p in as_list(subject.get("statusPurpose")) if isinstance(p, str))
    bits = decode_bitstring(subject.get("encodedList", ""), max_bytes=max_bytes)
    ttl_raw = subject.get("ttl")
    ttl = float(ttl_raw) / 1000.0 if isinstance(ttl_raw, int | float) and ttl_raw > 0 else None
    return StatusList(
        url=url,
        issuer=issuer_id(credential),
        purposes=purposes,
        bits=bits,
        valid_from=parse_datetime(credential.get("validFrom") or credential.get("issuanceDate")),
        valid_until=parse_datetime(credential.get("validUntil")
                                   or credential.get("expirationDate")),
        ttl_seconds=ttl,
    )


def check_status_entry(
    entry: StatusEntry,
    status_list: StatusList,
    *,
    credential_issuer: str | None,
    at: datetime,
    allowed_issuers: frozenset[str] = frozenset(),
) -> CheckResult:
    """Bitstring Status List §3.2 steps 1-9 for one entry against its decoded list."""
    where = {"statusListCredential": status_list.url, "statusListIndex": entry.index,
             "statusPurpose": entry.purpose}
    # 1. The entry is of a supported type and carries an integer index and a purpose.
    if entry.type not in ENTRY_TYPES and not entry.type.endswith("StatusList2021Entry"):
        return CheckResult.failed(CHECK, "status.type_unsupported",
                                  f"credentialStatus type {entry.type!r} is not supported",
                                  **where)
    if entry.index is None or entry.purpose is None:
        return CheckResult.failed(CHECK, "status.entry_malformed",
                                  "credentialStatus lacks statusListIndex or statusPurpose",
                                  **where)
    # 2. The list was issued by the credential's issuer (or one the operator allows):
    #    otherwise anyone could "un-revoke" by pointing at their own list.
    if status_list.issuer != credential_issuer and status_list.issuer not in allowed_issuers:
        return CheckResult.failed(CHECK, "status.issuer_mismatch",
                                  "status list was issued by a different issuer",
                                  list_issuer=status_list.issuer,
                                  credential_issuer=credential_issuer, **where)
    # 3. The list itself is within its validity period (VCDM 2.0 §4.9); a stale list
    #    cannot tell us the current status -> indeterminate, not invalid.
    if status_list.valid_until is not None and at > status_list.valid_until:
        return CheckResult.error(CHECK, "status.list_expired",
                                 "status list is past its validUntil; current status unknown",
                                 validUntil=status_list.valid_until.isoformat(), **where)
    # 4. The entry's purpose is one the list serves (§3.2 step 6).
    if status_list.purposes and entry.purpose not in status_list.purposes:
        return CheckResult.failed(CHECK, "status.purpose_mismatch",
                                  f"entry purpose {entry.purpose!r} is not served by the list",
                                  list_purposes=list(status_list.purposes), **where)
    # 5. Index within bounds (§3.2 step 8: RANGE_ERROR).
    size = _status_size(entry)
    try:
        value = status_value(status_list.bits, entry.index, size)
    except IndexError:
        return CheckResult.failed(CHECK, "status.index_out_of_range",
                                  "statusListIndex is outside the status list",
                                  entries=bit_length(status_list.bits, size), **where)
    details: dict[str, Any] = dict(where, value=value)
    if bit_length(status_list.bits, size) < MIN_ENTRIES:
        details["below_herd_privacy_minimum"] = True
    # 6. Interpret the value per purpose (§2.1 statusPurpose).
    if value and entry.purpose == "revocation":
        return CheckResult.failed(CHECK, "status.revoked", "the issuer has revoked this credential",
                                  **details)
    if value and entry.purpose == "suspension":
        return CheckResult.failed(CHECK, "status.suspended",
                                  "the issuer has suspended this credential", **details)
    return CheckResult.passed(CHECK, f"not set for {entry.purpose}", **details)


def _status_size(entry: StatusEntry) -> int:
    size = entry.raw.get("statusSize", 1)
    return size if isinstance(size, int) and not isinstance(size, bool) and 1 <= size <= 8 else 1


def is_list_credential(credential: Mapping[str, Any]) -> bool:
    return bool(set(types_of(credential)) & LIST_CREDENTIAL_TYPES)


__all__ = [
    "ENTRY_TYPES",
    "LIST_CREDENTIAL_TYPES",
    "LIST_TYPES",
    "StatusList",
    "StatusListError",
    "check_status_entry",
    "is_list_credential",
    "parse_status_list",
]
