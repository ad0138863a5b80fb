"""The notifications collection, as the spec's notifications model."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import IndexModel

from documents.base import new_id
from homer_rt.clock import iso


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

    def api_view(self) -> dict[str, Any]:
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
