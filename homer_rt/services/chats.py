"""Live chat between a renter and a property's owner: one code path for REST and Socket.IO.

Every state change is one atomic single-document update:
- a message takes its ``seq`` from the chat's ``last_seq`` (compare-and-set, or ``$inc`` when another
  send got there first), guarded by the chat being active, and in the same update counts itself in its
  sender's ``sent_*`` and enters the chat's ``recent`` window; then it is inserted into chat_messages, so
  concurrent sends from both sides never lose or reorder anything;
- a message's id is derived from (chat, sender, ``client_msg_id``): a retry is recognised by the process
  that stored the message, or else by the primary key refusing its insert (its count is then undone and
  its seq marked unused in the window). It returns the stored message, delivered once;
- a read covers a prefix of the chat: one ``$max`` of the reader's ``read_seq_*`` and ``read_sent_*``.
  Unread is ``sent by the other side - read_sent``, and a message is read when its seq is within its
  recipient's prefix, so nothing scans or rewrites messages, however long the chat;
- a free renter's contact is a guarded ``$inc`` on the user (``contacts_used < limit``), refunded if the
  chat insert loses a race: a chat's id follows from (property_id, renter_id), so the primary key refuses
  the second one.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable, Coroutine, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, NoReturn

from beanie import SortDirection
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from documents.base import collection_of, new_id
from documents.chat import (
    RECENT_MESSAGES,
    Chat,
    ChatInitiator,
    ChatMessage,
    ChatParties,
    ChatReport,
    ChatStatus,
    RecentMessage,
    ReportStatus,
    SenderType,
    chat_id_for,
    message_id_for,
    report_id_for,
    unused_seq_entry,
)
from documents.property import Property, PropertyStatus
from documents.user import User
from homer_rt.clock import Clock, as_utc, iso
from homer_rt.errors import (
    BadRequest,
    Conflict,
    DomainError,
    Forbidden,
    NotFound,
    RateLimited,
    ValidationFailed,
)
from homer_rt.metrics import Metrics
from homer_rt.presence import Presence, PresenceRegistry
from homer_rt.ratelimit import SlidingWindowLimiter
from homer_rt.realtime import CHAT_NAMESPACE, RealtimeEmitter
from homer_rt.services.admin_feed import AdminFeed
from homer_rt.services.notifications import NotificationService
from homer_rt.services.server_secrets import server_secret

if TYPE_CHECKING:
    from homer_rt.services.uploads import UploadService

log = logging.getLogger(__name__)

CHAT_UPLOAD_AREA = "chat"
MAX_ATTACHMENTS = 10
MAX_SYNC_MESSAGES = 500
STAMP_MARGIN = timedelta(seconds=5)
FIRST_MESSAGE_CLIENT_ID = "first-message"
# The server secret chat ids are keyed with (documents.chat.chat_id_for).
CHAT_ID_SECRET = "chat_ids"
# Chats a process remembers (parties, seq, its last messages there: up to ~15 KB each), least recent out.
CHATS_REMEMBERED = 2_000

Spawn = Callable[[Coroutine[Any, Any, None], str], object]


def _to_ms(value: datetime) -> datetime:
    """MongoDB keeps milliseconds; cutting here makes what a client sees equal to what ``since`` compares."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def _field(prefix: str, role: SenderType) -> str:
    return f"{prefix}_{role.value}"


def chat_not_found() -> NotFound:
    """What a chat that does not exist and someone else's chat both answer, word for word: a different
    answer would tell anyone who can guess a chat's id which chats exist (whom a renter contacted)."""
    return NotFound("Chat not found", code="chat_not_found")


@dataclass(slots=True)
class SendResult:
    message: RecentMessage
    created: bool  # True for the one call that stored the message (and delivers it); False for a retry
    chat: ChatParties
    is_read: bool = False  # a new message is unread; a retried one may have been read since
    _view: dict[str, Any] | None = None

    def view(self) -> dict[str, Any]:
        """The message as clients see it; built once, for the live copy and the sender's answer alike."""
        if self._view is None:
            self._view = self.message.api_view(chat_id=self.chat.id, is_read=self.is_read)
        return self._view


