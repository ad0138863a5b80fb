"""The /chat namespace: the same ChatService calls as the REST routes, over Socket.IO with acks.

Live messages go to each participant's ``user:<id>`` room, so a client receives every chat of its user
without joining; ``join_chat`` opens a chat (its latest page, and marks it read) and puts the connection in
the room ``chat:<id>`` until ``leave_chat``. Per-connection state (the typing throttle) lives in the session.
"""

from __future__ import annotations

import contextlib
from typing import Any

from documents.chat import MessageView
from handlers.sockets.base import AuthenticatedNamespace, acked, parse_payload
from homer_rt.clock import Clock
from homer_rt.errors import ValidationFailed
from homer_rt.live_sockets import LiveSockets
from homer_rt.services.auth import AuthService
from homer_rt.services.chats import ChatService
from homer_rt.services.chats.commands import ChatRef, JoinChat, MarkRead, SendMessageEvent, Sync, Typing
from homer_rt.services.chats.views import (
    ChatPageView,
    ChatRefAck,
    MarkReadAck,
    SyncResponse,
    TypingAck,
)

TYPING_REPEAT_SECONDS = 2.0


class ChatNamespace(AuthenticatedNamespace):
    def __init__(
        self, namespace: str, *, auth: AuthService, sockets: LiveSockets, chats: ChatService, clock: Clock
    ) -> None:
        super().__init__(namespace, auth=auth, sockets=sockets)
        self._chats = chats
        self._clock = clock

    async def connected(self, sid: str, user_id: str) -> None:
        # Taken out of presence here, or the user would stay online: a connection whose connect fails (no
        # on_disconnect follows), and one whose client left while presence counted it (its on_disconnect
        # may have run before the count landed in Redis).
        try:
            await self._chats.connection_opened(user_id=user_id, sid=sid)
            await self.emit("unread_count", await self._chats.unread_summary(user_id=user_id), to=sid)
        except BaseException:
            with contextlib.suppress(Exception):
                await self._chats.connection_closed(user_id=user_id, sid=sid)
            raise
        if not self._transport_open(sid):
            await self._chats.connection_closed(user_id=user_id, sid=sid)

    async def disconnected(self, sid: str, user_id: str) -> None:
        await self._chats.connection_closed(user_id=user_id, sid=sid)

    @acked
    async def on_join_chat(self, sid: str, data: Any = None) -> ChatPageView:
        payload = parse_payload(JoinChat, data)
        user_id = await self.user_id(sid)
        page = await self._chats.open_chat(chat_id=payload.chat_id, user_id=user_id, limit=payload.limit)
        await self.enter_room(sid, f"chat:{page.chat.id}")
        return await self._chats.page_view(page=page, viewer_id=user_id)

    @acked
    async def on_leave_chat(self, sid: str, data: Any = None) -> ChatRefAck:
        payload = parse_payload(ChatRef, data)
        # Refused like every other chat event, though leaving a room one never joined changes nothing.
        chat = await self._chats.get_for_participant(chat_id=payload.chat_id, user_id=await self.user_id(sid))
        await self.leave_room(sid, f"chat:{chat.id}")
        return {"chat_id": chat.id}

    @acked
    async def on_send_message(self, sid: str, data: Any = None) -> MessageView:
        payload = parse_payload(SendMessageEvent, data)
        result = await self._chats.send(
            chat_id=payload.chat_id,
            user_id=await self.user_id(sid),
            message=payload.message,
            attachments=list(payload.attachments),
            client_msg_id=payload.client_msg_id,
            origin_sid=sid,
        )
        return result.view()

    @acked
    async def on_typing(self, sid: str, data: Any = None) -> TypingAck:
        payload = parse_payload(Typing, data)
        user_id = await self.user_id(sid)
        chat = await self._chats.get_for_participant(chat_id=payload.chat_id, user_id=user_id)
        self._chats.check_sendable(chat)
        session = await self.get_session(sid)
        # The state this connection last forwarded per chat, and when.
        throttle: dict[str, tuple[bool, float]] = session.setdefault("typing", {})
        now = self._clock.monotonic()
        previous = throttle.get(chat.id)
        # A repeated "still typing" goes out at most every couple of seconds; a change of state goes out
        # within the user's typing budget (ChatService.take_typing_turn).
        if (
            previous is not None
            and previous[0] == payload.is_typing
            and now - previous[1] < TYPING_REPEAT_SECONDS
        ):
            return {"chat_id": chat.id, "forwarded": False}
        wait = self._chats.take_typing_turn(
            chat_id=chat.id,
            user_id=user_id,
            clears_indicator=not payload.is_typing and previous is not None and previous[0],
        )
        if wait:
            return {"chat_id": chat.id, "forwarded": False, "retry_after": wait}
        # Recorded before the emit yields: a burst on this connection then sees it.
        throttle[chat.id] = (payload.is_typing, now)
        await self._chats.typing(chat=chat, user_id=user_id, is_typing=payload.is_typing)
        return {"chat_id": chat.id, "forwarded": True}

    @acked
    async def on_mark_read(self, sid: str, data: Any = None) -> MarkReadAck:
        payload = parse_payload(MarkRead, data)
        user_id = await self.user_id(sid)
        chat = await self._chats.mark_read(chat_id=payload.chat_id, user_id=user_id, up_to=payload.up_to)
        return {"chat_id": chat.id, "unread_count": chat.unread_for(user_id)}

    @acked
    async def on_sync(self, sid: str, data: Any = None) -> SyncResponse:
        payload = parse_payload(Sync, data)
        user_id = await self.user_id(sid)
        if payload.chats is not None:
            return await self._chats.sync_by_seq(user_id=user_id, known=payload.chats)
        if payload.since is not None:
            return await self._chats.sync_since(user_id=user_id, since=payload.since)
        raise ValidationFailed(
            "sync needs {chats: {chat_id: last_seq}} or {since: timestamp}",
            fields=[{"field": "chats", "message": "or since", "type": "missing"}],
        )
