"""Sending a message: its checks, its seq reservation, its idempotent insert and its delivery."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from dataclasses import dataclass
from typing import NoReturn

from pymongo.errors import DuplicateKeyError

from documents import chat_writes
from documents.base import collection_of, new_id
from documents.chat import (
    Chat,
    ChatMessage,
    ChatParties,
    MessageView,
    RecentMessage,
)
from documents.chat_ids import message_id_for
from homer_rt.errors import BadRequest, DomainError, Forbidden, NotFound, RateLimited
from homer_rt.realtime import CHAT_NAMESPACE
from homer_rt.services.chats.core import CHAT_UPLOAD_AREA, chat_not_found, to_ms
from homer_rt.services.chats.directory import KnownChat
from homer_rt.services.chats.send_rules import (
    check_attachment_count,
    check_client_msg_id,
    check_sendable,
    check_text,
)
from homer_rt.services.chats.unread import UnreadCounters
from homer_rt.services.chats.views import MessageEvent

log = logging.getLogger(__name__)


@dataclass(slots=True)
class SendResult:
    """A send's outcome: the stored message, and whether this call stored it or answered a retry."""

    message: RecentMessage
    created: bool  # True for the one call that stored the message (and delivers it); False for a retry
    chat: ChatParties
    is_read: bool = False  # a new message is unread; a retried one may have been read since
    _view: MessageView | None = None

    def view(self) -> MessageView:
        """The message as clients see it; built once, for the live copy and the sender's answer alike."""
        if self._view is None:
            self._view = self.message.api_view(chat_id=self.chat.id, is_read=self.is_read)
        return self._view


