"""Reading request bodies safely: size, content type, nesting depth, schema."""

from __future__ import annotations

from typing import Any, TypeVar

from aiohttp import web
from pydantic import BaseModel, ValidationError

from trustbridge.crypto.strict_json import depth_exceeds, strict_loads
from trustbridge.errors import InputError, PayloadTooLarge, UnsupportedMediaType

M = TypeVar("M", bound=BaseModel)

JSON_TYPES = ("application/json", "application/ld+json", "application/vc+ld+json",
              "application/vp+ld+json")


def json_depth_exceeds(raw: bytes | str, limit: int) -> bool:
    """True when ``[``/``{`` nesting goes beyond ``limit`` (string contents ignored).

    Runs before ``json.loads`` so hostile nesting never reaches the recursive parser."""
    return depth_exceeds(raw, limit)


def parse_json_bytes(raw: bytes | str, *, max_depth: int) -> Any:
    """Strict JSON: no NaN/Infinity, no duplicate keys, bounded depth, UTF-8 only."""
    if json_depth_exceeds(raw, max_depth):
        raise InputError(f"JSON nesting deeper than {max_depth} levels", code="request.too_deep")
    try:
        return strict_loads(raw)
    except (ValueError, RecursionError) as exc:
        raise InputError(f"request body is not valid JSON: {exc}", code="request.malformed_json") \
            from exc


async def read_body(request: web.Request) -> bytes:
    """The raw body, refusing declared or actual sizes beyond the app limit."""
    limit: int = request.app["settings"].max_body_bytes
    if request.content_length is not None and request.content_length > limit:
        raise PayloadTooLarge(f"request body of {request.content_length} bytes exceeds {limit}")
    try:
        return await request.read()
    except web.HTTPRequestEntityTooLarge as exc:
        raise PayloadTooLarge(f"request body exceeds {limit} bytes") from exc


async def read_json(request: web.Request) -> Any:
    """Body as JSON, requiring a JSON content type."""
    if request.content_type not in JSON_TYPES:
        raise UnsupportedMediaType(
            f"expected Content-Type application/json, got {request.content_type!r}"
        )
    raw = await read_body(request)
    return parse_json_bytes(raw, max_depth=request.app["settings"].max_json_depth)


def validate(model: type[M], data: Any) -> M:
    """Validate untrusted data into a wire model; errors list every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        errors = [
            {"loc": ".".join(str(p) for p in e["loc"]), "msg": e["msg"], "type": e["type"]}
            for e in exc.errors(include_url=False, include_input=False)
        ][:50]
        raise InputError("request body does not match the schema", code="request.schema",
                         details={"errors": errors}) from exc


async def read_model(request: web.Request, model: type[M]) -> M:
    return validate(model, await read_json(request))


__all__ = ["json_depth_exceeds", "parse_json_bytes", "read_body", "read_json", "read_model",
           "validate"]
