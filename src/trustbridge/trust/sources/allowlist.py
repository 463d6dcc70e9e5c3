"""A configured allow-list and deny-list (pilots, private ecosystems).

Entries name an issuer DID or a certificate fingerprint ``sha256:<hex>`` (of any
certificate in the credential's ``x5c`` chain), with the credential types allowed
(``*`` for any) and an optional validity window. A deny-list entry is authoritative:
it vetoes every other source.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trustbridge.errors import InputError
from trustbridge.trust.interface import SourceAnswer, SourceStatus, TrustSubject, answer


class AllowEntry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    issuer: str  # a DID, or sha256:<hex> of a certificate
    types: tuple[str, ...] = ("*",)
    valid_from: datetime | None = None
    valid_until: datetime | None = None
    note: str | None = None


class AllowListFile(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    allow: tuple[AllowEntry, ...] = ()
    deny: tuple[str, ...] = ()


def load_allowlist(path: Path) -> AllowListFile:
    try:
        return AllowListFile.model_validate(json.loads(path.read_text(encoding="utf-8")))
    except (OSError, ValueError, ValidationError) as exc:
        raise InputError(f"allow-list {path} unusable: {exc}",
                         code="trust.allowlist_invalid") from exc


class AllowListSource:
    """Pure lookup over configured entries; never unavailable."""

    in_memory = True
    """Answers without I/O, so ``TrustService`` awaits it in place instead of in a task."""

    def __init__(self, name: str = "allowlist", *, allow: Sequence[AllowEntry] = (),
                 deny: Sequence[str] = (), origin: str = "settings") -> None:
        self.name = name
        self.allow = tuple(allow)
        self.deny = frozenset(d.lower() if d.startswith("sha256:") else d for d in deny)
        self.origin = origin

    @classmethod
    def from_settings(cls, allow: Mapping[str, Sequence[str]], deny: Sequence[str],
                      file: Path | None = None) -> AllowListSource:
        entries = [AllowEntry(issuer=k, types=tuple(v) or ("*",)) for k, v in allow.items()]
        denied = list(deny)
        origin = "settings"
        if file is not None:
            loaded = load_allowlist(file)
            entries.extend(loaded.allow)
            denied.extend(loaded.deny)
            origin = f"settings+{file}"
        return cls(allow=entries, deny=denied, origin=origin)

    def _keys(self, subject: TrustSubject) -> set[str]:
        return {subject.issuer} | {"sha256:" + hashlib.sha256(c).hexdigest()
                                   for c in subject.x5c}

    async def evaluate(self, subject: TrustSubject) -> SourceAnswer:
        keys = self._keys(subject)
        evidence: dict[str, Any] = {"origin": self.origin}
        if keys & self.deny:
            return answer(self.name, SourceStatus.NOT_TRUSTED, "trust.allowlist.denied",
                          "the issuer is on the deny-list", authoritative=True,
                          evidence={**evidence, "matched": sorted(keys & self.deny)})
        for entry in self.allow:
            if entry.issuer not in keys:
                continue
            if (entry.valid_from and subject.at < entry.valid_from) or (
                    entry.valid_until and subject.at > entry.valid_until):
                continue
            if "*" in entry.types or set(entry.types) & set(subject.types):
                return answer(self.name, SourceStatus.TRUSTED, "trust.allowlist.allowed",
                              "the issuer is on the allow-list for this credential type",
                              evidence={**evidence, "entry": entry.model_dump(mode="json")})
        return answer(self.name, SourceStatus.UNKNOWN, "trust.allowlist.not_listed",
                      "the issuer is not on the allow-list for these types", evidence=evidence)


class AllowListEntries(BaseModel):
    """The allow-list as JSON (for docs/tests)."""

    entries: list[AllowEntry] = Field(default_factory=list)


__all__ = ["AllowEntry", "AllowListFile", "AllowListSource", "load_allowlist"]
