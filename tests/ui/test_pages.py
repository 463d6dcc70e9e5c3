"""The HTML pages over HTTP on 127.0.0.1: served with a strict CSP, assets typed and
self-contained, and the paste/upload form verifying without any JavaScript."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import aiohttp
import pytest
from aiohttp.test_utils import TestClient

from tests.conftest import ClientFactory
from tests.ui.support import demo_client, demo_jwt, tampered_vc, vp_form
from trustbridge.api.ui.routes import ASSETS, CSP

STATIC = resources.files("trustbridge.api").joinpath("static/ui")
EXTERNAL = re.compile(r"(https?:)?//[A-Za-z0-9.-]+\.[A-Za-z]{2,}")


def assert_locked_down(resp: aiohttp.ClientResponse) -> None:
    csp = resp.headers["Content-Security-Policy"]
    assert csp == CSP
    directives = dict(d.strip().split(" ", 1) for d in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert "unsafe" not in csp and "*" not in csp
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", ["/", "/registry", "/registry?q=navarro&country=ES"])
async def test_pages_are_html_under_a_strict_csp(client: TestClient[Any, Any],
                                                 path: str) -> None:
    resp = await client.get(path)
    assert resp.status == 200
    assert resp.content_type == "text/html" and resp.charset == "utf-8"
    assert_locked_down(resp)
    html = await resp.text()
    assert '<html lang="en">' in html and "<main id=\"main\">" in html
    # no inline script, no inline style, no inline event handlers: CSP would block them
    assert not re.search(r"<script(?![^>]*\bsrc=)", html)
    assert not re.search(r"\sstyle=|\son[a-z]+=|<style", html)


@pytest.mark.parametrize(("name", "ctype"), [("ui.css", "text/css"),
                                             ("verify.js", "text/javascript"),
                                             ("registry.js", "text/javascript"),
                                             ("explanations.json", "application/json")])
async def test_assets_have_their_content_types(client: TestClient[Any, Any], name: str,
                                               ctype: str) -> None:
    resp = await client.get(f"/ui/assets/{name}")
    assert resp.status == 200 and resp.content_type == ctype
    assert_locked_down(resp)
    assert await resp.text() == STATIC.joinpath(name).read_text("utf-8")


async def test_unknown_asset_is_a_problem_not_a_file(client: TestClient[Any, Any]) -> None:
    for path in ("/ui/assets/index.html", "/ui/assets/..%2fdocs.html", "/ui/assets/x.js"):
        resp = await client.get(path)
        assert resp.status == 404 and resp.content_type == "application/problem+json"


def test_no_asset_names_an_external_url() -> None:
    """No CDN, no web font, no tracker: every file the pages load is served by us."""
    files = [f for f in STATIC.iterdir() if f.name.endswith((".html", ".css", ".js", ".json"))]
    assert {f.name for f in files} >= set(ASSETS) | {"layout.html", "verify.html", "registry.html"}
    for f in files:
        text = f.read_text("utf-8")
        assert not EXTERNAL.search(text), f"{f.name}: {EXTERNAL.search(text)}"
        assert "@import" not in text and "url(" not in text


async def test_form_without_javascript_verifies_the_demo_presentation(
        make_client: ClientFactory) -> None:
    client = await demo_client(make_client)
    resp = await client.post("/ui/verify", data=vp_form())
    assert resp.status == 200
    assert_locked_down(resp)
    html = await resp.text()
    assert "<title>Verification result" in html
    assert 'data-verdict="valid"' in html and "Authentic and accredited" in html
    for text in ("EV high-voltage safety (work on de-energised systems)", "Ane Demo",
                 "Centro Navarro de Seguridad", "Agencia Nacional de Acreditación",
                 "European Skills Trust Root", "Verify the absence of voltage", "EQF level 4",
                 "2 ECTS credits"):
        assert text in html, text
    # the chain reads issuer → TAO → RootTAO, in that order
    roles = re.findall(r'<span class="role">([^<]+)</span>', html)
    assert roles == ["Issuer (TI)", "Accreditation body (TAO)", "Root of trust (RootTAO)"]
    # the submitted fields come back filled in, so the page can be resubmitted
    assert 'value="demo-nonce-0001"' in html


async def test_tampered_credential_is_explained(make_client: ClientFactory) -> None:
    client = await demo_client(make_client)
    resp = await client.post("/ui/verify?view=fragment",
                             data={"input": tampered_vc(), "at": "2025-07-01T00:00:00Z"})
    html = await resp.text()
    assert resp.status == 200 and html.startswith("<section")
    assert "Problems found" in html and 'data-verdict="invalid"' in html
    assert "the content was altered after signing" in html
    assert "What to do: Do not accept it" in html and "<code>signature.invalid</code>" in html
    # the forged name is shown only as a claim, and no chain is drawn for the claimed issuer
    assert "Unconfirmed: the signature does not hold" in html and 'class="chain"' not in html


async def test_uploaded_file_is_checked_like_pasted_text(make_client: ClientFactory) -> None:
    client = await demo_client(make_client)
    form = aiohttp.FormData()
    form.add_field("input", "")
    form.add_field("at", "2025-07-01T00:00:00Z")
    form.add_field("file", demo_jwt("ev-safety-vc-unaccredited-issuer.jwt").encode(),
                   filename="credential.jwt", content_type="application/octet-stream")
    html = await (await client.post("/ui/verify?view=fragment", data=form)).text()
    assert "Problems found" in html
    assert "The issuer is accredited, but not for this type of credential." in html


@pytest.mark.parametrize(("text", "message"), [
    ("", "Paste a credential"),
    ("not a credential", "neither JSON nor a JWT"),
    ("[1, 2]", "not a credential object"),
    ("a.b.c", "not readable JSON"),
])
async def test_unreadable_input_gets_a_page_not_a_crash(client: TestClient[Any, Any],
                                                        text: str, message: str) -> None:
    resp = await client.post("/ui/verify", data={"input": text})
    assert resp.status == 400 and resp.content_type == "text/html"
    html = await resp.text()
    assert "Could not be read" in html and message in html


async def test_bad_time_is_explained(client: TestClient[Any, Any]) -> None:
    resp = await client.post("/ui/verify?view=fragment",
                             data={"input": demo_jwt("ev-safety-vc.jwt"), "at": "yesterday"})
    assert resp.status == 400 and "is not a date-time" in await resp.text()


async def test_wallet_result_fragment_waits_then_404s_for_unknown(
        client: TestClient[Any, Any]) -> None:
    created = await (await client.post("/v1/presentation-requests",
                                       json={"types": ["VerifiableCredential"]})).json()
    resp = await client.get(f"/ui/presentations/{created['id']}/result")
    assert resp.status == 200 and "Waiting for the wallet" in await resp.text()
    assert_locked_down(resp)
    missing = await client.get("/ui/presentations/nope/result")
    assert missing.status == 404
