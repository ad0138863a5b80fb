"""``GET /`` and ``GET /api/health`` as the spec, plus whether the store answers; ``/api/health/live`` and
``/api/health/ready`` for orchestrators and load balancers (homer_rt/readiness.py, homer_rt/shutdown.py)."""

from __future__ import annotations

from aiohttp import web

from handlers.common import json_response
from homer_rt.appkeys import READINESS, SETTINGS, STORE

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


@routes.get("/api/health/live")
async def live(request: web.Request) -> web.Response:
    """The process serves requests: nothing else is asked, so a dependency outage never gets it restarted."""
    return json_response({"status": "alive"})


@routes.get("/api/health/ready")
async def ready(request: web.Request) -> web.Response:
    """503 while starting, while draining after SIGTERM, or while a dependency does not answer."""
    report = await request.app[READINESS].report()
    return json_response(report.view(), status=200 if report.ready else 503)