@dataclass(frozen=True, slots=True)
class ChatPage:
    chat: Chat
    messages: list[dict[str, Any]]  # as the API shows them (Chat.message_view), oldest first
    has_more: bool


class _KeyedLocks:
    """Serializes one renter's initiates inside this process, so initiating the same property twice at once
    finds the first chat instead of being refused at the contact limit. Across processes the atomic guard
    and the primary key keep the guarantees; this only spares the false refusal."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
        lock, users = self._locks.get(key, (asyncio.Lock(), 0))
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users <= 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)


@dataclass(slots=True)
class _KnownChat:
    parties: ChatParties
    last_seq: int  # the newest seq this process saw: the expectation of a send's compare-and-set
    # The newest messages this process stored in the chat, packed, by (sender, client_msg_id).
    stored: OrderedDict[tuple[str, str], str]


class _ChatDirectory:
    """What this process knows of the chats it has sent in: each chat's parties (fixed for its life), the
    newest seq it saw, so a send needs no read of the chat, and the ids of the messages it stored lately, so
    a retry through this process is answered before it reserves anything. The seq is only an expectation:
    when another process or a concurrent send took it, the send reserves the next one."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, _KnownChat] = OrderedDict()

    def get(self, chat_id: str) -> _KnownChat | None:
        known = self._entries.get(chat_id)
        if known is not None:
            self._entries.move_to_end(chat_id)
        return known

    def remember(self, parties: ChatParties, seq: int) -> _KnownChat:
        known = self._entries.get(parties.id)
        if known is None:
            known = self._entries[parties.id] = _KnownChat(parties, seq, OrderedDict())
            if len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        known.last_seq = max(known.last_seq, seq)
        return known

    def stored(self, parties: ChatParties, message: RecentMessage, packed: str) -> None:
        known = self.remember(parties, message.seq)
        known.stored[(message.sender_id, message.client_msg_id or message.message_id)] = packed
        if len(known.stored) > RECENT_MESSAGES:
            known.stored.popitem(last=False)


