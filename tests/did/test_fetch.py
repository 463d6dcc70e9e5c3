"""The SSRF address policy, Accept matching and Cache-Control parsing of ``trustbridge.fetch``."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest
import trustme

from tests.did.support import Route, doc_server, make_ca
from trustbridge.errors import FetchError
from trustbridge.fetch import (
    IPAddress,
    SafeFetcher,
    address_refusal,
    content_type_acceptable,
    max_age_of,
)


@pytest.mark.parametrize("address", [
    "127.0.0.1", "127.255.0.1", "10.1.2.3", "172.16.0.1", "192.168.0.1", "169.254.169.254",
    "100.64.0.1", "0.0.0.0",  # noqa: S104 -- an address under test
    "224.0.0.251", "240.0.0.1", "255.255.255.255", "192.0.2.1",
    "::1", "::", "fe80::1", "fc00::1", "ff02::1", "::ffff:127.0.0.1", "::ffff:10.0.0.1",
    "2002:7f00:1::1", "64:ff9b::a9fe:a9fe", "2001::4136:e378:8000:63bf:3fff:fdd2",
    "2001:db8::1",
])
def test_refused_addresses(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is not None


@pytest.mark.parametrize("address", ["8.8.8.8", "1.1.1.1", "2606:4700:4700::1111",
                                     "::ffff:8.8.8.8", "2002:0808:0808::1"])
def test_public_addresses(address: str) -> None:
    assert address_refusal(ipaddress.ip_address(address)) is None


@pytest.mark.parametrize("url", ["http://example.com/x", "ftp://example.com/x",
                                 "https://user:pw@example.com/", "/relative", "https:///nohost",
                                 "https://127.0.0.1/", "https://[::ffff:10.0.0.1]/"])
async def test_refused_urls(url: str) -> None:
    with pytest.raises(FetchError) as info:
        await SafeFetcher().vet(url)
    assert info.value.code == "fetch.refused"


async def test_every_resolved_address_must_be_public() -> None:
    async def rebinding(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("93.184.216.34"), ipaddress.ip_address("127.0.0.1")]

    with pytest.raises(FetchError) as info:
        await SafeFetcher(lookup=rebinding).vet("https://mixed.example/")
    assert info.value.details["address"] == "127.0.0.1"


def test_accept_and_cache_control() -> None:
    accept = "application/did+json, application/json;q=0.9"
    assert content_type_acceptable("application/json; charset=utf-8", accept)
    assert not content_type_acceptable("text/html", accept)
    assert content_type_acceptable("application/jwk-set+json", "application/json")
    assert not content_type_acceptable("application/jwk-set+json", "application/did+json")
    assert not content_type_acceptable("", accept)
    assert content_type_acceptable("text/html", "*/*")
    assert max_age_of("public, max-age=60") == 60
    assert max_age_of("no-store") == 0
    assert max_age_of("max-age=abc") is None
    assert max_age_of(None) is None


async def test_a_ca_file_replaced_in_place_is_read_again(tmp_path: Path) -> None:
    """TLS contexts are shared per process (``fetch._tls_context``): a fetcher made after the
    CA file was replaced trusts the new CA, not the old one."""
    trusted = make_ca(tmp_path)
    url_of = "https://localhost:{}/doc.json".format
    async with doc_server(trusted) as server:
        server.routes["/doc.json"] = Route(body=b"{}",
                                           headers={"Content-Type": "application/json"})
        before = SafeFetcher(allow_hosts=("localhost",), allow_private=True,
                             ca_file=trusted.ca_file)
        try:
            assert (await before.fetch(url_of(server.port), accept="application/json",
                                       max_bytes=1024)).body == b"{}"
        finally:
            await before.aclose()
        trustme.CA().cert_pem.write_to_path(str(trusted.ca_file))  # another CA, same path
        after = SafeFetcher(allow_hosts=("localhost",), allow_private=True,
                            ca_file=trusted.ca_file)
        try:
            with pytest.raises(FetchError):
                await after.fetch(url_of(server.port), accept="application/json",
                                  max_bytes=1024)
        finally:
            await after.aclose()
