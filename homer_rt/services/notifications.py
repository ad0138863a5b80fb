"""Notifications: stored, then pushed live on /notifications with the new unread count."""

from __future__ import annotations

from documents.notification import Notification
from homer_rt.clock import Clock
from homer_rt.realtime import NOTIFICATIONS_NAMESPACE, RealtimeEmitter


class NotificationService:
    def __init__(self, *, clock: Clock, emitter: RealtimeEmitter) -> None:
        self._clock = clock
        self._emitter = emitter

    async def notify(
        self, *, user_id: str, type: str, title: str, message: str, action_url: str | None = None
    ) -> Notification:
        notification = Notification(
            user_id=user_id,
            type=type,
            title=title,
            message=message,
            action_url=action_url,
            created_at=self._clock.now(),
        )
        await notification.insert()
        await self._emitter.to_user(
            user_id, "notification", notification.api_view(), namespace=NOTIFICATIONS_NAMESPACE
        )
        await self.push_unread_count(user_id=user_id)
        return notification

    async def unread_count(self, *, user_id: str) -> int:
        return await Notification.find({"user_id": user_id, "is_read": False}).count()

    async def push_unread_count(self, *, user_id: str) -> None:
        count = await self.unread_count(user_id=user_id)
        await self._emitter.to_user(
            user_id, "unread_notifications", {"count": count}, namespace=NOTIFICATIONS_NAMESPACE
        )
