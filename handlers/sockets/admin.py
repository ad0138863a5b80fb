"""Namespace /admin: admins only. Connected admins share the ``admins`` room and receive ``counts``
(pending verifications of each kind, open chat reports) whenever one changes, and once on connect."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine
from typing import Any

from documents.user import User
from handlers.sockets.base import AuthenticatedNamespace, acked
from homer_rt.errors import Forbidden
from homer_rt.live_sockets import LiveSockets
from homer_rt.realtime import ADMINS_ROOM
from homer_rt.services.admin_feed import AdminCountsView, AdminFeed
from homer_rt.services.auth import AuthService
from homer_rt.socketio_compat import is_connected

Spawner = Callable[[Coroutine[Any, Any, None], str], object]

# How long the first push waits for the connection to finish its handshake.
_CONNECT_WAIT_SECONDS = 5.0


class AdminNamespace(AuthenticatedNamespace):
    def __init__(
        self, namespace: str, *, auth: AuthService, sockets: LiveSockets, feed: AdminFeed, spawn: Spawner
    ) -> None:
        super().__init__(namespace, auth=auth, sockets=sockets)
        self._feed = feed
        self._spawn = spawn

    async def authorize(self, user: User) -> None:
        if not user.is_admin:
            raise Forbidden("Admin access required", code="admin_required")

    async def connected(self, sid: str, user_id: str) -> None:
        await self.enter_room(sid, ADMINS_ROOM)
        # The server acknowledges the connection only after this handler returns, and an event sent
        # before that would be dropped by the client; so the first counts go out once it is connected.
        self._spawn(self._send_counts_when_connected(sid), f"admin-counts-{sid}")

    async def _send_counts_when_connected(self, sid: str) -> None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + _CONNECT_WAIT_SECONDS
        while not is_connected(self.server, sid, self.namespace):
            if loop.time() > deadline:
                return
            await asyncio.sleep(0.01)
        await self._feed.send_counts(sid=sid)

    @acked
    async def on_get_counts(self, sid: str, data: Any = None) -> AdminCountsView:
        return await self._feed.counts()
