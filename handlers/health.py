"""``GET /`` and ``GET /api/health`` as the spec, plus whether the store answers."""

from __future__ import annotations

from aiohttp import web

from handlers.common import json_response
from homer_rt.appkeys import SETTINGS, STORE

routes = web.RouteTableDef()


@routes.get("/")
async def root(request: web.Request) -> web.Response:
    return json_response({"message": "Homer API is running", "status": "healthy"})


@routes.get("/api/health")
async def health(request: web.Request) -> web.Response:
    store = request.app[STORE]
    store_ok = await store.ping()
    return json_response(
        {
            "status": "ok" if store_ok else "degraded",
            "store": {"ok": store_ok, "embedded": store.embedded},
            "realtime": {"redis": bool(request.app[SETTINGS].redis_url)},
        },
        status=200 if store_ok else 503,
    )
