"""Who is online and who is typing, told to a user's chat partners."""

from __future__ import annotations

from documents.base import collection_of
from documents.chat import Chat
from homer_rt.presence import Presence, PresenceView
from homer_rt.realtime import CHAT_NAMESPACE
from homer_rt.services.chats.core import ChatCore
from homer_rt.services.chats.views import TypingEvent


class ChatPresence(ChatCore):
    """Online, offline and typing, announced to the people a user chats with."""

    async def connection_opened(self, *, user_id: str, sid: str) -> None:
        """A user's first live connection, in any process, announces them online."""
        if await self._presence.opened(user_id=user_id, sid=sid):
            await self._announce(user_id, Presence(online=True, last_seen=None))

    async def connection_closed(self, *, user_id: str, sid: str) -> None:
        """A user's last live connection, in any process, announces them offline with their last-seen time."""
        went_offline_at = await self._presence.closed(user_id=user_id, sid=sid)
        if went_offline_at is not None:
            await self._announce(user_id, Presence(online=False, last_seen=went_offline_at))

    async def presence_of(self, user_id: str) -> PresenceView:
        return (await self._presence.presence(user_id)).api_view(user_id)

    async def partners_of(self, user_id: str) -> list[str]:
        rows = collection_of(Chat).find({"participants": user_id}, projection={"renter_id": 1, "owner_id": 1})
        partners = set()
        async for row in rows:
            partners.add(row["owner_id"] if row["renter_id"] == user_id else row["renter_id"])
        return sorted(partners)

    async def _announce(self, user_id: str, presence: Presence) -> None:
        """Tell the user's partners what just happened, not a fresh read that a racing change could alter."""
        partners = await self.partners_of(user_id)
        if partners:
            await self._emitter.to_users(
                partners, "presence", presence.api_view(user_id), namespace=CHAT_NAMESPACE
            )

    # ---- typing ---------------------------------------------------------------------------------

    def take_typing_turn(self, *, chat_id: str, user_id: str, clears_indicator: bool) -> int:
        """Whether ``user_id`` may show a typing change in the chat now: at most CHAT_TYPING_EVENTS_PER_10S
        per user and chat. A stop that clears an indicator the caller's connection showed
        (``clears_indicator``) always may, uncounted, so the other side's indicator is never left on; there
        is at most one per counted start. 0 when it may (and the turn is taken), else the seconds to wait."""
        if clears_indicator:
            return 0
        return self._typing_limiter.try_acquire(f"{user_id}:{chat_id}")

    async def typing(self, *, chat: Chat, user_id: str, is_typing: bool) -> None:
        event: TypingEvent = {"chat_id": chat.id, "user_id": user_id, "is_typing": is_typing}
        await self._emitter.to_user(
            chat.other_participant(user_id), "typing", event, namespace=CHAT_NAMESPACE
        )