class ChatService:
    def __init__(
        self,
        *,
        clock: Clock,
        emitter: RealtimeEmitter,
        notifications: NotificationService,
        uploads: UploadService | None,
        send_limiter: SlidingWindowLimiter,
        typing_limiter: SlidingWindowLimiter,
        free_contact_limit: int,
        max_message_chars: int,
        page_size: int,
        spawn: Spawn,
        presence: PresenceRegistry,
        unread_push_interval: float = 0.25,
        admin_feed: AdminFeed | None = None,
        metrics: Metrics,
    ) -> None:
        self._clock = clock
        self._metrics = metrics
        self._send_seconds = metrics.chat_send_seconds
        self._messages_sent = metrics.chat_messages_sent
        self._messages_delivered = metrics.chat_messages_delivered
        self._emitter = emitter
        self._notifications = notifications
        self._uploads = uploads
        self._send_limiter = send_limiter
        self._typing_limiter = typing_limiter
        self._free_contact_limit = free_contact_limit
        self._max_message_chars = max_message_chars
        self._page_size = page_size
        self._admin_feed = admin_feed
        self._spawn = spawn
        self._unread_push_interval = unread_push_interval
        # Users whose unread push window is open -> whether a change arrived since their last push.
        self._unread_windows: dict[str, bool] = {}
        self._directory = _ChatDirectory(CHATS_REMEMBERED)
        self._initiate_locks = _KeyedLocks()
        self._presence = presence
        self._chat_id_key: bytes | None = None
        if uploads is not None:
            uploads.register_policy(CHAT_UPLOAD_AREA, self._may_read_chat_file)

    @property
    def page_size(self) -> int:
        return self._page_size

    async def load_chat_id_key(self) -> None:
        """Read (or make, the first time) the key chat ids are derived with, kept in the store: every process
        and restart over one store derives the same id for a renter and a property. Run at start-up."""
        self._chat_id_key = await server_secret(CHAT_ID_SECRET, now=self._clock.now())

    def chat_id_for(self, *, property_id: str, renter_id: str) -> str:
        """The id a new chat between ``renter_id`` and ``property_id``'s owner gets."""
        if self._chat_id_key is None:
            raise RuntimeError("ChatService.load_chat_id_key() must run at start-up, before chats are made")
        return chat_id_for(self._chat_id_key, property_id, renter_id)

    # ---- access ---------------------------------------------------------------------------------

    async def get_for_participant(self, *, chat_id: str, user_id: str) -> Chat:
        chat = await Chat.get(chat_id)
        if chat is None or not chat.is_participant(user_id):
            raise chat_not_found()
        return chat

    async def _may_read_chat_file(self, user: User | None, owner_segment: str) -> bool:
        if user is None:
            return False
        if user.is_admin:
            return True
        chat = await Chat.get(owner_segment)
        return chat is not None and chat.is_participant(user.id)

    # ---- initiate -------------------------------------------------------------------------------

    async def initiate(self, *, user: User, property_id: str, initial_message: str) -> tuple[Chat, bool]:
        """The renter's chat about a property: (chat, started), ``started`` when this call stored its first
        message and told the owner. An existing chat costs no contact. One whose first message never landed
        (the initiate that created it failed after the insert) takes this call's message instead."""
        if not user.is_renter:
            raise Forbidden("Only renters can initiate chats", code="renter_required")
        text = self._check_text(initial_message, attachments=[], field="initial_message")
        prop = await Property.get(property_id)
        if prop is None or prop.status == PropertyStatus.DELETED:
            raise NotFound("Property not found", code="property_not_found")
        if prop.owner_id == user.id:
            raise BadRequest("You cannot start a chat about your own property", code="own_property")

        async with self._initiate_locks.hold(user.id):
            # By the pair, not the derived id: a chat created before ids were keyed has a uuid5 id.
            chat = await Chat.find_one({"property_id": property_id, "renter_id": user.id})
            if chat is None:
                chat = await self._create_chat(user=user, prop=prop)
            if chat.recent_messages:
                return chat, False
            # The first message has a fixed client_msg_id: initiates racing in two processes store it once.
            first = await self._append(
                parties=ChatParties.of(chat),
                expected_seq=chat.last_seq,
                sender_id=user.id,
                text=text,
                attachments=[],
                client_msg_id=FIRST_MESSAGE_CLIENT_ID,
            )
            chat = await self._reload(chat.id)
            if not first.created:
                return chat, False
        self._messages_sent.inc()
        for viewer in (chat.owner_id, chat.renter_id):
            view = await self.chat_summary(chat=chat, viewer_id=viewer, messages=[first.message])
            await self._emitter.to_user(viewer, "chat_created", {"chat": view}, namespace=CHAT_NAMESPACE)
        self._messages_delivered.inc()  # the first message travels inside chat_created
        await self._push_unread(chat.owner_id)
        renter_name = user.full_name or "A renter"
        await self._notifications.notify(
            user_id=chat.owner_id,
            type="new_chat",
            title="New enquiry",
            message=f"{renter_name} asked about {prop.title}",
            action_url=f"/chats/{chat.id}",
        )
        return chat, True

    async def _create_chat(self, *, user: User, prop: Property) -> Chat:
        """Insert the renter's chat about ``prop``, taking a free contact unless premium; the chat another
        process created first when it won the race (and the contact is refunded)."""
        if not prop.visible_to(user):
            # As a missing listing: whether a hidden one exists is its owner's business.
            raise NotFound("Property not found", code="property_not_found")
        if prop.status != PropertyStatus.ACTIVE:  # an admin renting, who sees hidden listings
            raise BadRequest("This property is not available for enquiries", code="property_inactive")
        now = self._clock.now()
        charged = not user.is_premium(now)
        if charged and not await self._take_contact(user.id):
            raise Forbidden(
                f"Contact limit reached: the free plan includes {self._free_contact_limit} owner "
                "contacts. Upgrade to premium for unlimited contacts.",
                code="contact_limit_reached",
                extra={"limit": self._free_contact_limit, "upgrade_url": "/pricing"},
            )
        chat = Chat(
            id=self.chat_id_for(property_id=prop.id, renter_id=user.id),
            property_id=prop.id,
            renter_id=user.id,
            owner_id=prop.owner_id,
            participants=[user.id, prop.owner_id],
            initiated_by=ChatInitiator.RENTER,
            created_at=_to_ms(now),
            last_message_at=_to_ms(now),
        )
        try:
            await chat.insert()
        except DuplicateKeyError:
            if charged:
                await collection_of(User).update_one({"_id": user.id}, {"$inc": {"contacts_used": -1}})
            winner = await Chat.find_one({"property_id": prop.id, "renter_id": user.id})
            if winner is None:
                raise
            return winner
        await collection_of(Property).update_one({"_id": prop.id}, {"$inc": {"analytics.total_contacts": 1}})
        return chat

    async def _take_contact(self, user_id: str) -> bool:
        updated = await collection_of(User).find_one_and_update(
            {"_id": user_id, "contacts_used": {"$lt": self._free_contact_limit}},
            {"$inc": {"contacts_used": 1}},
            projection={"_id": 1},
        )
        return updated is not None

    # ---- send -----------------------------------------------------------------------------------

    def _check_text(self, message: str, *, attachments: list[str], field: str = "message") -> str:
        if len(message) > self._max_message_chars:
            raise ValidationFailed(
                f"Message is longer than {self._max_message_chars} characters",
                fields=[{"field": field, "message": f"at most {self._max_message_chars} characters"}],
            )
        if not message.strip() and not attachments:
            raise ValidationFailed(
                "Message is empty",
                fields=[{"field": field, "message": "a message or an attachment is needed"}],
            )
        return message

    async def _check_attachments(self, *, chat_id: str, user_id: str, attachments: list[str]) -> None:
        if not attachments:
            return
        if len(attachments) > MAX_ATTACHMENTS:
            raise ValidationFailed(
                f"At most {MAX_ATTACHMENTS} attachments per message",
                fields=[{"field": "attachments", "message": f"at most {MAX_ATTACHMENTS}"}],
            )
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
        text = self._check_text(message, attachments=attachments)
        if client_msg_id == FIRST_MESSAGE_CLIENT_ID:
            # It names the chat's first message: a send with it would be answered as a retry of that one.
            raise ValidationFailed(
                f"client_msg_id {FIRST_MESSAGE_CLIENT_ID!r} is reserved",
                fields=[{"field": "client_msg_id", "message": "reserved for the chat's first message"}],
            )
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
        if chat.status == ChatStatus.BLOCKED:
            raise Forbidden("This chat is blocked; no new messages can be sent", code="chat_blocked")
        if chat.status != ChatStatus.ACTIVE:
            raise Forbidden("This chat is archived; no new messages can be sent", code="chat_archived")

    async def _known_chat(self, *, chat_id: str, user_id: str) -> _KnownChat:
        """What this process knows of the chat, checked for the participant; read once per chat and process.
        Whether the chat takes messages is checked by the send's own update."""
        known = self._directory.get(chat_id)
        if known is None:
            row = await collection_of(Chat).find_one(
                {"_id": chat_id}, projection={"renter_id": 1, "owner_id": 1, "last_seq": 1, "recent": 1}
            )
            if row is None:
                raise chat_not_found()
            await self._pack_window(row)
            parties = ChatParties(id=str(row["_id"]), renter_id=row["renter_id"], owner_id=row["owner_id"])
            known = self._directory.remember(parties, int(row.get("last_seq", 0)))
        if not known.parties.is_participant(user_id):
            raise chat_not_found()
        return known

    async def _pack_window(self, row: dict[str, Any]) -> None:
        """A window stored before it was packed (an embedded data file from an earlier version) holds
        documents, which a sorted $push cannot order among strings: pack it once, unless it changed since."""
        window = row.get("recent") or []
        if all(isinstance(entry, str) for entry in window):
            return
        await collection_of(Chat).update_one(
            {"_id": row["_id"], "recent": window},
            {"$set": {"recent": Chat.packed_window(window)}},
        )

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
            timestamp=_to_ms(self._clock.now()),
            attachments=attachments,
            client_msg_id=client_msg_id,
        )
        sent_field = _field("sent", role)
        reserved = await self._reserve(parties=parties, message=message, sent_field=sent_field)
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
                await self._unreserve(parties=parties, message=message, entry=entry, sent_field=sent_field)
            raise
        if not stored_here:
            # A retry through another process, or of a message this one has forgotten: it is stored under
            # an earlier seq, so this reservation is undone and the stored message is the answer.
            await self._unreserve(parties=parties, message=message, entry=entry, sent_field=sent_field)
            return await self._stored_result(
                parties, message_id=message.message_id, sender_id=sender_id, client_msg_id=client_msg_id
            )
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

    async def _stored_result(
        self, parties: ChatParties, *, message_id: str, sender_id: str, client_msg_id: str
    ) -> SendResult:
        stored = await ChatMessage.get(message_id) or await self._find_by_client_id(
            parties.id, sender_id, client_msg_id
        )
        if stored is None:
            raise NotFound("Message not found", code="message_not_found")
        return await self._retry_answer(parties, stored.as_recent())

    async def _find_by_client_id(
        self, chat_id: str, sender_id: str, client_msg_id: str
    ) -> ChatMessage | None:
        """A message stored with a random id (before ids followed client_msg_id) under an older deployment's
        unique (chat_id, sender_id, client_msg_id) index, which MongoDB keeps until it is dropped."""
        return await ChatMessage.find_one(
            {"chat_id": chat_id, "sender_id": sender_id, "client_msg_id": client_msg_id}
        )

    async def _reserve(
        self, *, parties: ChatParties, message: RecentMessage, sent_field: str
    ) -> tuple[RecentMessage, str] | None:
        """Give ``message`` the chat's next seq, count it for its sender and put it in the recent window;
        the message as reserved (its seq may differ from the expected one) with its packed window entry, or
        None when the chat is gone or takes no messages.

        When the chat's last_seq is the one this process expected, that is one compare-and-set update: the
        seq is last_seq + 1 and, being the newest, the entry is appended (the window stays sorted without
        $sort). Otherwise ``$inc`` reserves one (atomic on the one chat document, so seqs stay unique) and a
        second update pushes the entry sorted. Either update refuses a chat that is not active."""
        collection = collection_of(Chat)
        entry = message.packed()
        swapped = await collection.update_one(
            {"_id": parties.id, "status": ChatStatus.ACTIVE.value, "last_seq": message.seq - 1},
            {
                "$set": {"last_seq": message.seq},
                "$max": {"last_message_at": message.timestamp},
                "$inc": {sent_field: 1},
                "$push": {"recent": {"$each": [entry], "$slice": -RECENT_MESSAGES}},
            },
        )
        if swapped.matched_count:
            self._directory.remember(parties, message.seq)
            return message, entry
        reserved = await collection.find_one_and_update(
            {"_id": parties.id, "status": ChatStatus.ACTIVE.value},
            {"$inc": {"last_seq": 1, sent_field: 1}, "$max": {"last_message_at": message.timestamp}},
            projection={"last_seq": 1},
            return_document=ReturnDocument.AFTER,
        )
        if reserved is None:
            return None
        message = message.model_copy(update={"seq": int(reserved["last_seq"])})
        entry = message.packed()
        self._directory.remember(parties, message.seq)
        await collection.update_one(
            {"_id": parties.id},
            {"$push": {"recent": {"$each": [entry], "$sort": 1, "$slice": -RECENT_MESSAGES}}},
        )
        return message, entry

    async def _refuse_send(self, chat_id: str) -> NoReturn:
        """Why a chat refused a message: it is gone, blocked or archived."""
        self.check_sendable(await self._reload(chat_id))
        raise Forbidden("This chat takes no new messages", code="chat_closed")

    async def _unreserve(
        self, *, parties: ChatParties, message: RecentMessage, entry: str, sent_field: str
    ) -> None:
        """Undo a reservation whose message this send did not store (``entry`` is its window entry):
        uncount it, and mark its seq unused in the window, so the window still answers pages by itself. The
        seq is never handed back: a participant may have read up to it meanwhile, and a message given that
        seq would show as read."""
        collection = collection_of(Chat)
        # Two updates: MongoDB refuses $pull and $push on one field in one update.
        await collection.update_one(
            {"_id": parties.id}, {"$inc": {sent_field: -1}, "$pull": {"recent": entry}}
        )
        await collection.update_one(
            {"_id": parties.id},
            {
                "$push": {
                    "recent": {
                        "$each": [unused_seq_entry(message.seq)],
                        "$sort": 1,
                        "$slice": -RECENT_MESSAGES,
                    }
                }
            },
        )

    async def _deliver(self, result: SendResult, *, origin_sid: str | None) -> None:
        parties, message = result.chat, result.message
        await self._emitter.to_users(
            [parties.renter_id, parties.owner_id],
            "message",
            {"chat_id": parties.id, "message": result.view()},
            namespace=CHAT_NAMESPACE,
            skip_sid=origin_sid,
        )
        self._messages_delivered.inc()
        self._unread_changed(parties.other_participant(message.sender_id))

    # ---- reading --------------------------------------------------------------------------------

    async def open_chat(
        self, *, chat_id: str, user_id: str, before_seq: int | None = None, limit: int | None = None
    ) -> ChatPage:
        """A page of messages, oldest first; the latest page also marks the other side's messages read."""
        chat = await self.get_for_participant(chat_id=chat_id, user_id=user_id)
        if before_seq is None and chat.unread_for(user_id) > 0:
            chat = await self._mark_read(chat=chat, reader_id=user_id, up_to=None)
        size = min(limit or self._page_size, 200)
        upper = before_seq if before_seq is not None else chat.last_seq + 1
        from_recent = chat.page_from_window(before=upper, size=size)
        if from_recent is not None:
            # Seq 1 (the opening message) always exists: anything after it means older messages.
            return ChatPage(
                chat=chat, messages=from_recent, has_more=bool(from_recent) and from_recent[0]["seq"] > 1
            )
        # Seqs are dense (a gap only where a retry's reservation was undone), so the page is a seq range:
        # it touches size + 1 messages whatever the chat's length. With a gap, fall back to sort + limit.
        lower = max(1, upper - size - 1)
        newest_first = await self._newest(chat.id, {"$gte": lower, "$lt": upper}, size + 1)
        if len(newest_first) < size + 1 and lower > 1:
            newest_first = await self._newest(chat.id, {"$lt": upper}, size + 1)
        has_more = len(newest_first) > size
        page = [chat.message_view(m) for m in reversed(newest_first[:size])]
        return ChatPage(chat=chat, messages=page, has_more=has_more)

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
        role = chat.role_of(reader_id)
        updated = await collection_of(Chat).find_one_and_update(
            {"_id": chat.id},
            {"$max": {_field("read_seq", role): through, _field("read_sent", role): read_sent}},
            return_document=ReturnDocument.AFTER,
        )
        if updated is None:
            raise chat_not_found()
        after: Chat = Chat.model_validate(updated)
        if after.read_seq_of(reader_id) > chat.read_seq_of(reader_id):
            await self._emitter.to_user(
                other_id,
                "read",
                {
                    "chat_id": chat.id,
                    "reader_id": reader_id,
                    "up_to": after.read_seq_of(reader_id),
                    "read_at": iso(_to_ms(self._clock.now())),
                },
                namespace=CHAT_NAMESPACE,
            )
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

    async def unread_summary(self, *, user_id: str) -> dict[str, Any]:
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
        return int((await self.unread_summary(user_id=user_id))["unread_count"])

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

    # ---- listing and views ----------------------------------------------------------------------

    async def list_chats(self, *, user_id: str, page: int, limit: int) -> list[dict[str, Any]]:
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
    ) -> dict[str, Any]:
        """One chat as the list shows it, or with ``messages`` (a page) when given."""
        prop = await Property.get(chat.property_id)
        other = await User.get(chat.other_participant(viewer_id))
        view = self._summary(chat, viewer_id, prop, other)
        if messages is not None:
            view["messages"] = [chat.message_view(m) for m in messages]
        return view

    async def page_view(self, *, page: ChatPage, viewer_id: str) -> dict[str, Any]:
        view = await self.chat_summary(chat=page.chat, viewer_id=viewer_id)
        view["messages"] = page.messages
        view["has_more"] = page.has_more
        view["other_presence"] = await self.presence_of(page.chat.other_participant(viewer_id))
        return view

    def _summary(
        self, chat: Chat, viewer_id: str, prop: Property | None, other: User | None
    ) -> dict[str, Any]:
        view = chat.api_view(viewer_id=viewer_id)
        view["messages"] = [view["last_message"]] if view["last_message"] else []
        view["property"] = (
            {
                "property_id": prop.id,
                "title": prop.title,
                "image": prop.images[0] if prop.images else None,
                "status": prop.status.value,
            }
            if prop is not None
            else None
        )
        view["property_title"] = prop.title if prop is not None else None
        view["property_image"] = prop.images[0] if prop is not None and prop.images else None
        view["other_participant"] = other.public_view() if other is not None else None
        return view

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

    async def _reload(self, chat_id: str) -> Chat:
        chat = await Chat.get(chat_id)
        if chat is None:
            raise chat_not_found()
        return chat

    # ---- sync -----------------------------------------------------------------------------------

    async def sync_by_seq(self, *, user_id: str, known: dict[str, int]) -> dict[str, Any]:
        """For each named chat, the messages after the client's last seq, oldest first."""
        result: dict[str, Any] = {}
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

    async def sync_since(self, *, user_id: str, since: datetime) -> dict[str, Any]:
        """Every message in the user's chats stamped at or after ``since`` (new chats included), grouped by
        chat, each chat's oldest first. Only chats active since then are read. Stamps are milliseconds, and
        several messages can share one: a client passing the stamp of the last message it holds gets that
        one again (it knows its seq) rather than lose another stamped in the same millisecond."""
        since = _to_ms(as_utc(since))  # as stamps are: the window and the collection then answer alike
        active = await Chat.find({"participants": user_id, "last_message_at": {"$gte": since}}).to_list()
        result: dict[str, Any] = {}
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

    def _sync_entry(self, chat: Chat, messages: Sequence[ChatMessage | RecentMessage]) -> dict[str, Any]:
        page = messages[:MAX_SYNC_MESSAGES]
        return {
            "messages": [chat.message_view(m) for m in page],
            "last_seq": chat.last_seq,
            "status": chat.status.value,
            "has_more": len(messages) > MAX_SYNC_MESSAGES,
        }

    # ---- block, report --------------------------------------------------------------------------

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

    # ---- presence -------------------------------------------------------------------------------

    async def connection_opened(self, *, user_id: str, sid: str) -> None:
        """A user's first live connection, in any process, announces them online."""
        if await self._presence.opened(user_id=user_id, sid=sid):
            await self._announce(user_id, Presence(online=True, last_seen=None))

    async def connection_closed(self, *, user_id: str, sid: str) -> None:
        """A user's last live connection, in any process, announces them offline with their last-seen time."""
        went_offline_at = await self._presence.closed(user_id=user_id, sid=sid)
        if went_offline_at is not None:
            await self._announce(user_id, Presence(online=False, last_seen=went_offline_at))

    async def presence_of(self, user_id: str) -> dict[str, Any]:
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
        await self._emitter.to_user(
            chat.other_participant(user_id),
            "typing",
            {"chat_id": chat.id, "user_id": user_id, "is_typing": is_typing},
            namespace=CHAT_NAMESPACE,
        )
