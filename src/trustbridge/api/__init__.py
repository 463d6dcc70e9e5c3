"""HTTP edge: aiohttp app factory, routes, middlewares, OpenAPI."""

from trustbridge.api.app import create_app

__all__ = ["create_app"]
