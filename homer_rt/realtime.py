"""The Socket.IO server and the emitter services use to push events.

Services depend on RealtimeEmitter, never on socketio directly, so a chat message, a receipt or a
notification leaves through one place whichever door (REST or socket) it came in by.
"""

from __future__ import annotations

import json
import logging
from contextlib import AbstractContextManager
from typing import Any

import orjson
import socketio
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from homer_rt import jsoncodec
from homer_rt.inflight import InFlight
from homer_rt.settings import Settings
from homer_rt.socketio_compat import (
    BINARY_PACKET_TYPES,
    EmitHookRedisManager,
    HookedServer,
    SingleRecipientManager,
    close_transports,
    json_packet_class,
    room_members,
)

log = logging.getLogger(__name__)

CHAT_NAMESPACE = "/chat"
NOTIFICATIONS_NAMESPACE = "/notifications"
ADMIN_NAMESPACE = "/admin"
ADMINS_ROOM = "admins"
SOCKETIO_PATH = "/socket.io/"


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def token_room(token_id: str) -> str:
    """Every connection opened with one token (one login on one device)."""
    return f"token:{token_id}"


# Sent to a connection before the server closes it because its session ended (logout, deactivation).
SESSION_ENDED = "session_ended"
# Sent to every connection of a process that is shutting down, just before it closes their transports.
SERVER_SHUTDOWN = "server_shutdown"

# What a packet whose JSON is nested too deeply to decode turns into, so it is answered, not dropped.
MALFORMED_EVENT = "\x00malformed"


class _PacketJson:
    """The json module for Socket.IO packets.

    orjson encodes and decodes every packet, a few times faster than the json module; what it refuses
    (NaN, integers past 64 bits, non-string keys, nesting past 1,024 levels) goes through the json module, so
    the answer is the same as before, only slower. A payload nested past Python's recursion limit (a 64 KB
    frame holds 30,000 brackets) becomes the MALFORMED_EVENT marker instead of an uncaught RecursionError
    that drops the packet without an ack, so the caller would wait for its timeout."""

    dumps = staticmethod(jsoncodec.dumps)  # python-socketio asks for compact separators: all it writes

    @staticmethod
    def loads(text: str | bytes, **_: Any) -> Any:
        try:
            return orjson.loads(text)
        except orjson.JSONDecodeError:
            pass
        try:
            return json.loads(text)
        except RecursionError:
            return [MALFORMED_EVENT]


def failed(code: str, message: str, **extra: Any) -> dict[str, Any]:
    """The error ack: ``{"ok": false, "error": {"code", "message", ...}}``."""
    return {"ok": False, "error": {"code": code, "message": message, **extra}}


# How far past SOCKETIO_MAX_PAYLOAD_BYTES the transport still reads a frame, to answer it with an error ack;
# a larger frame is cut by the engine and closes its connection (it cannot be answered without reading it).
FRAME_CAP_FACTOR = 4


