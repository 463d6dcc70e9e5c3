"""The pages in a real headless Chromium against the service on 127.0.0.1.

Keyboard only: Tab to the paste box, type the demo presentation, Tab to Verify, Enter; the
verdict appears in the live region with the summary. A tampered credential shows "problems
found" with the explanation. The wallet flow runs with the test wallet answering the QR
link. The registry page searches and shows an issuer's chain. No console error and no CSP
violation is allowed anywhere. Screenshots go to the test's tmp dir (and to
``TRUSTBRIDGE_UI_SCREENSHOTS`` if set, e.g. ``docs/ui``).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.hazmat.primitives.serialization import load_pem_private_key

from tests.conftest import ClientFactory, unavailable
from tests.oid4vp.wallet import Ed25519DidKey, TestWallet, request_uri_of, verify_request_object
from tests.ui.cdp import CHROMIUM, Browser, Page
from tests.ui.support import DEMO, DEMO_DIR, demo_client, demo_jwt, tampered_vc, vp_form

SCREENSHOT_DIR = os.environ.get("TRUSTBRIDGE_UI_SCREENSHOTS")
VERDICT = "document.querySelector('#result #verdict-title')?.textContent"


@pytest.fixture
async def browser(tmp_path: Path) -> AsyncIterator[Browser]:
    if not CHROMIUM.exists():
        unavailable("Chromium not installed: apt-get install -y chromium (looked for "
                    f"{CHROMIUM})")
    b = await Browser.launch(tmp_path / "chromium-profile")
    yield b
    await b.close()


def save(png: bytes, tmp_path: Path, name: str) -> Path:
    path = tmp_path / f"{name}.png"
    path.write_bytes(png)
    if SCREENSHOT_DIR:
        Path(SCREENSHOT_DIR).mkdir(parents=True, exist_ok=True)
        (Path(SCREENSHOT_DIR) / path.name).write_bytes(png)
    return path


async def shoot(page: Page, tmp_path: Path, name: str, *, full_page: bool = True) -> Path:
    return save(await page.screenshot(full_page=full_page), tmp_path, name)


async def open_app(browser: Browser, client: TestClient[Any, Any], path: str) -> Page:
    page = await browser.new_page()
    await page.goto(str(client.make_url(path)))
    return page


async def tab_to(page: Page, target: str, limit: int = 25) -> list[str]:
    """Press Tab until ``target`` (``tag#id``) has focus; the focus order walked."""
    order = []
    for _ in range(limit):
        await page.press("Tab")
        order.append(await page.focused())
        if order[-1] == target:
            return order
    raise AssertionError(f"Tab never reached {target}: {order}")


async def test_keyboard_only_verifies_the_demo_presentation(
        make_client: ClientFactory, browser: Browser, tmp_path: Path) -> None:
    client = await demo_client(make_client)
    page = await open_app(browser, client, "/")
    await shoot(page, tmp_path, "01-start", full_page=False)
    order = await tab_to(page, "textarea#input")
    assert order[0] == "a#", "the skip link comes first"
    await page.type_text(vp_form()["input"])
    # the presentation's nonce, audience and time go in the advanced fields, by keyboard too
    await tab_to(page, "summary#")
    await page.press("Enter")
    for field in ("at", "nonce", "audience"):
        await tab_to(page, f"input#{field}")
        await page.type_text(vp_form()[field])
    await tab_to(page, "button#verify-button")
    await page.press("Enter")

    verdict = await page.wait_for(VERDICT)
    assert verdict == "Authentic and accredited"
    assert await page.focused() == "h2#verdict-title", "focus moves to the verdict"
    result = await page.js("document.getElementById('result').textContent")
    for text in ("EV high-voltage safety (work on de-energised systems)", "Ane Demo",
                 "Centro Navarro de Seguridad en Alta Tensión", "Root of trust (RootTAO)",
                 "Verify the absence of voltage", "EQF level 4", "2 ECTS credits"):
        assert text in result, text
    assert await page.js("document.getElementById('result').getAttribute('aria-live')") == \
        "polite"
    assert not await page.js("document.getElementById('result-actions').hidden")
    await shoot(page, tmp_path, "02-valid-presentation")
    await page.send("Emulation.setEmulatedMedia", media="print")
    assert await page.js("getComputedStyle(document.querySelector('.panels')).display") == "none"
    await shoot(page, tmp_path, "03-print-view")
    assert page.errors == []


async def test_tampered_credential_shows_problems_found(
        make_client: ClientFactory, browser: Browser, tmp_path: Path) -> None:
    client = await demo_client(make_client)
    page = await open_app(browser, client, "/")
    await page.js(f"document.getElementById('input').value = {json.dumps(tampered_vc())}")
    await page.js("document.getElementById('at').value = '2025-07-01T00:00:00Z'")
    await page.js("document.getElementById('verify-button').click()")
    assert await page.wait_for(VERDICT) == "Problems found"
    problems = await page.js("document.querySelector('#result .problems').innerText")
    assert "the content was altered after signing" in problems
    assert "What to do: Do not accept it" in problems
    await shoot(page, tmp_path, "04-tampered-credential")
    assert page.errors == []


async def test_dropped_file_is_verified(make_client: ClientFactory, browser: Browser,
                                        tmp_path: Path) -> None:
    """The file input (what a drop fills) reads the file into the paste box."""
    client = await demo_client(make_client)
    page = await open_app(browser, client, "/")
    doc = await page.send("DOM.getDocument")
    node = await page.send("DOM.querySelector", nodeId=doc["root"]["nodeId"], selector="#file")
    await page.send("DOM.setFileInputFiles", nodeId=node["nodeId"],
                    files=[str(DEMO_DIR / "ev-safety-vc-unaccredited-issuer.jwt")])
    await page.wait_for("document.getElementById('input').value.length > 100")
    await page.js("document.getElementById('at').value = '2025-07-01T00:00:00Z'")
    await page.js("document.getElementById('verify-button').click()")
    assert await page.wait_for(VERDICT) == "Problems found"
    text = await page.js("document.getElementById('result').innerText")
    assert "accredited, but not for this type of credential" in text
    assert page.errors == []


def demo_wallet() -> TestWallet:
    """The test wallet holding the demo learner's key (so the demo VC is theirs)."""
    pem = json.loads((DEMO_DIR / "holder-key.json").read_text())["private_key_pem"]
    key = load_pem_private_key(pem.encode(), password=None)
    assert isinstance(key, ed25519.Ed25519PrivateKey)
    wallet = TestWallet(holder=Ed25519DidKey(key))
    assert wallet.holder.did == DEMO["holder"]
    return wallet


@pytest.mark.parametrize("transport", ["events", "polling"])
async def test_wallet_flow_shows_the_answer_live(
        make_client: ClientFactory, browser: Browser, tmp_path: Path, transport: str) -> None:
    client = await demo_client(make_client)
    page = await open_app(browser, client, "/")
    if transport == "polling":  # a browser (or proxy) without server-sent events
        assert await page.js("delete window.EventSource; 'EventSource' in window") is False
    await page.js("document.getElementById('wallet-button').click()")
    link = await page.wait_for("(h => h.startsWith('openid4vp:') && h)"
                               "(document.getElementById('wallet-link').href)")
    assert await page.wait_for("document.getElementById('wallet-qr').naturalWidth > 0")
    assert await page.js("document.getElementById('wallet-status').textContent") == \
        "Waiting for the wallet…"
    if transport == "events":
        await shoot(page, tmp_path, "05-wallet-qr", full_page=False)

    # the test wallet "scans" the link: fetches and checks the request object, answers it
    http = client.session
    async with http.get(request_uri_of(link)) as resp:
        request_jwt = await resp.text()
    claims = verify_request_object(request_jwt, link.split("client_id=")[1].split("&")[0]
                                   .replace("%3A", ":"))
    fields = await demo_wallet().vp_token_for(claims, vc=demo_jwt("ev-safety-vc.jwt"))
    async with http.post(claims["response_uri"], data=fields) as resp:
        assert resp.status == 200, await resp.text()

    assert await page.wait_for(VERDICT) == "Authentic and accredited"
    assert "Ane Demo" in await page.js("document.getElementById('result').innerText")
    assert await page.js("document.getElementById('wallet-flow').hidden")
    if transport == "events":
        await shoot(page, tmp_path, "06-wallet-result")
    assert page.errors == []


async def test_registry_search_shows_an_issuers_chain(
        make_client: ClientFactory, browser: Browser, tmp_path: Path) -> None:
    client = await demo_client(make_client)
    page = await open_app(browser, client, "/registry")
    await page.wait_for("document.querySelectorAll('#issuers button').length >= 8")
    await tab_to(page, "input#q")
    await page.type_text("Navarro")
    await tab_to(page, "input#country")
    await page.type_text("es")
    await page.press("Enter")
    await page.wait_for("document.getElementById('search-status').textContent"
                        ".startsWith('1 issuer found')")
    assert await page.js("location.search") == "?q=Navarro&country=ES"
    await tab_to(page, "button#")
    await page.press("Enter")
    await page.wait_for("document.querySelectorAll('#issuer .chain-node').length === 3")
    text = await page.js("document.getElementById('issuer').innerText")
    assert "Accredited: the chain below holds today." in text
    assert "EVHighVoltageSafetyCredential — in ESP" in text
    assert "Agencia Nacional de Acreditación de Formación" in text
    await shoot(page, tmp_path, "07-registry-issuer")
    await page.js("document.getElementById('q').value = 'no such issuer'")
    await page.js("document.getElementById('search-button').click()")
    await page.wait_for("document.getElementById('search-status').textContent === "
                        "'No issuer matches.'")
    assert page.errors == []


async def test_refused_upload_is_explained_not_dumped(make_client: ClientFactory,
                                                      browser: Browser) -> None:
    """A body over the size limit is refused with a sentence, not a JSON dump."""
    client = await make_client(max_body_bytes=4096)
    page = await open_app(browser, client, "/")
    await page.js("document.getElementById('input').value = 'x'.repeat(10000)")
    await page.js("document.getElementById('verify-button').click()")
    assert await page.wait_for(VERDICT) == "Could not be read"
    text = await page.js("document.querySelector('#result .banner p').textContent")
    assert text == "The text or file is larger than the 4096 bytes accepted."
    assert [e for e in page.errors if "400" not in e] == []
