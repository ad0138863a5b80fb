"""Notifications: stored, then pushed live on /notifications with the new unread count."""

from __future__ import annotations

from typing import Any

from beanie import SortDirection
from typing_extensions import TypedDict

from documents.notification import Notification, NotificationView
from homer_rt.clock import Clock
from homer_rt.errors import Forbidden, NotFound
from homer_rt.realtime import NOTIFICATIONS_NAMESPACE, RealtimeEmitter


class NotificationPage(TypedDict):
    notifications: list[NotificationView]
    total: int
    page: int
    limit: int
    pages: int
    unread_count: int


class UnreadCountResponse(TypedDict):
    unread_count: int


class ReadAllResponse(TypedDict):
    updated: int  # how many were unread
    unread_count: int


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

    async def list_for(self, *, user_id: str, page: int, limit: int, unread_only: bool) -> NotificationPage:
        query: dict[str, Any] = {"user_id": user_id}
        if unread_only:
            query["is_read"] = False
        total = await Notification.find(query).count()
        items = (
            await Notification.find(query)
            .sort([("created_at", SortDirection.DESCENDING), ("_id", SortDirection.DESCENDING)])
            .skip((page - 1) * limit)
            .limit(limit)
            .to_list()
        )
        return {
            "notifications": [n.api_view() for n in items],
            "total": total,
            "page": page,
            "limit": limit,
            "pages": (total + limit - 1) // limit,
            "unread_count": await self.unread_count(user_id=user_id),
        }

    async def _own(self, *, user_id: str, notification_id: str) -> Notification:
        notification = await Notification.get(notification_id)
        if notification is None:
            raise NotFound("Notification not found", code="notification_not_found")
        if notification.user_id != user_id:
            raise Forbidden("Not your notification", code="not_owner")
        return notification

    async def mark_read(self, *, user_id: str, notification_id: str) -> Notification:
        notification = await self._own(user_id=user_id, notification_id=notification_id)
        if not notification.is_read:
            await Notification.mark_read_by(notification_id=notification.id, user_id=user_id)
            notification.is_read = True
            await self.push_unread_count(user_id=user_id)
        return notification

    async def mark_all_read(self, *, user_id: str) -> int:
        updated = await Notification.mark_all_read_by(user_id=user_id)
        await self.push_unread_count(user_id=user_id)
        return updated

    async def delete(self, *, user_id: str, notification_id: str) -> None:
        notification = await self._own(user_id=user_id, notification_id=notification_id)
        await Notification.delete_owned(notification_id=notification.id, user_id=user_id)
        if not notification.is_read:
            await self.push_unread_count(user_id=user_id)
