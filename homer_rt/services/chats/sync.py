"""Catching up after a disconnect: what a client missed, by seq or since a time."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta

from beanie import SortDirection

from documents.chat import Chat, ChatMessage, RecentMessage
from homer_rt.clock import as_utc
from homer_rt.services.chats.core import ChatCore, to_ms
from homer_rt.services.chats.views import SyncEntry, SyncResponse

MAX_SYNC_MESSAGES = 500
STAMP_MARGIN = timedelta(seconds=5)


class ChatSync(ChatCore):
    """What a reconnecting client missed, from the chats' windows where they reach back far enough."""

    async def sync_by_seq(self, *, user_id: str, known: dict[str, int]) -> SyncResponse:
        """For each named chat, the messages after the client's last seq, oldest first."""
        result: dict[str, SyncEntry] = {}
        for chat_id, last_seq in known.items():
            chat = await self.get_for_participant(chat_id=chat_id, user_id=user_id)
            missed: Sequence[ChatMessage | RecentMessage] | None = chat.recent_window(
                after=last_seq, before=chat.last_seq + 1
            )
            if missed is None:
                missed = (
                    await ChatMessage.find({"chat_id": chat.id, "seq": {"$gt": last_seq}})
                    .sort([("seq", SortDirection.ASCENDING)])
                    .limit(MAX_SYNC_MESSAGES + 1)
                    .to_list()
                )
            result[chat.id] = self._sync_entry(chat, missed)
        return {"chats": result}

    async def sync_since(self, *, user_id: str, since: datetime) -> SyncResponse:
        """Every message in the user's chats stamped at or after ``since`` (new chats included), grouped by
        chat, each chat's oldest first. Only chats active since then are read. Stamps are milliseconds, and
        several messages can share one: a client passing the stamp of the last message it holds gets that
        one again (it knows its seq) rather than lose another stamped in the same millisecond."""
        since = to_ms(as_utc(since))  # as stamps are: the window and the collection then answer alike
        active = await Chat.find({"participants": user_id, "last_message_at": {"$gte": since}}).to_list()
        result: dict[str, SyncEntry] = {}
        for chat in active:
            missed: Sequence[ChatMessage | RecentMessage] | None = None
            window = chat.recent_window(after=0, before=chat.last_seq + 1)
            # Stamps follow seqs up to the few milliseconds between stamping and reserving; the margin makes
            # sure nothing older than the window was stamped after ``since``.
            oldest = next(iter(chat.recent_messages), None)
            if window is None and oldest is not None and as_utc(oldest.timestamp) <= since - STAMP_MARGIN:
                window = chat.recent_window(after=oldest.seq - 1, before=chat.last_seq + 1)
            if window is not None:
                missed = [m for m in window if as_utc(m.timestamp) >= since]
            else:
                missed = (
                    await ChatMessage.find({"chat_id": chat.id, "timestamp": {"$gte": since}})
                    .sort([("seq", SortDirection.ASCENDING)])
                    .limit(MAX_SYNC_MESSAGES + 1)
                    .to_list()
                )
            if missed:
                result[chat.id] = self._sync_entry(chat, missed)
        return {"chats": result}

    def _sync_entry(self, chat: Chat, messages: Sequence[ChatMessage | RecentMessage]) -> SyncEntry:
        page = messages[:MAX_SYNC_MESSAGES]
        return {
            "messages": [chat.message_view(m) for m in page],
            "last_seq": chat.last_seq,
            "status": chat.status.value,
            "has_more": len(messages) > MAX_SYNC_MESSAGES,
        }
