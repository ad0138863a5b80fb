"""The admin audit log, as the spec's AdminAuditLog model (section 6.8)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import IndexModel
from typing_extensions import TypedDict

from documents.base import new_id
from homer_rt.clock import iso


class AuditStatus(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"
    PARTIAL = "partial"


class AuditLogView(TypedDict):
    log_id: str
    admin_id: str
    action_type: str
    entity_type: str
    entity_id: str | None
    action_details: dict[str, Any]  # free-form: what each action records
    old_value: dict[str, Any] | None
    new_value: dict[str, Any] | None
    ip_address: str | None
    user_agent: str | None
    timestamp: str | None
    status: AuditStatus
    error_message: str | None


class AdminAuditLog(Document):
    id: str = Field(default_factory=new_id)  # type: ignore[assignment]
    admin_id: str
    action_type: str
    entity_type: str
    entity_id: str | None = None
    action_details: dict[str, Any] = Field(default_factory=dict)
    old_value: dict[str, Any] | None = None
    new_value: dict[str, Any] | None = None
    ip_address: str | None = None
    user_agent: str | None = None
    timestamp: datetime
    status: AuditStatus = AuditStatus.SUCCESS
    error_message: str | None = None

    class Settings:
        name = "admin_audit_logs"
        indexes = [
            IndexModel([("timestamp", -1)]),
            IndexModel([("action_type", 1), ("timestamp", -1)]),
            IndexModel([("entity_type", 1), ("timestamp", -1)]),
            IndexModel([("admin_id", 1), ("timestamp", -1)]),
        ]

    def api_view(self) -> AuditLogView:
        return {
            "log_id": self.id,
            "admin_id": self.admin_id,
            "action_type": self.action_type,
            "entity_type": self.entity_type,
            "entity_id": self.entity_id,
            "action_details": self.action_details,
            "old_value": self.old_value,
            "new_value": self.new_value,
            "ip_address": self.ip_address,
            "user_agent": self.user_agent,
            "timestamp": iso(self.timestamp),
            "status": self.status,
            "error_message": self.error_message,
        }
