"""The notifications collection, as the spec's notifications model."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import IndexModel
from typing_extensions import TypedDict

from documents.base import collection_of, new_id
from homer_rt.clock import iso


class NotificationView(TypedDict):
    notification_id: str
    user_id: str
    type: str
    title: str
    message: str
    action_url: str | None
    is_read: bool
    created_at: str | None


class Notification(Document):
    id: str = Field(default_factory=new_id)  # type: ignore[assignment]
    user_id: str
    type: str
    title: str
    message: str
    action_url: str | None = None
    is_read: bool = False
    created_at: datetime

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("user_id", 1), ("created_at", -1)]),
            IndexModel([("user_id", 1), ("is_read", 1)]),
        ]

    def api_view(self) -> NotificationView:
        return {
            "notification_id": self.id,
            "user_id": self.user_id,
            "type": self.type,
            "title": self.title,
            "message": self.message,
            "action_url": self.action_url,
            "is_read": self.is_read,
            "created_at": iso(self.created_at),
        }

    # Writes, spelled here only. Each filter names the owner too: a notification id alone never lets one
    # user change another's.

    @classmethod
    async def mark_read_by(cls, *, notification_id: str, user_id: str) -> None:
        await collection_of(cls).update_one(
            {"_id": notification_id, "user_id": user_id}, {"$set": {"is_read": True}}
        )

    @classmethod
    async def mark_all_read_by(cls, *, user_id: str) -> int:
        """How many were unread. Guard: ``is_read: False`` in the filter, so each is counted once."""
        result = await collection_of(cls).update_many(
            {"user_id": user_id, "is_read": False}, {"$set": {"is_read": True}}
        )
        return int(result.modified_count)

    @classmethod
    async def delete_owned(cls, *, notification_id: str, user_id: str) -> None:
        await collection_of(cls).delete_one({"_id": notification_id, "user_id": user_id})
