"""CORS for the REST API, from CORS_ORIGINS (never '*': the frontend sends credentials).

The middleware answers preflights; the ``on_response_prepare`` signal adds the CORS headers to every
response, including the ones no middleware sees returned (raised redirects, the router's 404s).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from handlers.errors import error_response

ALLOWED_METHODS = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
ALLOWED_HEADERS = "Authorization, Content-Type, X-Requested-With, X-Request-ID"
# What a browser frontend may read of an answer beyond the basics: the request id, to quote in a report.
EXPOSED_HEADERS = "X-Request-ID, Retry-After"

ResponsePrepareHook = Callable[[web.Request, web.StreamResponse], Awaitable[None]]


def cors_middleware(origins: list[str]) -> Middleware:
    allowed = frozenset(origins)

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        origin = request.headers.get("Origin")
        if request.method == "OPTIONS" and origin and "Access-Control-Request-Method" in request.headers:
            if origin not in allowed:
                return error_response(403, "Origin not allowed", "origin_not_allowed")
            response = web.Response(status=204)
            response.headers["Access-Control-Allow-Methods"] = ALLOWED_METHODS
            response.headers["Access-Control-Allow-Headers"] = ALLOWED_HEADERS
            response.headers["Access-Control-Max-Age"] = "600"
            return response
        return await handler(request)

    return middleware


def cors_headers(origins: list[str]) -> ResponsePrepareHook:
    allowed = frozenset(origins)

    async def add_cors_headers(request: web.Request, response: web.StreamResponse) -> None:
        origin = request.headers.get("Origin")
        if origin and origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Credentials"] = "true"
            response.headers["Access-Control-Expose-Headers"] = EXPOSED_HEADERS
        # Every response, whatever the Origin (or none): what a cache stored for one origin, with or without
        # Access-Control-Allow-Origin, must never be served to another.
        vary_on(response, "Origin")

    return add_cors_headers


def vary_on(response: web.StreamResponse, header: str) -> None:
    """Add ``header`` to the response's Vary, keeping what is there (aiohttp's compression adds its own)."""
    listed = [
        name.strip()
        for line in response.headers.getall("Vary", ())
        for name in line.split(",")
        if name.strip()
    ]
    if any(name == "*" or name.lower() == header.lower() for name in listed):
        return
    response.headers["Vary"] = ", ".join([*listed, header])
