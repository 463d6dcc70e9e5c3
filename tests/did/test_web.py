"""did:web over a real local HTTPS server; SSRF refusals; timeouts, size caps; caching."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

from tests.did.support import (
    DocServer,
    Route,
    ThrowawayCA,
    did_document,
    doc_server,
    make_ca,
    make_resolver,
    silent_server,
)
from trustbridge.cache import Cache
from trustbridge.did.interface import DIDError
from trustbridge.did.web import did_web_location


@pytest.mark.parametrize(("did", "url"), [
    # did:web spec §3.2 examples
    ("did:web:w3c-ccg.github.io", "https://w3c-ccg.github.io/.well-known/did.json"),
    ("did:web:w3c-ccg.github.io:user:alice", "https://w3c-ccg.github.io/user/alice/did.json"),
    ("did:web:example.com%3A3000:user:alice", "https://example.com:3000/user/alice/did.json"),
    ("did:web:Example.COM", "https://example.com/.well-known/did.json"),
    ("did:web:%5B%3A%3A1%5D%3A8443", "https://[::1]:8443/.well-known/did.json"),
])
def test_did_to_url(did: str, url: str) -> None:
    assert did_web_location(did).url == url


@pytest.mark.parametrize("did", [
    "did:web:example.com:..:admin", "did:web:example.com:a%2Fb", "did:web:example.com:",
    "did:web:ex_ample.com", "did:web:example.com%3A0", "did:web:example.com%3A99999",
    "did:web:user%40example.com", "did:web:example.com%3Ahttp", "did:web:%5Bnot-ip%5D",
    "did:web:example.com:%3F", "did:web:example.com:a%00b", "did:web:ex%C3%A4mple.com",
])
def test_unmappable_dids_are_invalid(did: str) -> None:
    with pytest.raises(DIDError) as info:
        did_web_location(did)
    assert info.value.error == "invalidDid"


async def test_resolves_over_https_and_dereferences(server: DocServer, ca: ThrowawayCA) -> None:
    did = f"did:web:{server.authority}:issuers:uni"
    server.serve_document("/issuers/uni/did.json", did_document(did))
    resolver = make_resolver(ca)
    result = await resolver.resolve(did)
    assert result.ok, result.did_resolution_metadata
    vm = await resolver.dereference(f"{did}#key-1", relationship="assertionMethod")
    assert vm.id == f"{did}#key-1"
    with pytest.raises(DIDError) as info:
        await resolver.dereference(f"{did}#key-1", relationship="authentication")
    assert info.value.error == "relationshipNotAuthorized"


async def test_document_id_must_be_the_did(server: DocServer, ca: ThrowawayCA) -> None:
    did = f"did:web:{server.authority}"
    server.serve_document("/.well-known/did.json", did_document("did:web:evil.example"))
    result = await make_resolver(ca).resolve(did)
    assert result.did_resolution_metadata.error == "internalError"
    assert "is not did:web" in (result.did_resolution_metadata.error_message or "")


async def test_content_type_is_checked(server: DocServer, ca: ThrowawayCA) -> None:
    did = f"did:web:{server.authority}"
    server.routes["/.well-known/did.json"] = Route(
        body=json.dumps(did_document(did)).encode(), headers={"Content-Type": "text/html"})
    result = await make_resolver(ca).resolve(did)
    assert "fetch.content_type" in (result.did_resolution_metadata.error_message or "")


async def test_untrusted_certificate_is_refused(server: DocServer, tmp_path: Path) -> None:
    did = f"did:web:{server.authority}"
    server.serve_document("/.well-known/did.json", did_document(did))
    (tmp_path / "other").mkdir()
    resolver = make_resolver(make_ca(tmp_path / "other"))
    with pytest.raises(DIDError) as info:
        await resolver.dereference(f"{did}#key-1")
    assert info.value.transient  # could not get the data: indeterminate, never valid


# -- SSRF -------------------------------------------------------------------------------------

async def _refused(resolver_did: str, ca: ThrowawayCA, **kw: object) -> str:
    resolver = make_resolver(ca, **kw)  # type: ignore[arg-type]
    started = time.monotonic()
    result = await resolver.resolve(resolver_did)
    assert time.monotonic() - started < 2
    assert result.did_document is None
    message = result.did_resolution_metadata.error_message or ""
    assert "fetch.refused" in message, message
    return message


@pytest.mark.parametrize("authority", [
    "127.0.0.1%3A{port}", "localhost%3A{port}", "%5B%3A%3A1%5D%3A{port}",
    "%5B%3A%3Affff%3A127.0.0.1%5D%3A{port}", "127.1%3A{port}", "0.0.0.0%3A{port}",
])
async def test_ssrf_to_this_host_is_refused_without_a_request(
        server: DocServer, ca: ThrowawayCA, authority: str) -> None:
    did = f"did:web:{authority.format(port=server.port)}"
    server.serve_document("/.well-known/did.json", did_document(did))
    await _refused(did, ca, allow_hosts=(), allow_private=False)
    assert sum(server.hits.values()) == 0


async def test_hosts_outside_the_allow_list_are_refused(server: DocServer,
                                                        ca: ThrowawayCA) -> None:
    did = f"did:web:{server.authority}"
    server.serve_document("/.well-known/did.json", did_document(did))
    await _refused(did, ca, allow_hosts=("issuer.example",), allow_private=True)
    assert sum(server.hits.values()) == 0


@pytest.mark.parametrize("did", [
    "did:web:10.0.0.1", "did:web:169.254.169.254", "did:web:192.168.1.1%3A8443",
    "did:web:100.64.0.1", "did:web:224.0.0.1", "did:web:%5Bfe80%3A%3A1%5D",
    "did:web:%5Bfd00%3A%3A1%5D", "did:web:%5B%3A%3Affff%3A169.254.169.254%5D",
    "did:web:%5B2002%3Aa9fe%3Aa9fe%3A%3A1%5D", "did:web:%5B64%3Aff9b%3A%3A7f00%3A1%5D",
])
async def test_ssrf_to_private_ranges_is_refused(did: str, ca: ThrowawayCA) -> None:
    await _refused(did, ca, allow_hosts=(), allow_private=False)


async def test_redirect_to_a_private_address_is_not_followed(
        server: DocServer, ca: ThrowawayCA) -> None:
    async with doc_server(ca) as target:
        did = f"did:web:{server.authority}"
        target.serve_document("/.well-known/did.json", did_document(did))
        server.routes["/.well-known/did.json"] = Route(
            status=302, headers={"Location": f"https://127.0.0.1:{target.port}/.well-known/did.json"})
        result = await make_resolver(ca).resolve(did)
        assert "redirects are not followed" in (result.did_resolution_metadata.error_message
                                                or "")
        assert server.hits["/.well-known/did.json"] == 1
        assert sum(target.hits.values()) == 0


# -- could not get the data: transient --------------------------------------------------------

async def test_server_that_never_answers_times_out(ca: ThrowawayCA) -> None:
    async with silent_server() as (port, connections):
        resolver = make_resolver(ca, timeout=0.3)
        started = time.monotonic()
        with pytest.raises(DIDError) as info:
            await resolver.dereference(f"did:web:localhost%3A{port}#key-1")
        assert time.monotonic() - started < 2
        assert info.value.transient and info.value.error == "internalError"
        assert connections  # it did connect (allow-listed), then gave up


@pytest.mark.parametrize("chunks", [0, 40])
async def test_oversized_documents_are_cut_off(server: DocServer, ca: ThrowawayCA,
                                               chunks: int) -> None:
    did = f"did:web:{server.authority}"
    body = b" " * (10_000 if chunks else 400_000)
    server.routes["/.well-known/did.json"] = Route(
        body=body, chunks=chunks, headers={"Content-Type": "application/did+json"})
    with pytest.raises(DIDError) as info:
        await make_resolver(ca, max_bytes=256 * 1024).dereference(f"{did}#key-1")
    assert info.value.transient
    assert "fetch.too_large" in info.value.message


async def test_not_found_is_transient_and_briefly_cached(server: DocServer,
                                                         ca: ThrowawayCA) -> None:
    did = f"did:web:{server.authority}:nobody"
    resolver = make_resolver(ca)
    for _ in range(3):
        with pytest.raises(DIDError) as info:
            await resolver.dereference(f"{did}#key-1")
        assert info.value.error == "notFound" and info.value.transient
    assert server.hits["/nobody/did.json"] == 1


# -- caching ----------------------------------------------------------------------------------

async def test_cache_hits_and_single_flight(server: DocServer, ca: ThrowawayCA,
                                            cache: Cache) -> None:
    did = f"did:web:{server.authority}:cached"
    server.serve_document("/cached/did.json", did_document(did), delay=0.2)
    resolver = make_resolver(ca, cache=cache)
    results = await asyncio.gather(*(resolver.resolve(did) for _ in range(20)))
    assert all(r.ok for r in results)
    assert server.hits["/cached/did.json"] == 1
    again = await resolver.resolve(did)
    assert again.ok
    assert server.hits["/cached/did.json"] == 1
    # another resolver on the same cache (another node sharing Redis) needs no fetch either
    assert (await make_resolver(ca, cache=cache).resolve(did)).ok
    assert server.hits["/cached/did.json"] == 1


async def test_cache_control_max_age_is_honoured(server: DocServer, ca: ThrowawayCA) -> None:
    did = f"did:web:{server.authority}:fresh"
    server.serve_document("/fresh/did.json", did_document(did),
                          headers={"Cache-Control": "no-store"})
    resolver = make_resolver(ca)
    assert (await resolver.resolve(did)).ok
    assert (await resolver.resolve(did)).ok
    assert server.hits["/fresh/did.json"] == 2


async def test_cached_bytes_are_checked_again(server: DocServer, ca: ThrowawayCA,
                                              cache: Cache) -> None:
    did = f"did:web:{server.authority}"
    resolver = make_resolver(ca, cache=cache)
    await cache.set(resolver.cache_key("web", did),
                    b"D" + json.dumps(did_document("did:web:other.example")).encode(), ttl=60)
    result = await resolver.resolve(did)
    assert result.did_resolution_metadata.error == "internalError"
    assert sum(server.hits.values()) == 0