class HomerSocketServer(HookedServer):
    """Client packets may only name application events. python-socketio would dispatch a client's
    ``["disconnect"]`` or ``["connect", ...]`` packet to the namespace's lifecycle handlers (closing its
    presence while still connected), and a non-string event name raises inside the dispatcher; both are
    answered with an error ack instead (when the client asked for one) and go no further. So is a packet
    larger than ``max_payload_bytes``, before its JSON is read, and a binary one: Homer's events are JSON
    (files go through the upload routes), and a binary packet's attachments would be held until all of
    the frames it announces arrived."""

    def __init__(self, *, max_payload_bytes: int, **kwargs: Any) -> None:
        super().__init__(max_http_buffer_size=max_payload_bytes * FRAME_CAP_FACTOR, **kwargs)
        self.max_payload_bytes = max_payload_bytes
        # Client events being handled: shutdown lets them finish (their writes reach the store) before the
        # store is flushed.
        self.events_in_flight = InFlight()
        # Set when the process starts draining: a new event is refused (its client sends it again once it has
        # reconnected) so that the ones under way can finish while their connections still carry their acks.
        self.refusing_events = False

    def screen_packet(self, packet: str) -> dict[str, Any] | None:
        if packet.startswith(BINARY_PACKET_TYPES):
            return failed("binary_not_accepted", "Events are JSON; send files through the upload routes")
        if len(packet) * 4 > self.max_payload_bytes:  # 4: UTF-8's widest character
            size = len(packet.encode(errors="surrogatepass"))
            if size > self.max_payload_bytes:
                return failed(
                    "payload_too_large",
                    f"The payload is {size} bytes; at most {self.max_payload_bytes} are accepted",
                    limit=self.max_payload_bytes,
                )
        return None

    def screen_event(self, event: object) -> dict[str, Any] | None:
        if event == MALFORMED_EVENT:
            return failed("malformed_payload", "The payload is nested too deeply")
        if not isinstance(event, str) or self.is_reserved_event(event):
            return failed("unknown_event", "Not an event clients can send")
        if self.refusing_events:
            return failed("server_draining", "This server is shutting down; send it again once reconnected")
        return None

    def running_event(self) -> AbstractContextManager[None]:
        return self.events_in_flight.running()

    async def close_for_shutdown(self, namespaces: tuple[str, ...]) -> int:
        """Send ``server_shutdown {reconnect: true}`` to every connection of this process, then close their
        transports, without engine.io's CLOSE packet or a Socket.IO DISCONNECT: socket.io-client (and
        python-socketio's client) reconnect on their own after a transport close ("transport close"), while
        either packet means "the server disconnected you" and ends their reconnection. The WebSocket gets
        the events queued before the close, then a close frame. Returns how many connections it closed.

        Emitted here only (``ignore_queue``): through Redis every process would tell its clients.

        The connections are closed without python-socketio's disconnect event (close_transports). Through
        that event, python-socketio scans every room of the namespace for each connection
        (O(connections^2): 2,000 connections took 0.3-1 s, 10,000 would take ~25 times that), and the
        namespaces' disconnect handlers would release connection slots, forget sessions and announce users
        offline, who are back within a second on another process: all of it this process's own state,
        which ends with it (presence entries in Redis are removed at cleanup, in one pipeline)."""
        for namespace in namespaces:
            await self.emit(SERVER_SHUTDOWN, {"reconnect": True}, namespace=namespace, ignore_queue=True)
        return close_transports(self)


class _SessionEndingRedisManager(EmitHookRedisManager):
    """python-socketio's Redis manager, which also closes this process's connections in the room of a
    ``session_ended`` event: rooms are known per process, so the process that ended a session (a logout,
    a deactivation) can close only its own sockets, and every process handles the event from Redis."""

    async def emitted(self, *, event: str, namespace: str, room: object) -> None:
        if event == SESSION_ENDED and isinstance(room, str):
            for sid in room_members(self, namespace, room):
                await self.server.disconnect(sid, namespace=namespace)


def create_socket_server(settings: Settings) -> socketio.AsyncServer:
    manager: socketio.AsyncManager = SingleRecipientManager()
    if settings.redis_url:
        # Rooms and emits are shared through Redis pub/sub, so several processes act as one server.
        manager = _SessionEndingRedisManager(settings.redis_url, channel=settings.redis_channel)
    return HomerSocketServer(
        async_mode="aiohttp",
        # Homer's events are JSON: files travel through the upload routes. Packets a client sends as binary
        # are refused before decoding (HomerSocketServer).
        serializer=json_packet_class(_PacketJson),
        client_manager=manager,
        cors_allowed_origins=list(settings.cors_origins),
        ping_interval=settings.socketio_ping_interval,
        ping_timeout=settings.socketio_ping_timeout,
        max_payload_bytes=settings.socketio_max_payload_bytes,
        # Logger objects, not False: given False, each library sets its logger's level and adds a handler of
        # its own, which printed every engine.io error twice (that handler, then the root's). Their levels
        # are set with every other logger's (homer_rt.logs.configure_logging).
        logger=logging.getLogger("socketio.server"),
        engineio_logger=logging.getLogger("engineio.server"),
    )


