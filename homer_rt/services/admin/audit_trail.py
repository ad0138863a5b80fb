"""The audit trail: every admin action, successful or failed, filtered and newest first."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from documents.audit_log import AdminAuditLog
from homer_rt.services.admin.queries import date_range, paginated


class AdminAuditTrail:
    async def audit_logs(
        self,
        *,
        action_type: str | None,
        entity_type: str | None,
        admin_id: str | None,
        entity_id: str | None,
        status: str | None,
        date_from: datetime | None,
        date_to: datetime | None,
        page: int,
        limit: int,
    ) -> dict[str, Any]:
        query: dict[str, Any] = {}
        for name, value in (
            ("action_type", action_type),
            ("entity_type", entity_type),
            ("admin_id", admin_id),
            ("entity_id", entity_id),
            ("status", status),
        ):
            if value:
                query[name] = value
        query.update(date_range("timestamp", date_from, date_to))
        total = await AdminAuditLog.find(query).count()
        logs = (
            await AdminAuditLog.find(query).sort("-timestamp").skip((page - 1) * limit).limit(limit).to_list()
        )
        return paginated("logs", [entry.api_view() for entry in logs], total=total, page=page, limit=limit)
