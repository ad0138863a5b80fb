"""Every HTTP request: an id, one access log line, and the HTTP metrics.

The id is the load balancer's ``X-Request-ID`` when the peer is a trusted proxy (TRUSTED_PROXIES, as for
X-Forwarded-For) and the id is well formed; otherwise a new one. It is bound to every record logged while
the request runs (homer_rt.logs) and sent back in the response's ``X-Request-ID``, so a client reporting a
failure can quote it. This middleware is first in the chain, so its line and its metrics cover every answer,
errors included; it logs the route template (``/api/chats/{chat_id}``), never the path or its query, which
can hold an id or a token.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Sequence

from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from handlers.forwarded import Network, forwarded_client, is_trusted_proxy
from homer_rt.logs import accepted_request_id, current_user_id, new_request_id, request_context
from homer_rt.metrics import Metrics

access_log = logging.getLogger("homer_rt.access")

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = web.RequestKey("request_id", str)
# Methods outside these are counted as OTHER: a client may send any token as a method, and each label
# value is a time series Prometheus keeps.
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
# Stands for every path no route matches (404s, and 405s of unknown paths), for the same reason.
UNMATCHED_ROUTE = "unmatched"
# A client that went away before its answer (aiohttp cancels the handler), as nginx logs it.
CLIENT_CLOSED = 499
# A WebSocket upgrade's "latency" is its connection's lifetime: counted, but kept out of the histogram.
SWITCHING_PROTOCOLS = 101


def route_template(request: web.Request) -> str:
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else UNMATCHED_ROUTE


def access_middleware(trusted: Sequence[Network], metrics: Metrics) -> Middleware:
    http_requests, http_request_seconds = metrics.http_requests, metrics.http_request_seconds

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        started = time.perf_counter()
        peer = request.remote
        trusted_peer = is_trusted_proxy(peer, trusted)
        request_id = (
            trusted_peer and accepted_request_id(request.headers.get(REQUEST_ID_HEADER))
        ) or new_request_id()
        # On the request before the next middleware may clone it: the response hook reads it from there.
        request[_REQUEST_ID] = request_id
        status = 500
        with request_context(request_id):
            try:
                response = await handler(request)
                status = response.status
                return response
            except web.HTTPException as exc:
                status = exc.status
                raise
            except asyncio.CancelledError:
                status = CLIENT_CLOSED
                raise
            finally:
                seconds = time.perf_counter() - started
                route = route_template(request)
                method = request.method if request.method in _METHODS else "OTHER"
                http_requests.labels(route, method, str(status)).inc()
                if status != SWITCHING_PROTOCOLS:
                    http_request_seconds.labels(route, method, str(status)).observe(seconds)
                client = peer
                if trusted_peer and hdrs.X_FORWARDED_FOR in request.headers:
                    client = forwarded_client(peer, request.headers.getall(hdrs.X_FORWARDED_FOR), trusted)
                fields = {
                    "method": method,
                    "route": route,
                    "status": status,
                    "latency_ms": round(seconds * 1000, 2),
                    "client": client,
                }
                user_id = current_user_id()  # bound by handlers.common.authenticate
                if user_id is not None:
                    fields["user_id"] = user_id
                access_log.info("http_request", extra=fields)

    return middleware


async def echo_request_id(request: web.Request, response: web.StreamResponse) -> None:
    """on_response_prepare: every answer carries its request's id, including those prepared inside a
    handler (a WebSocket upgrade, a file) and errors rendered by aiohttp itself."""
    request_id = request.get(_REQUEST_ID)
    if request_id is not None:
        response.headers[REQUEST_ID_HEADER] = request_id
