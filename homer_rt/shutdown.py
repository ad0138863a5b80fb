"""Graceful shutdown: what ``homer-rt serve`` does on SIGTERM (or Ctrl-C), within SHUTDOWN_GRACE_SECONDS.

1. Readiness turns 503 (``draining``) and the listening socket closes: new connections are refused, so a
   load balancer sends them to another process.
2. New Socket.IO events are refused (``server_draining``: the client sends them again once reconnected) and
   the ones under way finish while their connections are open, so their acks and live deliveries go out.
3. Every Socket.IO connection gets ``server_shutdown {reconnect: true}`` and its transport is closed in a
   way the clients answer by reconnecting on their own (HomerSocketServer.close_for_shutdown); a client
   then rejoins its chats and asks ``sync`` for what it missed. Closing them does not announce their users
   offline: they are back within a second, on another process or this one's successor.
4. In-flight requests finish. Whatever still runs when the grace period ends is cut; cut socket events are
   cancelled and unwound before the store's last flush.
5. aiohttp's own shutdown, then each cleanup context in reverse: background tasks and the scheduler are
   cancelled, this process's presence entries leave Redis, and the store is flushed (the embedded store
   writes its data file) and closed.

Why the drain comes before aiohttp's shutdown rather than in ``on_shutdown``: from its first step aiohttp
stops reading every open connection, WebSockets included. A Socket.IO connection then never answers
engine.io's pings, so it only ended when engine.io gave up on it (PING_INTERVAL + PING_TIMEOUT, 45 s by
default), and aiohttp waited for it (up to 60 s): an idle client kept a stopping server alive for ~45 s.
Closing the sockets while the connections are still read takes a WebSocket close handshake, milliseconds.
"""

from __future__ import annotations

import asyncio
import logging
import signal
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from aiohttp.typedefs import Handler, Middleware

from homer_rt.appkeys import READINESS, REQUESTS_IN_FLIGHT, SOCKET_SERVER
from homer_rt.errors import ServiceUnavailable
from homer_rt.inflight import InFlight
from homer_rt.readiness import Phase, Readiness
from homer_rt.realtime import ADMIN_NAMESPACE, CHAT_NAMESPACE, NOTIFICATIONS_NAMESPACE, SOCKETIO_PATH

log = logging.getLogger(__name__)

# What aiohttp's own shutdown gives a request that arrived after the drain (on a connection that was kept
# alive), and a cut handler to unwind: everything the grace period covers has finished or been cut by then.
LATE_REQUEST_SECONDS = 1.0
# How long an idle kept-alive HTTP connection stays open: web.run_app's default, which ``homer-rt serve``
# had through it (AppRunner's own is an hour).
IDLE_KEEPALIVE_SECONDS = 75.0


@dataclass(frozen=True, slots=True)
class DrainReport:
    sockets_closed: int
    requests_cut: int
    events_cut: int
    seconds: float


async def drain(app: web.Application, *, grace_seconds: float) -> DrainReport:
    """Steps 1 to 4 of the module doc; the caller has closed the listening socket."""
    loop = asyncio.get_running_loop()
    started = loop.time()

    def left() -> float:
        return started + grace_seconds - loop.time()

    app[READINESS].draining()
    sio = app[SOCKET_SERVER]
    sio.refusing_events = True
    events: InFlight = sio.events_in_flight
    await events.wait_idle(within=left())
    sockets_closed = await sio.close_for_shutdown((CHAT_NAMESPACE, NOTIFICATIONS_NAMESPACE, ADMIN_NAMESPACE))
    # Socket.IO transports are requests too: this also waits for the WebSocket close handshakes.
    requests: InFlight = app[REQUESTS_IN_FLIGHT]
    await requests.wait_idle(within=left())
    events_cut = events.count
    await events.cancel_running()
    await sio.shutdown()  # engine.io's background task
    report = DrainReport(
        sockets_closed=sockets_closed,
        requests_cut=requests.count,
        events_cut=events_cut,
        seconds=loop.time() - started,
    )
    log.info(
        "drained in %.2f s: %d socket connections closed; %d requests and %d socket events cut",
        report.seconds,
        report.sockets_closed,
        report.requests_cut,
        report.events_cut,
        extra={
            "drain_seconds": round(report.seconds, 3),
            "sockets_closed": report.sockets_closed,
            "requests_cut": report.requests_cut,
            "events_cut": report.events_cut,
        },
    )
    return report


def track_requests_middleware(requests: InFlight, readiness: Readiness) -> Middleware:
    """Counts requests while their handler runs (a Socket.IO WebSocket's is its whole life), so the drain
    can wait for them. While draining, a new Socket.IO session is refused with 503 (its client retries,
    reaching another process or this one's successor) and a response closes its connection."""

    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        draining = readiness.phase is Phase.DRAINING
        if draining and request.path == SOCKETIO_PATH and "sid" not in request.query:
            raise ServiceUnavailable(
                "This server is shutting down; connect again", code="server_draining", retry_after=1
            )
        with requests.running():
            response = await handler(request)
        if readiness.phase is Phase.DRAINING and not response.prepared:
            response.force_close()
        return response

    return middleware


async def serve(
    app: web.Application, *, host: str, port: int, grace_seconds: float, **runner_options: Any
) -> None:
    """Run the app until SIGTERM or SIGINT, then shut it down gracefully (the module doc). A signal during
    start-up keeps its default action: the process ends there.

    ``runner_options`` go to aiohttp's AppRunner (access log settings)."""
    runner = web.AppRunner(
        app,
        handle_signals=False,
        shutdown_timeout=LATE_REQUEST_SECONDS,
        keepalive_timeout=IDLE_KEEPALIVE_SECONDS,
        **runner_options,
    )
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        signalled = _watch_signals()
        await site.start()
        log.info("serving on http://%s:%d", host, port)
        log.info("%s: shutting down (grace %g s)", await signalled, grace_seconds)
        await site.stop()
        await drain(app, grace_seconds=grace_seconds)
    finally:
        await runner.cleanup()
    log.info("stopped")


def _watch_signals() -> asyncio.Future[str]:
    """The name of the first SIGTERM or SIGINT. Later ones change nothing: the shutdown they ask for is
    under way, and bounded by the grace period."""
    loop = asyncio.get_running_loop()
    received: asyncio.Future[str] = loop.create_future()

    def on_signal(signum: signal.Signals) -> None:
        if not received.done():
            received.set_result(signum.name)

    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, on_signal, signum)
    return received
