"""Routes declared once, with their pydantic models, so OpenAPI is generated, not hand-written.

Each route module builds an ``ApiRoutes`` and decorates handlers with
``@routes.route(method, path, summary=…, body=Model, response=Model)``; the
app factory mounts them and ``build_openapi`` turns the same declarations
into an OpenAPI 3.1 document.
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]

ResponseSpec = str | tuple[str, type[BaseModel]]

_PATH_PARAM = re.compile(r"\{(\w+)(?::[^}]*)?\}")


@dataclass(frozen=True)
class Endpoint:
    method: str
    path: str
    handler: Handler
    summary: str
    tags: tuple[str, ...]
    body: type[BaseModel] | None = None
    body_content_types: tuple[str, ...] = ("application/json",)
    response: type[BaseModel] | None = None
    response_content_type: str = "application/json"
    # status -> description, or (description, model) when an error status also has a JSON body
    # of its own besides problem+json (e.g. VC-API answers "not verified" as 400 + result).
    responses: dict[int, ResponseSpec] = field(default_factory=dict)
    query: tuple[tuple[str, str, bool], ...] = ()  # (name, description, required)
    auth: bool = False
    include_in_schema: bool = True


class ApiRoutes:
    """A list of declared endpoints; one per route module."""

    def __init__(self) -> None:
        self.endpoints: list[Endpoint] = []

    def route(
        self,
        method: str,
        path: str,
        *,
        summary: str,
        tags: tuple[str, ...] = (),
        body: type[BaseModel] | None = None,
        body_content_types: tuple[str, ...] = ("application/json",),
        response: type[BaseModel] | None = None,
        response_content_type: str = "application/json",
        responses: dict[int, ResponseSpec] | None = None,
        query: tuple[tuple[str, str, bool], ...] = (),
        auth: bool = False,
        include_in_schema: bool = True,
    ) -> Callable[[Handler], Handler]:
        def register(handler: Handler) -> Handler:
            self.endpoints.append(
                Endpoint(method.upper(), path, handler, summary, tags, body, body_content_types,
                         response, response_content_type, responses or {}, query, auth,
                         include_in_schema)
            )
            return handler

        return register

    def mount(self, app: web.Application) -> None:
        for ep in self.endpoints:
            app.router.add_route(ep.method, ep.path, ep.handler)


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "code": {"type": "string", "description": "Stable dotted error code (docs/codes.md)."},
        "instance": {"type": "string"},
    },
    "additionalProperties": True,
}


_REF = "#/components/schemas/{model}"


@functools.cache
def _schema_text(model: type[BaseModel], mode: JsonSchemaMode) -> str:
    """A model's JSON Schema, generated once per process: pydantic takes ~1 ms per model and
    an app declares ~50, which was most of an app's start (every worker, every test)."""
    return json.dumps(model.model_json_schema(by_alias=True, mode=mode, ref_template=_REF))


def _component(model: type[BaseModel], mode: JsonSchemaMode, components: dict[str, Any]
               ) -> dict[str, Any]:
    """A fresh copy of the model's schema, its ``$defs`` hoisted into ``components``."""
    schema: dict[str, Any] = json.loads(_schema_text(model, mode))
    components.update(schema.pop("$defs", {}))
    return schema


def build_openapi(endpoints: list[Endpoint], *, version: str) -> dict[str, Any]:
    """OpenAPI 3.1 for every declared endpoint, with pydantic JSON Schemas as components."""
    components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA}
    paths: dict[str, Any] = {}
    ref = _REF
    for ep in endpoints:
        if not ep.include_in_schema:
            continue
        path = _PATH_PARAM.sub(r"{\1}", ep.path)
        op: dict[str, Any] = {
            "summary": ep.summary,
            "operationId": f"{ep.method.lower()}_{re.sub(r'[^a-zA-Z0-9]+', '_', path).strip('_')}",
            "tags": list(ep.tags),
            "responses": {},
        }
        params: list[dict[str, Any]] = [
            {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
            for name in _PATH_PARAM.findall(ep.path)
        ]
        params += [
            {"name": n, "in": "query", "required": req, "description": d,
             "schema": {"type": "string"}}
            for n, d, req in ep.query
        ]
        if params:
            op["parameters"] = params
        if ep.body is not None:
            name = ep.body.__name__
            components[name] = _component(ep.body, "validation", components)
            content: dict[str, Any] = {}
            for ct in ep.body_content_types:
                if ct == "application/jwt":
                    content[ct] = {"schema": {"type": "string"}}
                else:
                    content[ct] = {"schema": {"$ref": ref.format(model=name)}}
            op["requestBody"] = {"required": True, "content": content}
        descriptions = {status: spec if isinstance(spec, str) else spec[0]
                        for status, spec in ep.responses.items()}
        ok = 201 if ep.method == "POST" and 201 in ep.responses else 200
        if ep.response is not None:
            name = ep.response.__name__
            components[name] = _component(ep.response, "serialization", components)
            op["responses"][str(ok)] = {
                "description": descriptions.get(ok, "OK"),
                "content": {ep.response_content_type: {"schema": {"$ref": ref.format(model=name)}}},
            }
        else:
            op["responses"][str(ok)] = {"description": descriptions.get(ok, "OK"),
                                        "content": {ep.response_content_type: {}}}
        for status, spec in ep.responses.items():
            if status == ok:
                continue
            desc = descriptions[status]
            if status >= 400:
                content = {"application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}}}
                if not isinstance(spec, str):
                    model = spec[1]
                    components[model.__name__] = _component(model, "serialization",
                                                            components)
                    content["application/json"] = {
                        "schema": {"$ref": ref.format(model=model.__name__)}}
                op["responses"][str(status)] = {"description": desc, "content": content}
            else:
                op["responses"][str(status)] = {"description": desc}
        for status, desc in ((400, "Unusable request"), (413, "Body too large")):
            if ep.method in ("POST", "PUT", "PATCH") and str(status) not in op["responses"]:
                op["responses"][str(status)] = {
                    "description": desc,
                    "content": {"application/problem+json": {
                        "schema": {"$ref": "#/components/schemas/Problem"}}},
                }
        if ep.auth:
            op["security"] = [{"bearerAuth": []}]
            op["responses"].setdefault("401", {
                "description": "Missing or wrong token",
                "content": {"application/problem+json": {
                    "schema": {"$ref": "#/components/schemas/Problem"}}},
            })
        paths.setdefault(path, {})[ep.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "TrustBridge",
            "version": version,
            "description": "Verification backbone for European learning credentials.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer"}},
        },
    }


__all__ = ["ApiRoutes", "Endpoint", "ResponseSpec", "build_openapi"]
