"""The HR verification page and the registry page: HTML, their assets, and a form endpoint.

The pages are progressive: the paste/upload form posts to ``/ui/verify`` and gets a whole
page back (works without JavaScript); with JavaScript the same endpoint answers a fragment
(``?view=fragment``) and the wallet flow asks ``/ui/presentations/{id}/result``. Every
response carries a strict Content-Security-Policy (self only, no inline script or style).
These are not API endpoints, so they are declared ``include_in_schema=False``.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from functools import cache
from html import escape
from importlib import resources
from string import Template
from typing import Any

from aiohttp import web

from trustbridge.api.body import parse_json_bytes
from trustbridge.api.openapi import ApiRoutes
from trustbridge.api.ui.report_view import render_message, render_report
from trustbridge.crypto.base64url import b64url_decode
from trustbridge.errors import InputError, NotFound, PayloadTooLarge
from trustbridge.oid4vp.service import presentations_of
from trustbridge.verify.pipeline import VerificationInput
from trustbridge.verify.service import verifier_of

routes = ApiRoutes()
_TAGS = ("ui",)

CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; "
       "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}
ASSET_TYPES = {".css": "text/css", ".js": "text/javascript", ".json": "application/json"}
ASSETS = ("ui.css", "verify.js", "registry.js", "explanations.json")
MAX_FIELD = 2048


@cache
def _static(name: str) -> str:
    return resources.files("trustbridge.api").joinpath(f"static/ui/{name}").read_text("utf-8")


def _html(text: str, status: int = 200) -> web.Response:
    return web.Response(text=text, status=status, content_type="text/html", charset="utf-8",
                        headers=SECURITY_HEADERS)


FOOTERS = {
    "verify": "TrustBridge verifies signatures, validity, revocation and the issuer's "
              "accreditation in the trust registry.",
    "registry": "Data from this node's copy of the trust registry (EBSI Trusted Issuers "
                "Registry v5 format).",
}


def layout(page: str, title: str, main: str) -> str:
    """A page in the shared layout: header, navigation (current page marked), footer."""
    current = ' aria-current="page"'
    return Template(_static("layout.html")).substitute(
        title=escape(title), script=f"{page}.js", main=main, footer=escape(FOOTERS[page]),
        current_verify=current if page == "verify" else "",
        current_registry=current if page == "registry" else "")


def index_page(*, result: str = "", fields: dict[str, str] | None = None) -> str:
    """The verification page, with a result and the submitted fields filled back in."""
    f = fields or {}
    values = {k: escape(f.get(k, ""), quote=True) for k in ("input", "at", "nonce", "audience")}
    advanced = any(values[k] for k in ("at", "nonce", "audience"))
    main = Template(_static("verify.html")).substitute(
        result=result, advanced_open=" open" if advanced else "", **values)
    return layout("verify", "Verification result" if result else "Check a credential", main)


def classify(text: str, max_depth: int) -> tuple[str, str | dict[str, Any]]:
    """Whether pasted text is a ``presentation`` or a ``credential``, and the value to send.

    JSON: a ``VerifiablePresentation`` type makes a presentation. A compact JWT with a
    ``vp`` claim (or that type) is a presentation; SD-JWTs (``~``) are credentials.
    """
    text = text.strip()
    if not text:
        raise InputError("Paste a credential or choose a file first.", code="ui.empty")
    if text[0] in "{[":
        value = parse_json_bytes(text, max_depth=max_depth)
        if not isinstance(value, dict):
            raise InputError("The JSON is not a credential object.", code="ui.not_credential")
        types = value.get("type")
        types = types if isinstance(types, list) else [types]
        return ("presentation" if "VerifiablePresentation" in types else "credential"), value
    if "~" in text:
        return "credential", text
    parts = text.split(".")
    if len(parts) != 3:
        raise InputError("This is neither JSON nor a JWT (three parts separated by dots).",
                         code="ui.not_credential")
    try:
        payload = json.loads(b64url_decode(parts[1]))
    except ValueError as exc:
        raise InputError("The JWT's middle part is not readable JSON.",
                         code="ui.not_credential") from exc
    if not isinstance(payload, dict):
        raise InputError("The JWT does not carry a JSON object.", code="ui.not_credential")
    types = payload.get("type")
    types = types if isinstance(types, list) else [types]
    kind = "presentation" if "vp" in payload or "VerifiablePresentation" in types else "credential"
    return kind, text


def parse_at(raw: str) -> datetime | None:
    raw = raw.strip()
    if not raw:
        return None
    try:
        at = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError as exc:
        raise InputError(f"'{raw[:40]}' is not a date-time like 2025-06-02T10:05:00Z.",
                         code="ui.bad_time") from exc
    return at if at.tzinfo else at.replace(tzinfo=UTC)


async def _form_fields(request: web.Request) -> dict[str, str]:
    """The form's text fields; an uploaded file's content replaces ``input``."""
    limit: int = request.app["settings"].max_body_bytes
    too_large = f"The text or file is larger than the {limit} bytes accepted."
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(too_large)
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(too_large) from exc
    fields: dict[str, str] = {}
    for name in ("input", "at", "nonce", "audience"):
        value = form.get(name)
        fields[name] = value if isinstance(value, str) else ""
    upload = form.get("file")
    if isinstance(upload, web.FileField):
        content = upload.file.read()
        if content.strip():
            try:
                fields["input"] = content.decode("utf-8")
            except UnicodeDecodeError as exc:
                raise InputError("The file is not a text credential (JSON or JWT).",
                                 code="ui.not_credential") from exc
    for name in ("at", "nonce", "audience"):
        if len(fields[name]) > MAX_FIELD:
            raise InputError(f"The {name} field is too long.", code="ui.field_too_long")
    return fields


async def _verify_fields(request: web.Request, fields: dict[str, str]) -> str:
    kind, value = classify(fields["input"], request.app["settings"].max_json_depth)
    inp = VerificationInput(
        presentation=value if kind == "presentation" else None,
        credential=value if kind == "credential" else None,
        nonce=fields["nonce"].strip() or None, audience=fields["audience"].strip() or None,
        at=parse_at(fields["at"]))
    report = await verifier_of(request.app["services"]).verify(inp)
    request["verdict"] = report.verdict.value
    return render_report(report.model_dump(mode="json"))


@routes.route("GET", "/", summary="Verification page for HR staff (HTML).", tags=_TAGS,
              response_content_type="text/html", include_in_schema=False)
async def index(request: web.Request) -> web.Response:
    return _html(index_page())


@routes.route("GET", "/registry", summary="Trusted issuers page (HTML).", tags=_TAGS,
              response_content_type="text/html", include_in_schema=False)
async def registry_page(request: web.Request) -> web.Response:
    return _html(layout("registry", "Trusted issuers", _static("registry.html")))


@routes.route("GET", "/favicon.ico", summary="No icon: answered so browsers log no error.",
              tags=_TAGS, include_in_schema=False)
async def favicon(request: web.Request) -> web.Response:
    return web.Response(status=204, headers=SECURITY_HEADERS)


@routes.route("GET", "/ui/assets/{name}", summary="The pages' CSS and JavaScript.", tags=_TAGS,
              include_in_schema=False)
async def asset(request: web.Request) -> web.Response:
    name = request.match_info["name"]
    if name not in ASSETS:
        raise NotFound("no such asset", code="ui.asset_unknown")
    suffix = name[name.rindex("."):]
    return web.Response(text=_static(name), content_type=ASSET_TYPES[suffix], charset="utf-8",
                        headers={**SECURITY_HEADERS, "Cache-Control": "no-cache"})


@routes.route("POST", "/ui/verify", summary="Verify pasted or uploaded text; HTML result.",
              tags=_TAGS, body_content_types=("multipart/form-data",
                                              "application/x-www-form-urlencoded"),
              response_content_type="text/html", include_in_schema=False)
async def verify_form(request: web.Request) -> web.Response:
    """A whole page (no JavaScript), or only the result with ``?view=fragment``."""
    fragment = request.query.get("view") == "fragment"
    fields: dict[str, str] = {"input": "", "at": "", "nonce": "", "audience": ""}
    status = 200
    try:
        fields = await _form_fields(request)
        result = await _verify_fields(request, fields)
    except InputError as exc:
        status = 400
        result = render_message("Could not be read", exc.message)
    if fragment:
        return _html(result, status)
    return _html(index_page(result=result, fields=fields), status)


@routes.route("GET", "/ui/presentations/{id:[A-Za-z0-9_-]+}/result",
              summary="A wallet presentation's result as an HTML fragment.", tags=_TAGS,
              response_content_type="text/html", include_in_schema=False)
async def presentation_result(request: web.Request) -> web.Response:
    session = await presentations_of(request.app["services"]).get(request.match_info["id"])
    if session.report is not None:
        return _html(render_report(session.report))
    status = session.status.value
    if status == "expired":
        return _html(render_message("No answer from the wallet",
                                    "The request expired before the wallet answered. Start a "
                                    "new request."))
    if status == "failed":
        text = session.error.description if session.error else "The wallet's answer was refused."
        return _html(render_message("Problems found", text, kind="invalid"))
    return _html(render_message("Waiting for the wallet",
                                "The wallet has not answered yet.", kind="pending"))


__all__ = ["CSP", "classify", "index_page", "parse_at", "routes"]
