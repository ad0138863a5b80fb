"""``GET /`` and ``GET /api/health`` as the spec, plus whether the store answers; ``/api/health/live`` and
``/api/health/ready`` for orchestrators and load balancers (homer_rt/readiness.py, homer_rt/shutdown.py)."""

from __future__ import annotations

from typing import Literal

from aiohttp import web
from typing_extensions import TypedDict

from handlers.common import json_response
from handlers.contract import Access, operation
from homer_rt.appkeys import READINESS, SETTINGS, STORE
from homer_rt.readiness import ReadinessView

routes = web.RouteTableDef()


class RootResponse(TypedDict):
    message: str
    status: Literal["healthy"]


class StoreHealth(TypedDict):
    ok: bool
    embedded: bool  # the in-memory store: nothing persists


class RealtimeHealth(TypedDict):
    redis: bool  # Socket.IO rooms shared with other processes through Redis


class HealthResponse(TypedDict):
    status: Literal["ok", "degraded"]
    store: StoreHealth
    realtime: RealtimeHealth


class LiveResponse(TypedDict):
    status: Literal["alive"]


@routes.get("/")
@operation(summary="The API is running", tags="health", access=Access.PUBLIC, response=RootResponse)
async def root(request: web.Request) -> web.Response:
    answer: RootResponse = {"message": "Homer API is running", "status": "healthy"}
    return json_response(answer)


@routes.get("/api/health")
@operation(
    summary="Whether the store answers (503, with the same report, when it does not)",
    tags="health",
    access=Access.PUBLIC,
    response=HealthResponse,
    responses={503: HealthResponse},
)
async def health(request: web.Request) -> web.Response:
    store = request.app[STORE]
    store_ok = await store.ping()
    answer: HealthResponse = {
        "status": "ok" if store_ok else "degraded",
        "store": {"ok": store_ok, "embedded": store.embedded},
        "realtime": {"redis": bool(request.app[SETTINGS].redis_url)},
    }
    return json_response(answer, status=200 if store_ok else 503)


@routes.get("/api/health/live")
@operation(
    summary="Liveness: the process serves requests",
    tags="health",
    access=Access.PUBLIC,
    response=LiveResponse,
)
async def live(request: web.Request) -> web.Response:
    """The process serves requests: nothing else is asked, so a dependency outage never gets it restarted."""
    answer: LiveResponse = {"status": "alive"}
    return json_response(answer)


@routes.get("/api/health/ready")
@operation(
    summary="Readiness: serving, and every dependency answers (503 with the report otherwise)",
    tags="health",
    access=Access.PUBLIC,
    response=ReadinessView,
    responses={503: ReadinessView},
)
async def ready(request: web.Request) -> web.Response:
    """503 while starting, while draining after SIGTERM, or while a dependency does not answer."""
    report = await request.app[READINESS].report()
    return json_response(report.view(), status=200 if report.ready else 503)
