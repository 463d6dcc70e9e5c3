"""A small Chrome DevTools Protocol client over aiohttp websockets, for headless Chromium.

Just what the UI tests need: open a page, evaluate JavaScript, press keys, type text,
take screenshots, and collect console errors and CSP violations. No driver download:
Debian's ``/usr/bin/chromium`` speaks the protocol itself.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CHROMIUM = Path("/usr/bin/chromium")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--disable-extensions", "--disable-default-apps", "--mute-audio",
         "--remote-debugging-address=127.0.0.1", "--remote-debugging-port=0")
KEYS = {"Tab": ("Tab", 9, ""), "Enter": ("Enter", 13, "\r"), "Space": (" ", 32, " ")}


class CdpError(AssertionError):
    pass


@dataclass
class Page:
    """One tab. ``errors`` gathers console errors, uncaught exceptions and CSP reports."""

    ws: aiohttp.ClientWebSocketResponse
    errors: list[str] = field(default_factory=list)
    _next_id: int = 0
    _pending: dict[int, asyncio.Future[dict[str, Any]]] = field(default_factory=dict)
    _events: dict[str, asyncio.Queue[dict[str, Any]]] = field(default_factory=dict)
    _reader: asyncio.Task[None] | None = None

    async def _read(self) -> None:
        async for msg in self.ws:
            data = json.loads(msg.data)
            if "id" in data:
                fut = self._pending.pop(data["id"], None)
                if fut is not None and not fut.done():
                    fut.set_result(data)
                continue
            method, params = data.get("method", ""), data.get("params", {})
            if method == "Runtime.exceptionThrown":
                self.errors.append(json.dumps(params["exceptionDetails"])[:500])
            elif method == "Log.entryAdded" and params["entry"]["level"] == "error":
                self.errors.append(params["entry"]["text"])
            elif method == "Runtime.consoleAPICalled" and params["type"] == "error":
                self.errors.append(json.dumps(params["args"])[:500])
            self._events.setdefault(method, asyncio.Queue()).put_nowait(params)

    async def send(self, method: str, **params: Any) -> dict[str, Any]:
        if self._reader is None:
            self._reader = asyncio.create_task(self._read())
        self._next_id += 1
        fut: asyncio.Future[dict[str, Any]] = asyncio.get_running_loop().create_future()
        self._pending[self._next_id] = fut
        await self.ws.send_str(json.dumps({"id": self._next_id, "method": method,
                                           "params": params}))
        answer = await asyncio.wait_for(fut, 15)
        if "error" in answer:
            raise CdpError(f"{method}: {answer['error']}")
        result: dict[str, Any] = answer.get("result", {})
        return result

    async def event(self, method: str, within: float = 15) -> dict[str, Any]:
        queue = self._events.setdefault(method, asyncio.Queue())
        return await asyncio.wait_for(queue.get(), within)

    async def goto(self, url: str) -> None:
        self._events.pop("Page.loadEventFired", None)
        await self.send("Page.navigate", url=url)
        await self.event("Page.loadEventFired")

    async def js(self, expression: str) -> Any:
        """Evaluate in the page (promises awaited) and return the JSON value."""
        answer = await self.send("Runtime.evaluate", expression=expression, returnByValue=True,
                                 awaitPromise=True)
        if "exceptionDetails" in answer:
            raise CdpError(f"{expression!r}: {answer['exceptionDetails']}")
        return answer["result"].get("value")

    async def wait_for(self, expression: str, within: float = 15) -> Any:
        """Poll until ``expression`` is truthy; its value."""
        deadline = asyncio.get_running_loop().time() + within
        while True:
            value = await self.js(expression)
            if value:
                return value
            if asyncio.get_running_loop().time() > deadline:
                raise CdpError(f"timed out waiting for {expression!r}")
            await asyncio.sleep(0.05)

    async def press(self, name: str, *, shift: bool = False) -> None:
        key, code, text = KEYS[name]
        common = {"key": key, "code": name, "windowsVirtualKeyCode": code,
                  "nativeVirtualKeyCode": code, "modifiers": 8 if shift else 0}
        await self.send("Input.dispatchKeyEvent", type="keyDown", text=text, **common)
        await self.send("Input.dispatchKeyEvent", type="keyUp", **common)

    async def type_text(self, text: str) -> None:
        await self.send("Input.insertText", text=text)

    async def focused(self) -> str:
        """The focused element as ``tag#id`` (what a keyboard user is on)."""
        return str(await self.js("(e => e.tagName.toLowerCase() + '#' + e.id)"
                                 "(document.activeElement)"))

    async def screenshot(self, *, full_page: bool = True) -> bytes:
        """A PNG of the viewport, or of the whole page."""
        params: dict[str, Any] = {"format": "png", "captureBeyondViewport": full_page}
        if full_page:
            metrics = await self.send("Page.getLayoutMetrics")
            size = metrics["cssContentSize"]
            params["clip"] = {"x": 0, "y": 0, "width": size["width"],
                              "height": size["height"], "scale": 1}
        shot = await self.send("Page.captureScreenshot", **params)
        return base64.b64decode(shot["data"])


@dataclass
class Browser:
    """Headless Chromium with a fresh profile, driven over its DevTools websocket."""

    process: subprocess.Popen[bytes]
    port: int
    session: aiohttp.ClientSession
    pages: list[Page] = field(default_factory=list)

    @classmethod
    async def launch(cls, profile: Path) -> Browser:
        proc = subprocess.Popen([str(CHROMIUM), *FLAGS, f"--user-data-dir={profile}",
                                 "--window-size=1280,900", "about:blank"],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        marker = profile / "DevToolsActivePort"
        for _ in range(300):
            if marker.exists() and marker.read_text().strip():
                break
            if proc.poll() is not None:
                raise CdpError(f"chromium exited with {proc.returncode}")
            await asyncio.sleep(0.05)
        else:
            proc.kill()
            raise CdpError("chromium did not open its DevTools port")
        port = int(marker.read_text().split()[0])
        return cls(proc, port, aiohttp.ClientSession())

    async def new_page(self, width: int = 1280, height: int = 900) -> Page:
        async with self.session.put(f"http://127.0.0.1:{self.port}/json/new?about:blank") as r:
            target = await r.json()
        ws = await self.session.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0)
        page = Page(ws)
        for domain in ("Page", "Runtime", "Log"):
            await page.send(f"{domain}.enable")
        await page.send("Emulation.setDeviceMetricsOverride", width=width, height=height,
                        deviceScaleFactor=1, mobile=False)
        self.pages.append(page)
        return page

    async def close(self) -> None:
        for page in self.pages:
            await page.ws.close()
            if page._reader is not None:
                page._reader.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await page._reader
        await self.session.close()
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


__all__ = ["CHROMIUM", "Browser", "CdpError", "Page"]
