"""Moderation: a participant blocks or unblocks a chat or reports it; an admin blocks it."""

from __future__ import annotations

from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from documents.base import collection_of
from documents.chat import Chat, ChatReport, ChatStatus, ReportStatus, report_id_for
from homer_rt.errors import Conflict, Forbidden
from homer_rt.services.chats.core import ChatCore, chat_not_found


class ChatModeration(ChatCore):
    async def block(self, *, chat_id: str, user_id: str) -> Chat:
        chat = await self.get_for_participant(chat_id=chat_id, user_id=user_id)
        if chat.status == ChatStatus.BLOCKED:
            return chat
        updated = await collection_of(Chat).find_one_and_update(
            {"_id": chat.id, "status": {"$ne": ChatStatus.BLOCKED.value}},
            {
                "$set": {
                    "status": ChatStatus.BLOCKED.value,
                    "blocked_by": user_id,
                    "blocked_at": self._clock.now(),
                    "blocked_by_admin": False,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        return Chat.model_validate(updated) if updated is not None else await self._reload(chat.id)

    async def unblock(self, *, chat_id: str, user_id: str) -> Chat:
        chat = await self.get_for_participant(chat_id=chat_id, user_id=user_id)
        if chat.status != ChatStatus.BLOCKED:
            return chat
        if chat.blocked_by_admin:
            raise Forbidden("This chat was blocked by Homer's moderators", code="blocked_by_admin")
        if chat.blocked_by != user_id:
            raise Forbidden("Only the participant who blocked this chat can unblock it", code="not_blocker")
        updated = await collection_of(Chat).find_one_and_update(
            {
                "_id": chat.id,
                "status": ChatStatus.BLOCKED.value,
                "blocked_by": user_id,
                "blocked_by_admin": False,
            },
            {"$set": {"status": ChatStatus.ACTIVE.value, "blocked_by": None, "blocked_at": None}},
            return_document=ReturnDocument.AFTER,
        )
        return Chat.model_validate(updated) if updated is not None else await self._reload(chat.id)

    async def set_blocked_by_admin(self, *, chat_id: str, blocked: bool = True) -> Chat:
        """Moderation: an admin-blocked chat takes no messages and its participants cannot unblock it."""
        change: dict[str, Any] = (
            {
                "status": ChatStatus.BLOCKED.value,
                "blocked_by": None,
                "blocked_at": self._clock.now(),
                "blocked_by_admin": True,
            }
            if blocked
            else {
                "status": ChatStatus.ACTIVE.value,
                "blocked_by": None,
                "blocked_at": None,
                "blocked_by_admin": False,
            }
        )
        updated = await collection_of(Chat).find_one_and_update(
            {"_id": chat_id}, {"$set": change}, return_document=ReturnDocument.AFTER
        )
        if updated is None:
            raise chat_not_found()
        chat: Chat = Chat.model_validate(updated)
        return chat

    async def report(self, *, chat_id: str, user_id: str, reason: str) -> ChatReport:
        """File a report for admins; a reporter has at most one open report per chat (409 while it is)."""
        chat = await self.get_for_participant(chat_id=chat_id, user_id=user_id)
        mine = {"chat_id": chat.id, "reporter_id": user_id}
        number = 0
        while True:
            pending = await ChatReport.find_one({**mine, "status": ReportStatus.OPEN.value})
            if pending is not None:
                raise Conflict(
                    "You already reported this chat; our team is reviewing it",
                    code="report_already_open",
                    extra={"report_id": pending.id},
                )
            # Numbered by how many this reporter filed: reports filed at once share the id, and the primary
            # key lets one in; the others look again and find it open.
            number = max(number, await ChatReport.find(mine).count())
            report = ChatReport(
                id=report_id_for(chat.id, user_id, number),
                chat_id=chat.id,
                reporter_id=user_id,
                reported_user_id=chat.other_participant(user_id),
                reason=reason.strip(),
                created_at=self._clock.now(),
            )
            try:
                await report.insert()
            except DuplicateKeyError:
                number += 1  # taken (by a report since resolved, or the one that won): look again
                continue
            break
        if self._admin_feed is not None:
            await self._admin_feed.publish_counts()
        return report