class MessageSending(UnreadCounters):
    """Store a message once (whatever retries and races) under the chat's next seq, and deliver it."""

    async def _check_attachments(self, *, chat_id: str, user_id: str, attachments: list[str]) -> None:
        if not attachments:
            return
        check_attachment_count(attachments)
        # One update checks them all and marks them sent, so the cleanup of unsent uploads keeps them. It
        # comes before the message is stored: a file the cleanup removed first is refused here, never
        # carried by a message. (A send refused after it leaves them marked: kept, in their owner's quota.)
        if self._uploads is None or not await self._uploads.reference_all(
            urls=attachments, uploader_id=user_id, area=CHAT_UPLOAD_AREA, owner_segment=chat_id
        ):
            raise BadRequest(
                "Attachments must be files you uploaded to this chat "
                f"(POST /api/chats/{chat_id}/attachments); one of them is not, or was removed unsent",
                code="invalid_attachment",
            )

    async def send(
        self,
        *,
        chat_id: str,
        user_id: str,
        message: str,
        attachments: list[str] | None = None,
        client_msg_id: str | None = None,
        origin_sid: str | None = None,
    ) -> SendResult:
        """Store and deliver a message. ``origin_sid`` is the sending connection: it has the message in its
        ack, so the live copy goes to every other connection of both participants."""
        started = time.perf_counter()
        try:
            result = await self._send(
                chat_id=chat_id,
                user_id=user_id,
                message=message,
                attachments=attachments,
                client_msg_id=client_msg_id,
                origin_sid=origin_sid,
            )
        except DomainError as error:
            self._metrics.chat_messages_refused.labels(code=error.code).inc()
            raise
        finally:
            self._send_seconds.observe(time.perf_counter() - started)
        if result.created:
            self._messages_sent.inc()
        return result

    async def _send(
        self,
        *,
        chat_id: str,
        user_id: str,
        message: str,
        attachments: list[str] | None,
        client_msg_id: str | None,
        origin_sid: str | None,
    ) -> SendResult:
        attachments = list(attachments or [])
        text = check_text(message, attachments=attachments, max_chars=self._max_message_chars)
        check_client_msg_id(client_msg_id)
        known = await self._known_chat(chat_id=chat_id, user_id=user_id)
        client_msg_id = client_msg_id or new_id()
        answered = known.stored.get((user_id, client_msg_id))
        if answered is not None:
            # A retry of a message this process stored: answered from memory, before the rate limit, as it
            # sends nothing (a resent burst is not refused, and costs no scan of the messages).
            return await self._retry_answer(known.parties, RecentMessage.unpack(answered))
        wait = self._send_limiter.try_acquire(user_id)
        if wait:
            raise RateLimited(f"Too many messages; try again in {wait} s", retry_after=wait)
        await self._check_attachments(chat_id=chat_id, user_id=user_id, attachments=attachments)
        result = await self._append(
            parties=known.parties,
            expected_seq=known.last_seq,
            sender_id=user_id,
            text=text,
            attachments=attachments,
            client_msg_id=client_msg_id,
        )
        if result.created:
            await self._deliver(result, origin_sid=origin_sid)
        return result

    def check_sendable(self, chat: Chat) -> None:
        check_sendable(chat.status)

    async def _known_chat(self, *, chat_id: str, user_id: str) -> KnownChat:
        """What this process knows of the chat, checked for the participant; read once per chat and process.
        Whether the chat takes messages is checked by the send's own update."""
        known = self._directory.get(chat_id)
        if known is None:
            row = await collection_of(Chat).find_one(
                {"_id": chat_id}, projection={"renter_id": 1, "owner_id": 1, "last_seq": 1}
            )
            if row is None:
                raise chat_not_found()
            parties = ChatParties(id=str(row["_id"]), renter_id=row["renter_id"], owner_id=row["owner_id"])
            known = self._directory.remember(parties, int(row.get("last_seq", 0)))
        if not known.parties.is_participant(user_id):
            raise chat_not_found()
        return known

    async def _append(
        self,
        *,
        parties: ChatParties,
        expected_seq: int,
        sender_id: str,
        text: str,
        attachments: list[str],
        client_msg_id: str,
    ) -> SendResult:
        role = parties.role_of(sender_id)
        message = RecentMessage(
            message_id=message_id_for(parties.id, sender_id, client_msg_id),
            seq=expected_seq + 1,
            sender_id=sender_id,
            sender_type=role,
            message=text,
            timestamp=to_ms(self._clock.now()),
            attachments=attachments,
            client_msg_id=client_msg_id,
        )
        reserved = await self._reserve(parties=parties, message=message)
        if reserved is None:
            # The chat takes no messages; a retry of one it took before still gets its answer.
            earlier = await ChatMessage.get(message.message_id)
            if earlier is not None:
                return await self._retry_answer(parties, earlier.as_recent())
            await self._refuse_send(parties.id)
        message, entry = reserved
        try:
            stored_here = await self._insert(message, chat_id=parties.id)
        except asyncio.CancelledError:
            # Left reserved: the insert may have landed, and a counted message with its window entry is the
            # state a landed insert needs. Only a cancelled server task gets here.
            raise
        except Exception:
            with contextlib.suppress(Exception):
                await self._release(parties, message, entry)
            raise
        if not stored_here:
            # A retry through another process, or of a message this one has forgotten: it is stored under
            # an earlier seq, so this reservation is undone and the stored message is the answer.
            await self._release(parties, message, entry)
            return await self._stored_result(parties, message_id=message.message_id)
        self._directory.stored(parties, message, entry)
        return SendResult(message, created=True, chat=parties)

    async def _insert(self, message: RecentMessage, *, chat_id: str) -> bool:
        """Insert a reserved message; False when the primary key refuses it because an earlier send of it
        is stored. A failed insert is tried once more, since it may have landed (a connection lost after
        the write): the second try's refusal then tells whether the stored message is this one."""
        collection = collection_of(ChatMessage)
        row = ChatMessage.row_of(message, chat_id=chat_id)
        try:
            await collection.insert_one(row)
        except DuplicateKeyError:
            return False
        except Exception:
            log.warning("inserting message %s failed; trying once more", message.message_id, exc_info=True)
            try:
                await collection.insert_one(row)
            except DuplicateKeyError:
                stored = await ChatMessage.get(message.message_id)
                return stored is not None and stored.seq == message.seq
        return True

    async def _retry_answer(self, parties: ChatParties, message: RecentMessage) -> SendResult:
        """A stored message as the answer to a retry: not delivered again, read if its recipient has."""
        row = await collection_of(Chat).find_one(
            {"_id": parties.id}, projection={"read_seq_renter": 1, "read_seq_owner": 1}
        )
        recipient_is_owner = message.sender_id == parties.renter_id
        read_seq = int((row or {}).get("read_seq_owner" if recipient_is_owner else "read_seq_renter", 0))
        return SendResult(message, created=False, chat=parties, is_read=message.seq <= read_seq)

    async def _stored_result(self, parties: ChatParties, *, message_id: str) -> SendResult:
        stored = await ChatMessage.get(message_id)
        if stored is None:
            raise NotFound("Message not found", code="message_not_found")
        return await self._retry_answer(parties, stored.as_recent())

    async def _reserve(
        self, *, parties: ChatParties, message: RecentMessage
    ) -> tuple[RecentMessage, str] | None:
        """Give ``message`` the chat's next seq, count it for its sender and put it in the recent window;
        the message as reserved (its seq may differ from the expected one) with its packed window entry, or
        None when the chat is gone or takes no messages.

        When the chat's last_seq is the one this process expected, that is one compare-and-set update: the
        seq is last_seq + 1 and, being the newest, the entry is appended (the window stays sorted without
        $sort). Otherwise ``$inc`` reserves one (atomic on the one chat document, so seqs stay unique) and a
        second update pushes the entry sorted. Either update refuses a chat that is not active."""
        entry = message.packed()
        sender, stamp = message.sender_type, message.timestamp
        if await chat_writes.append_message(
            parties.id, seq=message.seq, sender=sender, timestamp=stamp, entry=entry
        ):
            self._directory.remember(parties, message.seq)
            return message, entry
        seq = await chat_writes.reserve_seq(parties.id, sender=sender, timestamp=stamp)
        if seq is None:
            return None
        message = message.model_copy(update={"seq": seq})
        entry = message.packed()
        self._directory.remember(parties, message.seq)
        await chat_writes.insert_window_entry(parties.id, entry)
        return message, entry

    async def _refuse_send(self, chat_id: str) -> NoReturn:
        """Why a chat refused a message: it is gone, blocked or archived."""
        self.check_sendable(await self._reload(chat_id))
        raise Forbidden("This chat takes no new messages", code="chat_closed")

    async def _release(self, parties: ChatParties, message: RecentMessage, entry: str) -> None:
        """Undo a reservation whose message this send did not store (chat_writes.release_seq)."""
        await chat_writes.release_seq(parties.id, seq=message.seq, sender=message.sender_type, entry=entry)

    async def _deliver(self, result: SendResult, *, origin_sid: str | None) -> None:
        parties, message = result.chat, result.message
        event: MessageEvent = {"chat_id": parties.id, "message": result.view()}
        await self._emitter.to_users(
            [parties.renter_id, parties.owner_id],
            "message",
            event,
            namespace=CHAT_NAMESPACE,
            skip_sid=origin_sid,
        )
        self._messages_delivered.inc()
        self._unread_changed(parties.other_participant(message.sender_id))
