"""Reading a chat: a page of its message window, and read marks (each a prefix of the chat)."""

from __future__ import annotations

from dataclasses import dataclass

from beanie import SortDirection

from documents import chat_writes
from documents.base import collection_of
from documents.chat import Chat, ChatMessage, MessageView, iso_stamp
from homer_rt.realtime import CHAT_NAMESPACE
from homer_rt.services.chats.core import chat_not_found, to_ms
from homer_rt.services.chats.paging import PageBounds, older_exist
from homer_rt.services.chats.unread import UnreadCounters
from homer_rt.services.chats.views import ReadEvent


@dataclass(frozen=True, slots=True)
class ChatPage:
    """A page of an opened chat: the chat as read (after marking it read) and its messages."""

    chat: Chat
    messages: list[MessageView]  # as the API shows them (Chat.message_view), oldest first
    has_more: bool


class MessageReading(UnreadCounters):
    """Pages of a chat's messages, from its window when it holds them, and read marks with their receipts."""

    async def open_chat(
        self, *, chat_id: str, user_id: str, before_seq: int | None = None, limit: int | None = None
    ) -> ChatPage:
        """A page of messages, oldest first; the latest page also marks the other side's messages read."""
        chat = await self.get_for_participant(chat_id=chat_id, user_id=user_id)
        if before_seq is None and chat.unread_for(user_id) > 0:
            chat = await self._mark_read(chat=chat, reader_id=user_id, up_to=None)
        bounds = PageBounds.of(
            last_seq=chat.last_seq, before_seq=before_seq, limit=limit, default_size=self._page_size
        )
        from_recent = chat.page_from_window(before=bounds.upper, size=bounds.size)
        if from_recent is not None:
            oldest = from_recent[0]["seq"] if from_recent else None
            return ChatPage(chat=chat, messages=from_recent, has_more=older_exist(oldest))
        newest_first = await self._newest(
            chat.id, {"$gte": bounds.lower, "$lt": bounds.upper}, bounds.size + 1
        )
        if bounds.range_had_gap(len(newest_first)):
            newest_first = await self._newest(chat.id, {"$lt": bounds.upper}, bounds.size + 1)
        page, has_more = bounds.page(newest_first)
        return ChatPage(chat=chat, messages=[chat.message_view(m) for m in page], has_more=has_more)

    async def _newest(self, chat_id: str, seq_range: dict[str, int], limit: int) -> list[ChatMessage]:
        return (
            await ChatMessage.find({"chat_id": chat_id, "seq": seq_range})
            .sort([("seq", SortDirection.DESCENDING)])
            .limit(limit)
            .to_list()
        )

    async def mark_read(self, *, chat_id: str, user_id: str, up_to: int | None = None) -> Chat:
        chat = await self.get_for_participant(chat_id=chat_id, user_id=user_id)
        return await self._mark_read(chat=chat, reader_id=user_id, up_to=up_to)

    async def _mark_read(self, *, chat: Chat, reader_id: str, up_to: int | None) -> Chat:
        other_id = chat.other_participant(reader_id)
        if up_to is None or up_to >= chat.last_seq:
            # last_seq and the other side's sent count come from one read of the chat, so they describe
            # the same prefix: a message sent after it has a higher seq and stays unread.
            through, read_sent = chat.last_seq, chat.sent_by(other_id)
        else:
            through, read_sent = up_to, await self._sent_through(chat, other_id, up_to)
        if through <= chat.read_seq_of(reader_id) and read_sent <= chat.read_sent_of(reader_id):
            return chat
        reader = chat.role_of(reader_id)
        after = await chat_writes.raise_read_marks(
            chat.id, reader=reader, through=through, read_sent=read_sent
        )
        if after is None:
            raise chat_not_found()
        if after.read_seq_of(reader_id) > chat.read_seq_of(reader_id):
            event: ReadEvent = {
                "chat_id": chat.id,
                "reader_id": reader_id,
                "up_to": after.read_seq_of(reader_id),
                "read_at": iso_stamp(to_ms(self._clock.now())),
            }
            await self._emitter.to_user(other_id, "read", event, namespace=CHAT_NAMESPACE)
        await self._push_unread(reader_id)
        return after

    async def _sent_through(self, chat: Chat, sender_id: str, seq: int) -> int:
        """How many of ``sender_id``'s messages have a seq up to ``seq``."""
        later = chat.recent_window(after=seq, before=chat.last_seq + 1)
        if later is not None:
            return chat.sent_by(sender_id) - sum(1 for m in later if m.sender_id == sender_id)
        return int(
            await collection_of(ChatMessage).count_documents(
                {"chat_id": chat.id, "sender_id": sender_id, "seq": {"$lte": seq}}
            )
        )
