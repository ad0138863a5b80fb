"""The /notifications namespace: live notifications and their unread count, and marking them read."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field, StrictStr

from handlers.sockets.base import AuthenticatedNamespace, acked, parse_payload
from homer_rt.live_sockets import LiveSockets
from homer_rt.services.auth import AuthService
from homer_rt.services.notifications import NotificationService


class NotificationRef(BaseModel):
    model_config = ConfigDict(extra="ignore")
    notification_id: StrictStr = Field(min_length=1, max_length=64)


class NotificationsNamespace(AuthenticatedNamespace):
    def __init__(
        self, namespace: str, *, auth: AuthService, sockets: LiveSockets, notifications: NotificationService
    ) -> None:
        super().__init__(namespace, auth=auth, sockets=sockets)
        self._notifications = notifications

    async def connected(self, sid: str, user_id: str) -> None:
        count = await self._notifications.unread_count(user_id=user_id)
        await self.emit("unread_notifications", {"count": count}, to=sid)

    @acked
    async def on_mark_read(self, sid: str, data: Any = None) -> Any:
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
    async def on_mark_all_read(self, sid: str, data: Any = None) -> Any:
        user_id = await self.user_id(sid)
        updated = await self._notifications.mark_all_read(user_id=user_id)
        return {"updated": updated, "count": await self._notifications.unread_count(user_id=user_id)}