def attach_socket_server(app: web.Application, sio: socketio.AsyncServer, *, settings: Settings) -> None:
    """Mount the Socket.IO endpoint on the app, declining WebSocket compression unless configured.

    Browsers and socket.io-client offer permessage-deflate on every connection, and python-engineio's
    aiohttp driver builds its ``WebSocketResponse`` with aiohttp's default ``compress=True``, so it
    accepts the offer and then deflates every frame, however small (aiohttp's writer compresses all
    frames once the extension is negotiated; a per-message ``compress=0`` cannot switch it off). Chat
    frames are a few hundred bytes: deflate saves almost nothing on them, costs ~40% of the messages a
    process can deliver per second, and keeps a deflate/inflate context with its 32 KB windows alive per
    connection (~120 KB instead of ~30 KB per idle client). Compressing only frames above a threshold
    is not possible through aiohttp's public API, and the engine.io driver has no option for it, so the
    clean lever is the handshake: the offer is removed from the upgrade request before the driver sees
    it, the server answers without ``Sec-WebSocket-Extensions``, and the client sends and receives plain
    frames (RFC 7692 lets a server decline). Long-polling responses keep engine.io's own gzip above 1 KB.
    """
    sio.attach(app, socketio_path=SOCKETIO_PATH.strip("/"))
    if not settings.socketio_websocket_compression:
        app.middlewares.append(decline_websocket_compression(SOCKETIO_PATH))


def decline_websocket_compression(path: str) -> Middleware:
    @web.middleware
    async def middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
        if request.path == path and hdrs.SEC_WEBSOCKET_EXTENSIONS in request.headers:
            headers = request.headers.copy()
            del headers[hdrs.SEC_WEBSOCKET_EXTENSIONS]
            request = request.clone(headers=headers)
        return await handler(request)

    return middleware


class RealtimeEmitter:
    def __init__(self, *, sio: socketio.AsyncServer) -> None:
        self._sio = sio

    async def to_user(self, user_id: str, event: str, data: Any, *, namespace: str) -> None:
        await self._sio.emit(event, data, room=user_room(user_id), namespace=namespace)

    async def to_users(
        self, user_ids: list[str], event: str, data: Any, *, namespace: str, skip_sid: str | None = None
    ) -> None:
        """One emit to several users' rooms: a connection in more than one of them gets it once, and
        ``skip_sid`` (the connection that caused it) not at all."""
        rooms = sorted({user_room(user_id) for user_id in user_ids})
        if rooms:
            await self._sio.emit(event, data, room=rooms, namespace=namespace, skip_sid=skip_sid)

    async def to_sid(self, sid: str, event: str, data: Any, *, namespace: str) -> None:
        await self._sio.emit(event, data, to=sid, namespace=namespace)

    async def to_room(
        self, room: str, event: str, data: Any, *, namespace: str, skip_sid: str | None = None
    ) -> None:
        await self._sio.emit(event, data, room=room, namespace=namespace, skip_sid=skip_sid)

    async def disconnect_user(self, user_id: str, *, reason: str = "session_revoked") -> None:
        """Cut a user's live sockets in every namespace (password change, deactivation, demotion); ``reason``
        is the code ``session_ended`` carries, the one the user's next request would be refused with."""
        await self._end_sessions(user_room(user_id), reason=reason)

    async def end_token_sessions(self, token_id: str) -> None:
        """Cut the live sockets opened with one token (its logout), in every namespace."""
        await self._end_sessions(token_room(token_id), reason="session_revoked")

    async def end_connection(self, sid: str, *, namespace: str, reason: str) -> None:
        """``session_ended`` to one connection of this process, then close it (its token expired). Emitted
        here only: the connection is this process's, so the event need not go round the other processes."""
        await self._sio.emit(
            SESSION_ENDED, {"reason": reason}, to=sid, namespace=namespace, ignore_queue=True
        )
        await self._sio.disconnect(sid, namespace=namespace, ignore_queue=True)

    async def _end_sessions(self, room: str, *, reason: str) -> None:
        """``session_ended`` to everyone in ``room``, then close this process's connections in it (another
        process closes its own when the event reaches it through Redis: _SessionEndingRedisManager)."""
        for namespace in (CHAT_NAMESPACE, NOTIFICATIONS_NAMESPACE, ADMIN_NAMESPACE):
            await self._sio.emit(SESSION_ENDED, {"reason": reason}, room=room, namespace=namespace)
            for sid in room_members(self._sio.manager, namespace, room):
                await self._sio.disconnect(sid, namespace=namespace)
