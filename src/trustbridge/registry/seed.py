"""Trust-list files: the documented JSON format of the top-level ``registry/`` folder.

One file per registry/jurisdiction (see registry/README.md)::

    {"format": "trustbridge-trust-list/1", "jurisdiction": "ES", "name": "…",
     "anchors": ["did:…"],                      # optional: RootTAO DIDs to trust
     "issuers": [{"did": "did:…", "name": "…", "country": "ES",
                  "attributes": [{"hash": "<sha256 of body>", "body": "<JWT VC>",
                                  "issuerType": "TI", "tao": "did:…", "rootTao": "did:…"}]}]}

Parsing checks the shape and that each ``hash`` is the sha256 of its ``body``; it does
not verify signatures (every evaluation does, and imports through the admin API do).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from trustbridge.errors import InputError
from trustbridge.registry.model import Attribute, IssuerRecord, attribute_id

FORMAT = "trustbridge-trust-list/1"
MAX_FILE_BYTES = 256 * 1024 * 1024


class _AttributeFile(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    hash: str | None = None
    body: str = Field(min_length=10)
    issuer_type: Literal["RootTAO", "TAO", "TI", "Revoked", "Undefined"] = Field(
        alias="issuerType")
    tao: str | None = None
    root_tao: str | None = Field(default=None, alias="rootTao")


class _IssuerFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    did: str = Field(pattern=r"^did:[a-z0-9]+:\S+$")
    name: str | None = None
    country: str | None = None
    revoked: bool = False
    attributes: list[_AttributeFile] = Field(default_factory=list)


class _TrustListFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["trustbridge-trust-list/1"]
    jurisdiction: str | None = None
    name: str | None = None
    description: str | None = None
    anchors: list[str] = Field(default_factory=list)
    issuers: list[_IssuerFile] = Field(default_factory=list)


@dataclass(frozen=True)
class TrustList:
    source: str
    jurisdiction: str | None
    name: str | None
    anchors: tuple[str, ...]
    records: tuple[IssuerRecord, ...]


def parse_trust_list(data: Any, *, source: str = "<memory>") -> TrustList:
    """A trust list from its JSON value; ``InputError`` (``registry.file_invalid``) if not."""
    try:
        parsed = _TrustListFile.model_validate(data)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        where = ".".join(str(p) for p in first["loc"])
        raise InputError(f"{source}: {where}: {first['msg']}", code="registry.file_invalid",
                         details={"source": source}) from exc
    records = []
    for issuer in parsed.issuers:
        attrs = []
        for a in issuer.attributes:
            digest = attribute_id(a.body)
            if a.hash is not None and a.hash != digest:
                raise InputError(f"{source}: attribute of {issuer.did}: hash is not the sha256 "
                                 "of body", code="registry.file_invalid")
            attrs.append(Attribute(id=digest, did=issuer.did, body=a.body,
                                   issuer_type=a.issuer_type, tao=a.tao, root_tao=a.root_tao))
        records.append(IssuerRecord(did=issuer.did, name=issuer.name, country=issuer.country,
                                    revoked=issuer.revoked, attributes=tuple(attrs)))
    return TrustList(source, parsed.jurisdiction, parsed.name, tuple(parsed.anchors),
                     tuple(records))


def load_trust_list(path: Path) -> TrustList:
    if path.stat().st_size > MAX_FILE_BYTES:
        raise InputError(f"{path} is larger than {MAX_FILE_BYTES} bytes",
                         code="registry.file_invalid")
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise InputError(f"{path}: not readable JSON: {exc}",
                         code="registry.file_invalid") from exc
    return parse_trust_list(data, source=str(path))


def trust_list_files(paths: Iterable[Path]) -> Iterator[Path]:
    """The ``*.json`` trust lists named, directories expanded (sorted, non-recursive)."""
    for path in paths:
        if path.is_dir():
            yield from sorted(p for p in path.glob("*.json") if p.is_file())
        else:
            yield path


def dump_trust_list(records: Iterable[IssuerRecord], *, jurisdiction: str | None = None,
                    name: str | None = None, anchors: Iterable[str] = ()) -> dict[str, Any]:
    """The JSON value of a trust list (``export``)."""
    issuers = []
    for r in records:
        entry: dict[str, Any] = {"did": r.did, "name": r.name, "country": r.country}
        if r.revoked:
            entry["revoked"] = True
        entry["attributes"] = [{"hash": a.id, "body": a.body, "issuerType": a.issuer_type,
                                "tao": a.tao, "rootTao": a.root_tao} for a in r.attributes]
        issuers.append({k: v for k, v in entry.items() if v is not None})
    out: dict[str, Any] = {"format": FORMAT}
    if jurisdiction:
        out["jurisdiction"] = jurisdiction
    if name:
        out["name"] = name
    if anchors:
        out["anchors"] = list(anchors)
    out["issuers"] = issuers
    return out


__all__ = ["FORMAT", "TrustList", "dump_trust_list", "load_trust_list", "parse_trust_list",
           "trust_list_files"]
