"""Chats as lists and screens show them: list rows, a chat with a page of messages, presence."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from documents.base import collection_of
from documents.chat import Chat, ChatMessage, ChatStatus, RecentMessage
from documents.property import Property
from documents.user import User
from homer_rt.services.chats.presence import ChatPresence
from homer_rt.services.chats.reading import ChatPage, MessageReading
from homer_rt.services.chats.views import ChatPageView, ChatPropertyView, ChatSummaryView


class ChatSummaries(MessageReading, ChatPresence):
    """List rows and chat views: a chat with its listing, the other participant and a page of messages."""

    async def list_chats(self, *, user_id: str, page: int, limit: int) -> list[ChatSummaryView]:
        # A list row needs only the newest of the chat's recent messages. An inclusion projection with
        # $slice behaves the same on MongoDB and the embedded store (a bare $slice does not).
        fields: dict[str, Any] = {name: 1 for name in Chat.model_fields if name not in ("id", "recent")}
        fields["recent"] = {"$slice": -1}
        rows = (
            collection_of(Chat)
            .find({"participants": user_id, "status": ChatStatus.ACTIVE.value}, projection=fields)
            .sort([("last_message_at", -1), ("_id", 1)])
            .skip((page - 1) * limit)
            .limit(limit)
        )
        chats = [Chat.model_validate(row) async for row in rows]
        for chat in chats:
            if chat.last_seq and chat.last_message is None:
                # The newest entry is a seq a retry reserved and gave back (rare): the row's last message is
                # the newest stored one, which is older than any entry the slice returned.
                newest = await self._newest(chat.id, {"$lte": chat.last_seq}, 1)
                chat.recent = [newest[0].as_recent().packed()] if newest else []
        properties = await self._properties({c.property_id for c in chats})
        users = await self._users({c.other_participant(user_id) for c in chats})
        return [
            self._summary(
                chat, user_id, properties.get(chat.property_id), users.get(chat.other_participant(user_id))
            )
            for chat in chats
        ]

    async def chat_summary(
        self, *, chat: Chat, viewer_id: str, messages: Sequence[ChatMessage | RecentMessage] | None = None
    ) -> ChatSummaryView:
        """One chat as the list shows it, or with ``messages`` (a page) when given."""
        prop = await Property.get(chat.property_id)
        other = await User.get(chat.other_participant(viewer_id))
        view = self._summary(chat, viewer_id, prop, other)
        if messages is not None:
            view["messages"] = [chat.message_view(m) for m in messages]
        return view

    async def page_view(self, *, page: ChatPage, viewer_id: str) -> ChatPageView:
        view = await self.chat_summary(chat=page.chat, viewer_id=viewer_id)
        return {
            **view,
            "messages": page.messages,
            "has_more": page.has_more,
            "other_presence": await self.presence_of(page.chat.other_participant(viewer_id)),
        }

    def _summary(
        self, chat: Chat, viewer_id: str, prop: Property | None, other: User | None
    ) -> ChatSummaryView:
        view = chat.api_view(viewer_id=viewer_id)
        listing: ChatPropertyView | None = (
            {
                "property_id": prop.id,
                "title": prop.title,
                "image": prop.images[0] if prop.images else None,
                "status": prop.status.value,
            }
            if prop is not None
            else None
        )
        return {
            **view,
            "messages": [view["last_message"]] if view["last_message"] else [],
            "property": listing,
            "property_title": prop.title if prop is not None else None,
            "property_image": prop.images[0] if prop is not None and prop.images else None,
            "other_participant": other.public_view() if other is not None else None,
        }

    async def _properties(self, ids: Iterable[str]) -> dict[str, Property]:
        wanted = list(ids)
        if not wanted:
            return {}
        return {p.id: p for p in await Property.find({"_id": {"$in": wanted}}).to_list()}

    async def _users(self, ids: Iterable[str]) -> dict[str, User]:
        wanted = list(ids)
        if not wanted:
            return {}
        return {u.id: u for u in await User.find({"_id": {"$in": wanted}}).to_list()}
