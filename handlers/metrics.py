"""``GET /metrics``: this process's Prometheus metrics, never public by accident.

Served where the operator configured it, and nowhere else:
- METRICS_PORT: a listener of its own on METRICS_HOST (127.0.0.1 unless set), for a Prometheus on the same
  host or network; each process behind the load balancer is scraped on its own port;
- METRICS_TOKEN: on the main port too, to ``Authorization: Bearer <METRICS_TOKEN>`` only (401 otherwise).
  With a token the metrics port asks for it as well.
With neither, ``/metrics`` answers 404 like any unknown path.
"""

from __future__ import annotations

import asyncio
import hmac
from collections.abc import AsyncIterator

from aiohttp import web

from handlers.common import bearer_token
from handlers.contract import Access, operation
from handlers.errors import error_middleware
from homer_rt.appkeys import METRICS, SETTINGS
from homer_rt.errors import NotFound, Unauthorized
from homer_rt.metrics import EXPOSITION_CONTENT_TYPE

routes = web.RouteTableDef()

METRICS_PATH = "/metrics"
# Set on the metrics port's own app: there the token, if any, is the only condition.
_ON_METRICS_PORT = web.AppKey("on_metrics_port", bool)


@routes.get(METRICS_PATH)
@operation(
    summary="Prometheus metrics of this process",
    description="Served to the METRICS_TOKEN only (or on METRICS_PORT); 404 where neither is configured.",
    tags="operations",
    access=Access.OPERATOR,
    response=None,
    media_type="text/plain",
    errors=(404,),
)
async def metrics(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    token = settings.metrics_token
    if token is None and not request.app.get(_ON_METRICS_PORT, False):
        raise NotFound("Not found")
    if token is not None:
        sent = bearer_token(request)
        if sent is None or not hmac.compare_digest(sent.encode(), token.get_secret_value().encode()):
            raise Unauthorized("A valid metrics token is required", code="metrics_token_required")
    # Off the event loop: it walks every series, and reads /proc for the process metrics.
    body = await asyncio.to_thread(request.app[METRICS].exposition)
    return web.Response(body=body, headers={"Content-Type": EXPOSITION_CONTENT_TYPE})


def metrics_app(main: web.Application) -> web.Application:
    """The metrics port's application: ``/metrics`` of ``main``'s registry, nothing else."""
    app = web.Application(middlewares=[error_middleware])
    app[SETTINGS] = main[SETTINGS]
    app[METRICS] = main[METRICS]
    app[_ON_METRICS_PORT] = True
    app.router.add_routes(routes)
    return app


async def metrics_port_ctx(app: web.Application) -> AsyncIterator[None]:
    """cleanup_ctx: listen on METRICS_HOST:METRICS_PORT while the app runs (when METRICS_PORT is set)."""
    settings = app[SETTINGS]
    if settings.metrics_port is None:
        yield
        return
    runner = web.AppRunner(metrics_app(app), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.metrics_host, settings.metrics_port).start()
        yield
    finally:
        await runner.cleanup()
