"""The /notifications namespace: live notifications and their unread count, and marking them read."""

from __future__ import annotations

from typing import Any

from handlers.sockets.base import AuthenticatedNamespace, acked, parse_payload
from homer_rt.live_sockets import LiveSockets
from homer_rt.services.auth import AuthService
from homer_rt.services.notifications import NotificationService
from homer_rt.socket_events import (
    NotificationReadAck,
    NotificationRef,
    NotificationsReadAck,
    UnreadNotificationsEvent,
)


class NotificationsNamespace(AuthenticatedNamespace):
    def __init__(
        self, namespace: str, *, auth: AuthService, sockets: LiveSockets, notifications: NotificationService
    ) -> None:
        super().__init__(namespace, auth=auth, sockets=sockets)
        self._notifications = notifications

    async def connected(self, sid: str, user_id: str) -> None:
        event: UnreadNotificationsEvent = {"count": await self._notifications.unread_count(user_id=user_id)}
        await self.emit("unread_notifications", event, to=sid)

    @acked
    async def on_mark_read(self, sid: str, data: Any = None) -> NotificationReadAck:
        payload = parse_payload(NotificationRef, data)
        user_id = await self.user_id(sid)
        notification = await self._notifications.mark_read(
            user_id=user_id, notification_id=payload.notification_id
        )
        return {
            "notification": notification.api_view(),
            "count": await self._notifications.unread_count(user_id=user_id),
        }

    @acked
    async def on_mark_all_read(self, sid: str, data: Any = None) -> NotificationsReadAck:
        user_id = await self.user_id(sid)
        updated = await self._notifications.mark_all_read(user_id=user_id)
        return {"updated": updated, "count": await self._notifications.unread_count(user_id=user_id)}
