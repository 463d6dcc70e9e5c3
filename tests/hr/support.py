"""HR test support: the shipped demo credentials, a local HTTPS status-list server with a
hit counter (trustme CA), and a webhook receiver on 127.0.0.1 that checks signatures."""

from __future__ import annotations

import importlib.util
import json
import ssl
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import Any

import trustme
from aiohttp import web

from trustbridge.oid4vp.webhook import SIGNATURE_HEADER, verify_signature

ROOT = Path(__file__).resolve().parents[2]
DEMO = ROOT / "fixtures" / "demo"
DEMO_META: dict[str, Any] = json.loads((DEMO / "demo.json").read_text())
SCHEMAS = ROOT / "fixtures" / "ebsi" / "schemas"


def demo(name: str) -> str:
    return (DEMO / name).read_text().strip()


VP = demo("ev-safety-vp.jwt")
VC_UNACCREDITED = demo("ev-safety-vc-unaccredited-issuer.jwt")


def vp_item(**extra: Any) -> dict[str, Any]:
    """The demo learner's VP as a /v1/verify body (valid through the shipped registry)."""
    return {"presentation": VP, "nonce": DEMO_META["vp_nonce"],
            "audience": DEMO_META["vp_audience"], "at": DEMO_META["vp_verify_at"], **extra}


def unaccredited_item() -> dict[str, Any]:
    return {"credential": VC_UNACCREDITED, "at": DEMO_META["vp_verify_at"]}


def demo_settings(**extra: Any) -> dict[str, Any]:
    return {"schema_store_dir": SCHEMAS, "schema_fetch_remote": False,
            "hr_job_poll_seconds": 0.05, **extra}


def _generator() -> ModuleType:
    """The committed vector generator (fixtures/verify), to sign credentials for our URLs."""
    spec = importlib.util.spec_from_file_location(
        "make_vectors", ROOT / "fixtures" / "verify" / "make_vectors.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()
STATUS_AT = "2026-06-01T00:05:00Z"


@dataclass
class HttpsServer:
    """Serves status lists over HTTPS and counts requests per path."""

    base: str = ""
    ca_file: Path | None = None
    hits: dict[str, int] = field(default_factory=dict)
    docs: dict[str, bytes] = field(default_factory=dict)

    def publish(self, path: str, revoked: list[int]) -> str:
        url = self.base + path
        bits = GEN.bitstring(dict.fromkeys(revoked, 1))
        self.docs[path] = GEN.list_credential(url, bits, "revocation").encode()
        return url


async def https_server(tmp_path: Path) -> AsyncIterator[HttpsServer]:
    ca = trustme.CA()
    ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    ca.issue_cert("localhost").configure_cert(ctx)
    state = HttpsServer(ca_file=tmp_path / "ca.pem")
    ca.cert_pem.write_to_path(str(state.ca_file))

    async def serve(request: web.Request) -> web.StreamResponse:
        state.hits[request.path] = state.hits.get(request.path, 0) + 1
        body = state.docs.get(request.path)
        if body is None:
            raise web.HTTPNotFound()
        return web.Response(body=body, content_type="application/vc+jwt")

    app = web.Application()
    app.router.add_get("/{tail:.*}", serve)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=ctx)
    await site.start()
    state.base = f"https://localhost:{runner.addresses[0][1]}"
    yield state
    await runner.cleanup()


def status_credential(url: str, index: int) -> str:
    token: str = GEN.vc(GEN.vc_payload(status=GEN.status_entry(index, url=url)))
    return token


@dataclass
class Receiver:
    """A webhook endpoint: fails the first ``fail_first`` deliveries with 500."""

    secret: str
    fail_first: int = 0
    url: str = ""
    received: list[dict[str, Any]] = field(default_factory=list)
    signatures_ok: list[bool] = field(default_factory=list)


async def webhook_receiver(receiver: Receiver) -> AsyncIterator[Receiver]:
    async def hook(request: web.Request) -> web.Response:
        body = await request.read()
        ok = verify_signature(receiver.secret, request.headers.get(SIGNATURE_HEADER, ""), body,
                              now=int(time.time()))
        receiver.signatures_ok.append(ok)
        receiver.received.append(json.loads(body))
        if len(receiver.received) <= receiver.fail_first:
            return web.Response(status=500)
        return web.Response(status=204)

    app = web.Application()
    app.router.add_post("/hook", hook)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    receiver.url = f"http://127.0.0.1:{runner.addresses[0][1]}/hook"
    yield receiver
    await runner.cleanup()
