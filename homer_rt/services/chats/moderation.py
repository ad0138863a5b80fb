"""Moderation: a participant blocks or unblocks a chat or reports it; an admin blocks it."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from documents import chat_writes
from documents.chat import Chat, ChatReport, ChatStatus, ReportStatus
from homer_rt.errors import Conflict, Forbidden
from homer_rt.services.chats.core import ChatCore, chat_not_found


class ChatModeration(ChatCore):
    """A participant blocks, unblocks or reports a chat; a moderator blocks it (or lifts the block)."""

    async def block(self, *, chat_id: str, user_id: str) -> Chat:
        chat = await self.get_for_participant(chat_id=chat_id, user_id=user_id)
        if chat.status == ChatStatus.BLOCKED:
            return chat
        updated = await chat_writes.block_by_participant(chat.id, user_id=user_id, at=self._clock.now())
        return updated if updated is not None else await self._reload(chat.id)

    async def unblock(self, *, chat_id: str, user_id: str) -> Chat:
        chat = await self.get_for_participant(chat_id=chat_id, user_id=user_id)
        if chat.status != ChatStatus.BLOCKED:
            return chat
        if chat.blocked_by_admin:
            raise Forbidden("This chat was blocked by Homer's moderators", code="blocked_by_admin")
        if chat.blocked_by != user_id:
            raise Forbidden("Only the participant who blocked this chat can unblock it", code="not_blocker")
        updated = await chat_writes.unblock_by_participant(chat.id, user_id=user_id)
        return updated if updated is not None else await self._reload(chat.id)

    async def set_blocked_by_admin(self, *, chat_id: str, blocked: bool = True) -> Chat:
        """Moderation: an admin-blocked chat takes no messages and its participants cannot unblock it."""
        chat = await chat_writes.set_admin_block(chat_id, blocked=blocked, at=self._clock.now())
        if chat is None:
            raise chat_not_found()
        return chat

    async def report(self, *, chat_id: str, user_id: str, reason: str) -> ChatReport:
        """File a report for admins; a reporter has at most one open report per chat (409 while it is)."""
        chat = await self.get_for_participant(chat_id=chat_id, user_id=user_id)
        while True:
            # By the index that keeps one open report per reporter and chat (ChatReport's "one_open_report").
            pending = await ChatReport.find_one(
                {"chat_id": chat.id, "reporter_id": user_id, "status": ReportStatus.OPEN.value}
            )
            if pending is not None:
                raise Conflict(
                    "You already reported this chat; our team is reviewing it",
                    code="report_already_open",
                    extra={"report_id": pending.id},
                )
            report = ChatReport(
                chat_id=chat.id,
                reporter_id=user_id,
                reported_user_id=chat.other_participant(user_id),
                reason=reason.strip(),
                created_at=self._clock.now(),
            )
            try:
                await report.insert()
            except DuplicateKeyError:
                continue  # another report of this reporter's is open (filed at the same time): look again
            break
        if self._admin_feed is not None:
            await self._admin_feed.publish_counts()
        return report
