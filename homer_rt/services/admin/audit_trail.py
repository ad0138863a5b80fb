"""The audit trail: every admin action, successful or failed, filtered and newest first."""

from __future__ import annotations

from datetime import datetime

from documents.audit_log import AdminAuditLog
from homer_rt.services.admin.queries import audit_log_filter, find_page, page_fields
from homer_rt.services.admin.views import AuditLogPage


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
    ) -> AuditLogPage:
        query = audit_log_filter(
            action_type=action_type,
            entity_type=entity_type,
            admin_id=admin_id,
            entity_id=entity_id,
            status=status,
            date_from=date_from,
            date_to=date_to,
        )
        total, logs = await find_page(AdminAuditLog, query, sort="-timestamp", page=page, limit=limit)
        return {
            "logs": [entry.api_view() for entry in logs],
            **page_fields(total=total, page=page, limit=limit),
        }
