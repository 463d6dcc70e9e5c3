"""did:ebsi: EBSI's own syntax vectors; the registry's copy first; else a local server that
speaks the DID Registry v5 API (``GET /identifiers/{did}``) over HTTPS."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pytest

from tests.did.support import (
    DocServer,
    ThrowawayCA,
    did_document,
    make_resolver,
)
from trustbridge.cache.memory import MemoryCache
from trustbridge.did.ebsi import check_did_ebsi
from trustbridge.did.interface import DIDError
from trustbridge.did.resolver import CachingResolver

VECTORS = json.loads((Path(__file__).resolve().parents[2] / "fixtures" / "did"
                      / "ebsi-key-did-resolver.json").read_text(encoding="utf-8"))["ebsiDid"]
DID = VECTORS[0]["did"]


@pytest.mark.parametrize("vector", VECTORS, ids=lambda v: v.get("label", v["did"][9:17]))
def test_syntax_matches_ebsi_validate(vector: dict[str, Any]) -> None:
    if vector["valid"]:
        check_did_ebsi(vector["did"])
    else:
        with pytest.raises(DIDError) as info:
            check_did_ebsi(vector["did"])
        assert info.value.error == "invalidDid"


class RegistryCopy:
    """What the registry component offers: documents it synced from the EBSI DIDR."""

    def __init__(self, docs: dict[str, dict[str, Any]]) -> None:
        self.docs = docs
        self.asked: list[str] = []

    async def get_did_document(self, did: str) -> dict[str, Any] | None:
        self.asked.append(did)
        return self.docs.get(did)




def _upstream(srv: DocServer) -> str:
    return f"https://localhost:{srv.port}/did-registry/v5"


async def test_local_registry_copy_wins(server: DocServer, ca: ThrowawayCA) -> None:
    local = RegistryCopy({DID: did_document(DID)})
    resolver = make_resolver(ca, ebsi_didr_url=_upstream(server), local_source=lambda: local)
    vm = await resolver.dereference(f"{DID}#key-1", relationship="assertionMethod")
    assert vm.controller == DID
    assert local.asked == [DID]
    assert sum(server.hits.values()) == 0


async def test_upstream_didr_when_not_local(server: DocServer, ca: ThrowawayCA) -> None:
    server.serve_document(f"/did-registry/v5/identifiers/{DID}", did_document(DID),
                        headers={"Content-Type": "application/did+ld+json"})
    resolver = make_resolver(ca, ebsi_didr_url=_upstream(server),
                             local_source=lambda: RegistryCopy({}))
    assert (await resolver.resolve(DID)).ok
    assert (await resolver.resolve(DID)).ok
    assert server.hits[f"/did-registry/v5/identifiers/{DID}"] == 1  # cached


async def test_unknown_to_the_registry(server: DocServer, ca: ThrowawayCA) -> None:
    other = VECTORS[1]["did"]
    resolver = make_resolver(ca, ebsi_didr_url=_upstream(server))
    with pytest.raises(DIDError) as info:
        await resolver.dereference(f"{other}#key-1")
    assert info.value.error == "notFound" and info.value.transient
    assert server.hits[f"/did-registry/v5/identifiers/{quote(other, safe=':')}"] == 1


async def test_no_upstream_configured() -> None:
    result = await CachingResolver(cache=MemoryCache(), fetcher=None).resolve(DID)
    assert result.did_resolution_metadata.error == "notFound"


async def test_registry_copy_for_another_did_is_refused(ca: ThrowawayCA) -> None:
    local = RegistryCopy({DID: did_document(VECTORS[1]["did"])})
    resolver = make_resolver(ca, local_source=lambda: local)
    result = await resolver.resolve(DID)
    assert result.did_resolution_metadata.error == "internalError"
