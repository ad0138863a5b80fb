"""The Socket.IO server and the emitter services use to push events.

Services depend on RealtimeEmitter, never on socketio directly, so a chat message, a receipt or a
notification leaves through one place whichever door (REST or socket) it came in by.
"""

from __future__ import annotations

import logging
from typing import Any

import socketio

from homer_rt.settings import Settings

log = logging.getLogger(__name__)

CHAT_NAMESPACE = "/chat"
NOTIFICATIONS_NAMESPACE = "/notifications"
ADMIN_NAMESPACE = "/admin"
ADMINS_ROOM = "admins"


def user_room(user_id: str) -> str:
    return f"user:{user_id}"


def create_socket_server(settings: Settings) -> socketio.AsyncServer:
    manager: socketio.AsyncManager | None = None
    if settings.redis_url:
        # Rooms and emits are shared through Redis pub/sub, so several processes act as one server.
        manager = socketio.AsyncRedisManager(settings.redis_url, channel=settings.redis_channel)
    return socketio.AsyncServer(
        async_mode="aiohttp",
        client_manager=manager,
        cors_allowed_origins=list(settings.cors_origins),
        ping_interval=settings.socketio_ping_interval,
        ping_timeout=settings.socketio_ping_timeout,
        max_http_buffer_size=settings.socketio_max_payload_bytes,
        logger=False,
        engineio_logger=False,
    )


class RealtimeEmitter:
    def __init__(self, *, sio: socketio.AsyncServer) -> None:
        self._sio = sio

    async def to_user(self, user_id: str, event: str, data: Any, *, namespace: str) -> None:
        await self._sio.emit(event, data, room=user_room(user_id), namespace=namespace)

    async def to_room(
        self, room: str, event: str, data: Any, *, namespace: str, skip_sid: str | None = None
    ) -> None:
        await self._sio.emit(event, data, room=room, namespace=namespace, skip_sid=skip_sid)

    async def disconnect_user(self, user_id: str) -> None:
        """Cut a user's live sockets in every namespace (deactivation, password change).

        Participants are known per process; other processes refuse the user's next event or reconnect
        because the token version check fails there.
        """
        for namespace in (CHAT_NAMESPACE, NOTIFICATIONS_NAMESPACE, ADMIN_NAMESPACE):
            await self._sio.emit(
                "session_ended", {"reason": "session_revoked"}, room=user_room(user_id), namespace=namespace
            )
            sids = [sid for sid, _ in self._sio.manager.get_participants(namespace, user_room(user_id))]
            for sid in sids:
                await self._sio.disconnect(sid, namespace=namespace)
