"""Status lists served by a real local HTTPS server (trustme CA), fetched through the
SSRF-safe fetcher with the allow-list settings, verified end to end over ``POST /v1/verify``."""

from __future__ import annotations

import importlib.util
import ssl
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import trustme
from aiohttp import web

from tests.conftest import ClientFactory

ROOT = Path(__file__).resolve().parents[2]
RELAXED = {"require_accredited_issuer": False, "check_schema": False}
AT = "2026-06-01T00:05:00Z"


def _generator() -> ModuleType:
    """The committed vector generator, reused to sign credentials for this server's URLs."""
    spec = importlib.util.spec_from_file_location(
        "make_vectors", ROOT / "fixtures" / "verify" / "make_vectors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


class ListServer:
    def __init__(self) -> None:
        self.hits: dict[str, int] = {}
        self.docs: dict[str, bytes] = {}
        self.base = ""


@pytest.fixture
async def list_server(tmp_path: Path) -> AsyncIterator[tuple[ListServer, Path]]:
    ca = trustme.CA()
    cert = ca.issue_cert("localhost")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(server_ctx)
    ca_file = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    state = ListServer()

    async def serve(request: web.Request) -> web.StreamResponse:
        state.hits[request.path] = state.hits.get(request.path, 0) + 1
        if request.path == "/redirect":
            raise web.HTTPFound("https://localhost/lists/1")
        body = state.docs.get(request.path)
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="application/vc+jwt")

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ctx)
    await site.start()
    port = runner.addresses[0][1]
    state.base = f"https://localhost:{port}"
    yield state, ca_file
    await runner.cleanup()


def _credential(url: str, index: int) -> str:
    payload = GEN.vc_payload(status=GEN.status_entry(index, url=url))
    token: str = GEN.vc(payload)
    return token


def _publish(state: ListServer, path: str, revoked: list[int]) -> str:
    url = state.base + path
    bits = GEN.bitstring(dict.fromkeys(revoked, 1))
    state.docs[path] = GEN.list_credential(url, bits, "revocation").encode()
    return url


def _codes(data: dict[str, Any]) -> list[str]:
    return [c["code"] for cred in data["credentials"] for c in cred["checks"]]


async def _verify(client: Any, credential: str) -> dict[str, Any]:
    resp = await client.post("/v1/verify", json={"credential": credential, "at": AT,
                                                 "policy": RELAXED})
    assert resp.status == 200
    data: dict[str, Any] = await resp.json()
    return data


async def test_revoked_and_active_over_https(list_server: tuple[ListServer, Path],
                                             make_client: ClientFactory) -> None:
    state, ca_file = list_server
    url = _publish(state, "/lists/1", revoked=[42])
    client = await make_client(did_web_allow_hosts=["localhost"], did_web_allow_private=True,
                               did_web_ca_file=ca_file)
    revoked = await _verify(client, _credential(url, 42))
    assert revoked["verdict"] == "invalid" and "status.revoked" in _codes(revoked)
    active = await _verify(client, _credential(url, 7))
    assert active["verdict"] == "valid", _codes(active)
    assert state.hits["/lists/1"] == 1  # the raw list came from the cache the second time


async def test_private_address_refused_without_allow_private(
        list_server: tuple[ListServer, Path], make_client: ClientFactory) -> None:
    state, ca_file = list_server
    url = _publish(state, "/lists/1", revoked=[])
    client = await make_client(did_web_allow_hosts=["localhost"], did_web_ca_file=ca_file)
    data = await _verify(client, _credential(url, 7))
    assert data["verdict"] == "indeterminate"
    status = next(c for c in data["credentials"][0]["checks"] if c["check"] == "status")
    assert status["code"] == "status.list_unavailable"
    assert status["details"]["cause"] == "fetch.refused"
    assert state.hits == {}


async def test_host_outside_allow_list_refused(list_server: tuple[ListServer, Path],
                                               make_client: ClientFactory) -> None:
    state, ca_file = list_server
    url = _publish(state, "/lists/1", revoked=[])
    client = await make_client(did_web_allow_hosts=["status.example"],
                               did_web_allow_private=True, did_web_ca_file=ca_file)
    data = await _verify(client, _credential(url, 7))
    assert data["verdict"] == "indeterminate" and state.hits == {}


async def test_untrusted_certificate_is_indeterminate(list_server: tuple[ListServer, Path],
                                                      make_client: ClientFactory) -> None:
    state, _ = list_server
    url = _publish(state, "/lists/1", revoked=[])
    client = await make_client(did_web_allow_hosts=["localhost"], did_web_allow_private=True)
    data = await _verify(client, _credential(url, 7))
    assert data["verdict"] == "indeterminate"


async def test_redirect_and_missing_list_are_indeterminate(
        list_server: tuple[ListServer, Path], make_client: ClientFactory) -> None:
    state, ca_file = list_server
    client = await make_client(did_web_allow_hosts=["localhost"], did_web_allow_private=True,
                               did_web_ca_file=ca_file)
    for path in ("/redirect", "/lists/missing"):
        data = await _verify(client, _credential(state.base + path, 7))
        assert data["verdict"] == "indeterminate"
        status = next(c for c in data["credentials"][0]["checks"] if c["check"] == "status")
        assert status["details"]["cause"] == "fetch.status"


async def test_oversized_list_is_refused(list_server: tuple[ListServer, Path],
                                         make_client: ClientFactory) -> None:
    state, ca_file = list_server
    state.docs["/lists/huge"] = b"x" * (64 * 1024)
    client = await make_client(did_web_allow_hosts=["localhost"], did_web_allow_private=True,
                               did_web_ca_file=ca_file, status_list_max_bytes=16 * 1024)
    data = await _verify(client, _credential(state.base + "/lists/huge", 7))
    status = next(c for c in data["credentials"][0]["checks"] if c["check"] == "status")
    assert data["verdict"] == "indeterminate" and status["details"]["cause"] == "fetch.too_large"
