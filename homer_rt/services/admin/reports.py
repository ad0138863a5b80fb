"""Chat reports: the moderation queue and its resolutions (dismiss, block the chat, deactivate the
reported user)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from documents.base import collection_of
from documents.chat import ChatReport, ReportResolution, ReportStatus
from documents.chat_writes import claim_report_resolution, release_report_claim
from documents.user import User
from homer_rt.clock import Clock
from homer_rt.errors import Conflict, DomainError, Forbidden, NotFound, ValidationFailed
from homer_rt.services.admin.queries import find_page, page_fields
from homer_rt.services.admin.users import AdminUsers
from homer_rt.services.admin.views import ReportPage, ReportResolvedResponse
from homer_rt.services.admin_feed import AdminFeed
from homer_rt.services.audit import AdminActor, AuditLog, Outcome
from homer_rt.services.chats import ChatService


class ReportAction(StrEnum):
    DISMISS = "dismiss"
    BLOCK_CHAT = "block_chat"
    DEACTIVATE_USER = "deactivate_user"


class AdminReports:
    def __init__(
        self, *, clock: Clock, audit: AuditLog, feed: AdminFeed, chats: ChatService, users: AdminUsers
    ) -> None:
        self._clock = clock
        self._audit = audit
        self._feed = feed
        self._chats = chats
        self._users = users

    async def list_reports(self, *, status: str | None, page: int, limit: int) -> ReportPage:
        """Open reports first (oldest waiting longest at the top), then resolved ones, newest first."""
        if status and status != "all":
            order = "+created_at" if status == ReportStatus.OPEN.value else "-resolved_at"
            total, found = await find_page(ChatReport, {"status": status}, sort=order, page=page, limit=limit)
        else:
            total, found = await _queue_page(page=page, limit=limit)
        names = await _names_of({r.reporter_id for r in found} | {r.reported_user_id for r in found})
        return {
            "reports": [
                {
                    **report.api_view(),
                    "reporter_name": names.get(report.reporter_id),
                    "reported_user_name": names.get(report.reported_user_id),
                }
                for report in found
            ],
            **page_fields(total=total, page=page, limit=limit),
        }

    async def resolve_report(
        self, *, actor: AdminActor, report_id: str, action: str, note: str | None
    ) -> ReportResolvedResponse:
        async def work() -> Outcome[ReportResolvedResponse]:
            try:
                chosen = ReportAction(action)
            except ValueError as exc:
                raise ValidationFailed(
                    "action must be dismiss, block_chat or deactivate_user",
                    fields=[{"field": "action", "message": "unknown action", "type": "enum"}],
                ) from exc
            now = self._clock.now()
            # MongoDB keeps milliseconds; the stored value must equal this one for the release below.
            now = now.replace(microsecond=now.microsecond // 1000 * 1000)
            resolution = ReportResolution(action=chosen.value, note=note)
            # Claimed atomically: two admins resolving at once cannot both act on the report.
            report = await claim_report_resolution(
                report_id, admin_id=actor.admin_id, resolution=resolution, at=now
            )
            if report is None:
                if await ChatReport.get(report_id) is None:
                    raise NotFound("Report not found", code="report_not_found")
                raise Conflict("Report already resolved", code="report_already_resolved")
            details: dict[str, Any] = {
                "resolution": chosen.value,
                "note": note,
                "chat_id": report.chat_id,
                "reported_user_id": report.reported_user_id,
            }
            try:
                if chosen is ReportAction.BLOCK_CHAT:
                    await self._chats.set_blocked_by_admin(chat_id=report.chat_id)
                elif chosen is ReportAction.DEACTIVATE_USER:
                    target = await User.get(report.reported_user_id)
                    if target is not None and target.is_admin:
                        raise Forbidden(
                            "Admins cannot be deactivated from a report", code="cannot_modify_admin"
                        )
                    await self._users.deactivate_user(
                        user_id=report.reported_user_id, by_admin_id=actor.admin_id
                    )
            except DomainError:
                # The action did not happen, so the report goes back to the queue.
                await release_report_claim(report_id, admin_id=actor.admin_id, resolved_at=now)
                raise
            await self._feed.publish_counts()
            return Outcome(
                result={"message": "Report resolved", "report": report.api_view()},
                old_value={"status": ReportStatus.OPEN.value},
                new_value={"status": ReportStatus.RESOLVED.value, "resolution": chosen.value},
                details=details,
            )

        return await self._audit.audited(
            actor=actor,
            action_type="report_resolve",
            entity_type="chat_report",
            entity_id=report_id,
            details={"action": action},
            work=work,
        )


async def _queue_page(*, page: int, limit: int) -> tuple[int, list[ChatReport]]:
    """A page of the whole queue: the open reports in order, then the resolved ones."""
    open_query = {"status": ReportStatus.OPEN.value}
    resolved_query = {"status": ReportStatus.RESOLVED.value}
    open_total = await ChatReport.find(open_query).count()
    total = open_total + await ChatReport.find(resolved_query).count()
    start = (page - 1) * limit
    found = (
        await ChatReport.find(open_query).sort("+created_at").skip(start).limit(limit).to_list()
        if start < open_total
        else []
    )
    if len(found) < limit:
        found += (
            await ChatReport.find(resolved_query)
            .sort("-resolved_at")
            .skip(max(0, start - open_total))
            .limit(limit - len(found))
            .to_list()
        )
    return total, found


async def _names_of(user_ids: set[str]) -> dict[str, str | None]:
    names: dict[str, str | None] = {}
    async for row in collection_of(User).find({"_id": {"$in": sorted(user_ids)}}, {"full_name": 1}):
        names[str(row["_id"])] = row.get("full_name")
    return names
