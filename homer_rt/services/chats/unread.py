"""Unread counters: each user's unread summary from the per-chat counters, and its throttled live push."""

from __future__ import annotations

import asyncio
import logging

from documents.base import collection_of
from documents.chat import Chat, ChatStatus
from homer_rt.realtime import CHAT_NAMESPACE
from homer_rt.services.chats.core import ChatCore
from homer_rt.services.chats.views import UnreadSummary

log = logging.getLogger(__name__)


class UnreadCounters(ChatCore):
    """Unread counts from the per-chat counters, and their pushes, throttled per user."""

    async def unread_summary(self, *, user_id: str) -> UnreadSummary:
        """``{unread_count, chats: {chat_id: n}}`` from the per-chat counters, never from messages."""
        rows = collection_of(Chat).find(
            {"participants": user_id, "status": ChatStatus.ACTIVE.value},
            projection={
                "renter_id": 1,
                "sent_renter": 1,
                "sent_owner": 1,
                "read_sent_renter": 1,
                "read_sent_owner": 1,
            },
        )
        chats: dict[str, int] = {}
        async for row in rows:
            if row["renter_id"] == user_id:
                count = row.get("sent_owner", 0) - row.get("read_sent_renter", 0)
            else:
                count = row.get("sent_renter", 0) - row.get("read_sent_owner", 0)
            chats[str(row["_id"])] = max(0, int(count))
        return {"unread_count": sum(chats.values()), "chats": chats}

    async def unread_total(self, *, user_id: str) -> int:
        return (await self.unread_summary(user_id=user_id))["unread_count"]

    def _unread_changed(self, user_id: str) -> None:
        """A new message changed ``user_id``'s unread counts. The first change after a quiet spell is pushed
        at once; later ones wait for the end of ``unread_push_interval`` and go out as one push with the
        counts as they are then. A burst of messages to one user costs a couple of count queries and events,
        not one per message; the messages themselves always go out at once."""
        if user_id in self._unread_windows:
            self._unread_windows[user_id] = True
            return
        self._unread_windows[user_id] = False
        self._spawn(self._push_unread_throttled(user_id), f"unread-push:{user_id}")

    async def _push_unread_throttled(self, user_id: str) -> None:
        try:
            while True:
                try:
                    await self._push_unread(user_id)
                except Exception:  # logged, not raised: nobody awaits this task, the next change pushes again
                    log.exception("unread_count push to %s failed", user_id)
                await asyncio.sleep(self._unread_push_interval)
                if not self._unread_windows.get(user_id):
                    return
                self._unread_windows[user_id] = False
        finally:
            self._unread_windows.pop(user_id, None)

    async def _push_unread(self, user_id: str) -> None:
        summary = await self.unread_summary(user_id=user_id)
        await self._emitter.to_user(user_id, "unread_count", summary, namespace=CHAT_NAMESPACE)
