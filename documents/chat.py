"""Chats, their messages and reports.

The spec keeps a chat's messages in a JSON array on the chat row. Here messages live in their own
collection, ordered by (chat_id, seq), and the chat carries what listing and badges need (``last_seq``,
the newest messages and one unread counter per participant), all changed with atomic operators, so
sending, opening a chat and counting unread cost the same with 10 messages or 10,000.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any, Literal

import orjson
from beanie import Document
from pydantic import BaseModel, Field, PrivateAttr, field_validator
from pymongo import IndexModel
from typing_extensions import TypedDict

from documents.base import new_id

# Re-exported: the ids are derived in documents.chat_ids; the demo and tests import them from here.
from documents.chat_ids import MESSAGE_ID_NAMESPACE as MESSAGE_ID_NAMESPACE
from documents.chat_ids import chat_id_for as chat_id_for
from documents.chat_ids import message_id_for as message_id_for
from documents.chat_ids import name_based_id as name_based_id
from documents.chat_window import entry_json, holds_message, packed_entry, page_entries, window_slice
from homer_rt.clock import as_utc, iso


class ChatInitiator(StrEnum):
    RENTER = "renter"
    OWNER = "owner"


class ChatStatus(StrEnum):
    ACTIVE = "active"
    ARCHIVED = "archived"
    BLOCKED = "blocked"


class SenderType(StrEnum):
    RENTER = "renter"
    OWNER = "owner"


Role = Literal["renter", "owner"]
ChatStatusName = Literal["active", "archived", "blocked"]


def iso_stamp(value: datetime) -> str:
    """``iso()`` of a time that is never None."""
    return as_utc(value).isoformat()


class StoredMessageView(TypedDict):
    """A message as a packed window entry holds it: its API shape without ``chat_id`` and ``is_read``."""

    message_id: str
    seq: int
    sender_id: str
    sender_type: Role
    message: str
    timestamp: str
    attachments: list[str]
    client_msg_id: str | None


class MessageView(TypedDict):
    """The spec's message shape plus ``seq``, ``chat_id`` and the sender's ``client_msg_id``."""

    message_id: str
    seq: int
    chat_id: str
    sender_id: str
    sender_type: Role
    message: str
    timestamp: str
    is_read: bool
    attachments: list[str]
    client_msg_id: str | None


class _ChatFields(TypedDict):
    chat_id: str
    property_id: str
    renter_id: str
    owner_id: str
    initiated_by: Role
    created_at: str
    last_message_at: str | None
    status: ChatStatusName
    last_seq: int
    last_message: MessageView | None
    blocked_by: str | None
    blocked_at: str | None
    blocked_by_admin: bool


class ChatView(_ChatFields):
    """A chat as a participant sees it (the spec's convert_chat_to_dict fields and more); no messages."""

    unread_count: int


class ChatAdminView(_ChatFields):
    """A chat as moderators see it: both sides' unread counts instead of a viewer's."""

    unread_count: None
    unread_renter: int
    unread_owner: int


# The newest messages kept on the chat itself: opening a chat, its list row and a reconnect's sync read
# them from the one chat document instead of querying the messages collection.
RECENT_MESSAGES = 50


class RecentMessage(BaseModel):
    """A message as the chat document keeps it in ``recent``; read state comes from the chat's read marks."""

    message_id: str
    seq: int
    sender_id: str
    sender_type: SenderType
    message: str
    timestamp: datetime
    attachments: list[str] = Field(default_factory=list)
    client_msg_id: str | None = None

    def api_view(self, *, chat_id: str, is_read: bool) -> MessageView:
        """The spec's message shape plus ``seq`` (and the client's id, so a sender can match its ack)."""
        return {
            "message_id": self.message_id,
            "seq": self.seq,
            "chat_id": chat_id,
            "sender_id": self.sender_id,
            "sender_type": self.sender_type.value,
            "message": self.message,
            "timestamp": iso_stamp(self.timestamp),
            "is_read": is_read,
            "attachments": list(self.attachments),
            "client_msg_id": self.client_msg_id,
        }

    def stored_view(self) -> StoredMessageView:
        """``api_view`` without ``chat_id`` and ``is_read``, which depend on the chat holding it."""
        return {
            "message_id": self.message_id,
            "seq": self.seq,
            "sender_id": self.sender_id,
            "sender_type": self.sender_type.value,
            "message": self.message,
            "timestamp": iso_stamp(self.timestamp),
            "attachments": list(self.attachments),
            "client_msg_id": self.client_msg_id,
        }

    def packed(self) -> str:
        """The form ``Chat.recent`` stores: the zero-padded seq, a space, the message as JSON in its API
        shape without ``chat_id`` and ``is_read`` (Chat.page_from_window adds those).

        A string, because the embedded store deep-copies a document on every update: a list of 50 strings
        copies about four times faster than 50 embedded documents, and every send updates the chat. The
        seq prefix lets ``$push`` keep the window in seq order with a plain ``$sort: 1``. The API shape
        lets opening a chat serve the window without building a model per message."""
        return packed_entry(self.seq, orjson.dumps(self.stored_view()).decode())

    @classmethod
    def unpack(cls, packed: str) -> RecentMessage:
        return cls.model_validate(orjson.loads(entry_json(packed)))


class ParticipantRoles:
    """Who is who in a chat; shared by the full Chat document and the ChatParties a send remembers."""

    renter_id: str
    owner_id: str

    def is_participant(self, user_id: str) -> bool:
        return user_id in (self.renter_id, self.owner_id)

    def other_participant(self, user_id: str) -> str:
        return self.owner_id if user_id == self.renter_id else self.renter_id

    def role_of(self, user_id: str) -> SenderType:
        return SenderType.RENTER if user_id == self.renter_id else SenderType.OWNER


class Chat(Document, ParticipantRoles):
    id: str = Field(default_factory=new_id)  # type: ignore[assignment]
    property_id: str
    renter_id: str
    owner_id: str
    # Both participant ids, so one multikey index lists a user's chats whichever side they are on.
    participants: list[str]
    initiated_by: ChatInitiator = ChatInitiator.RENTER
    created_at: datetime
    last_message_at: datetime | None = None
    status: ChatStatus = ChatStatus.ACTIVE

    last_seq: int = 0
    # The newest RECENT_MESSAGES messages, ascending by seq, packed (RecentMessage.packed): a send appends
    # the newest ($push, $slice), or pushes with $sort when another send took the seq it expected. A message
    # enters it in the update that reserves its seq, just before it is inserted into chat_messages.
    recent: list[str] = Field(default_factory=list)
    # Unread state is counters, never a scan of messages. Each side's sent count grows in the update that
    # reserves a message's seq. A read always covers a prefix of the chat (opening reads everything, mark_read
    # reads up to a seq), so each participant keeps the seq read up to and how many of the other side's
    # messages that prefix holds; both only grow ($max). Unread = other side's sent - read_sent.
    sent_renter: int = 0
    sent_owner: int = 0
    read_seq_renter: int = 0
    read_seq_owner: int = 0
    read_sent_renter: int = 0
    read_sent_owner: int = 0

    blocked_by: str | None = None
    blocked_at: datetime | None = None
    blocked_by_admin: bool = False

    class Settings:
        name = "chats"
        indexes = [
            # One chat per renter and listing; also the index initiate finds a renter's chat by. (The id is
            # derived from the pair as well, keyed so that it cannot be guessed: chat_ids.chat_id_for.)
            IndexModel([("property_id", 1), ("renter_id", 1)], unique=True),
            IndexModel([("participants", 1), ("status", 1), ("last_message_at", -1)]),
            IndexModel([("owner_id", 1), ("last_message_at", -1)]),
            IndexModel([("renter_id", 1), ("last_message_at", -1)]),
            IndexModel([("status", 1), ("created_at", -1)]),
        ]

    _unpacked: list[RecentMessage] | None = PrivateAttr(default=None)

    @field_validator("recent", mode="before")
    @classmethod
    def _pack_entries(cls, value: Any) -> Any:
        return cls.packed_window(value) if isinstance(value, list) else value

    @staticmethod
    def packed_window(entries: list[Any]) -> list[Any]:
        """Entries given as messages (demo data) packed; stored entries are packed already."""
        return [entry.packed() if isinstance(entry, RecentMessage) else entry for entry in entries]

    @property
    def chat_id(self) -> str:
        return self.id

    @property
    def recent_messages(self) -> list[RecentMessage]:
        """The messages of ``recent`` (unused seqs left out), unpacked once per loaded chat."""
        if self._unpacked is None:
            self._unpacked = [RecentMessage.unpack(entry) for entry in self.recent if holds_message(entry)]
        return self._unpacked

    @property
    def last_message(self) -> RecentMessage | None:
        newest = next((entry for entry in reversed(self.recent) if holds_message(entry)), None)
        return RecentMessage.unpack(newest) if newest is not None else None

    def sent_by(self, user_id: str) -> int:
        return self.sent_renter if user_id == self.renter_id else self.sent_owner

    def read_seq_of(self, user_id: str) -> int:
        return self.read_seq_renter if user_id == self.renter_id else self.read_seq_owner

    def read_sent_of(self, user_id: str) -> int:
        return self.read_sent_renter if user_id == self.renter_id else self.read_sent_owner

    def unread_for(self, user_id: str) -> int:
        return max(0, self.sent_by(self.other_participant(user_id)) - self.read_sent_of(user_id))

    def message_view(self, message: ChatMessage | RecentMessage) -> MessageView:
        """A message with its read state: read once its recipient's read prefix reaches its seq."""
        recent: RecentMessage = message.as_recent() if isinstance(message, ChatMessage) else message
        recipient = self.other_participant(recent.sender_id)
        return recent.api_view(chat_id=self.id, is_read=recent.seq <= self.read_seq_of(recipient))

    def recent_window(self, *, after: int, before: int) -> list[RecentMessage] | None:
        """Messages with after < seq < before from ``recent``, or None when the collection must answer."""
        where = window_slice(self.recent, self.last_seq, after=after, before=before)
        if where is None:
            return None
        return [RecentMessage.unpack(entry) for entry in self.recent[where] if holds_message(entry)]

    def page_from_window(self, *, before: int, size: int) -> list[MessageView] | None:
        """The newest ``size`` messages with seq < before, oldest first, as the API shows them
        (message_view), read straight from the packed entries; None when the window cannot be sure to hold
        them all (chat_window.page_entries)."""
        entries = page_entries(self.recent, self.last_seq, before=before, size=size)
        if entries is None:
            return None
        renter_id, read_by_renter, read_by_owner = self.renter_id, self.read_seq_renter, self.read_seq_owner
        views: list[MessageView] = []
        for entry in entries:
            view: MessageView = orjson.loads(entry_json(entry))  # a StoredMessageView, completed here
            view["chat_id"] = self.id
            view["is_read"] = view["seq"] <= (
                read_by_owner if view["sender_id"] == renter_id else read_by_renter
            )
            views.append(view)
        return views

    def last_message_view(self) -> MessageView | None:
        last = self.last_message
        return self.message_view(last) if last is not None else None

    def api_view(self, *, viewer_id: str) -> ChatView:
        """The spec's convert_chat_to_dict fields plus what live clients need; no messages."""
        return {
            "chat_id": self.id,
            "property_id": self.property_id,
            "renter_id": self.renter_id,
            "owner_id": self.owner_id,
            "initiated_by": self.initiated_by.value,
            "created_at": iso_stamp(self.created_at),
            "last_message_at": iso(self.last_message_at),
            "status": self.status.value,
            "last_seq": self.last_seq,
            "last_message": self.last_message_view(),
            "unread_count": self.unread_for(viewer_id),
            "blocked_by": self.blocked_by,
            "blocked_at": iso(self.blocked_at),
            "blocked_by_admin": self.blocked_by_admin,
        }

    def admin_view(self) -> ChatAdminView:
        return {
            **self.api_view(viewer_id=self.renter_id),
            "unread_count": None,
            "unread_renter": self.unread_for(self.renter_id),
            "unread_owner": self.unread_for(self.owner_id),
        }


@dataclass(frozen=True, slots=True)
class ChatParties(ParticipantRoles):
    """Who a chat is between. Fixed for the chat's life, so a process may keep it and send without reading
    the chat first."""

    id: str
    renter_id: str
    owner_id: str

    @classmethod
    def of(cls, chat: Chat) -> ChatParties:
        return cls(id=chat.id, renter_id=chat.renter_id, owner_id=chat.owner_id)


class ChatMessage(Document):
    id: str = Field(default_factory=new_id)  # type: ignore[assignment]
    chat_id: str
    seq: int
    sender_id: str
    sender_type: SenderType
    message: str
    timestamp: datetime
    attachments: list[str] = Field(default_factory=list)
    # The sender's idempotency key (generated when the client sends none); the id is derived from it
    # (message_id_for), so a retry is refused by the primary key.
    client_msg_id: str = Field(default_factory=new_id)

    class Settings:
        name = "chat_messages"
        indexes = [
            # Unique: a seq comes from one atomic increment of the chat's last_seq, and the index has the
            # database refuse a second message under one seq whatever happens. Pages and sync read by it.
            IndexModel([("chat_id", 1), ("seq", 1)], unique=True, name="chat_seq"),
            IndexModel([("chat_id", 1), ("sender_id", 1), ("seq", 1)]),
            IndexModel([("chat_id", 1), ("timestamp", 1)]),
        ]

    @property
    def message_id(self) -> str:
        return self.id

    @staticmethod
    def row_of(message: RecentMessage, *, chat_id: str) -> dict[str, Any]:
        """The stored form of a new message, for a raw insert: what Beanie would write for it, without
        building the document (a send's hot path)."""
        return {
            "_id": message.message_id,
            "chat_id": chat_id,
            "seq": message.seq,
            "sender_id": message.sender_id,
            "sender_type": message.sender_type.value,
            "message": message.message,
            "timestamp": message.timestamp,
            "attachments": list(message.attachments),
            "client_msg_id": message.client_msg_id or message.message_id,
        }

    def as_recent(self) -> RecentMessage:
        return RecentMessage(
            message_id=self.id,
            seq=self.seq,
            sender_id=self.sender_id,
            sender_type=self.sender_type,
            message=self.message,
            timestamp=self.timestamp,
            attachments=list(self.attachments),
            client_msg_id=self.client_msg_id,
        )


class ReportStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class ReportResolutionView(TypedDict):
    action: str
    note: str | None


class ReportResolution(BaseModel):
    action: str
    note: str | None = None

    def api_view(self) -> ReportResolutionView:
        return {"action": self.action, "note": self.note}


class ChatReportView(TypedDict):
    report_id: str
    chat_id: str
    reporter_id: str
    reported_user_id: str
    reason: str
    status: Literal["open", "resolved"]
    created_at: str
    resolved_at: str | None
    resolved_by: str | None
    resolution: ReportResolutionView | None


class ChatReport(Document):
    id: str = Field(default_factory=new_id)  # type: ignore[assignment]
    chat_id: str
    reporter_id: str
    reported_user_id: str
    reason: str
    status: ReportStatus = ReportStatus.OPEN
    created_at: datetime
    resolved_at: datetime | None = None
    resolved_by: str | None = None
    resolution: ReportResolution | None = None

    class Settings:
        name = "chat_reports"
        indexes = [
            # A reporter has one open report per chat; also the index a new report looks for that one by.
            IndexModel(
                [("chat_id", 1), ("reporter_id", 1)],
                unique=True,
                partialFilterExpression={"status": ReportStatus.OPEN.value},
                name="one_open_report",
            ),
            IndexModel([("status", 1), ("created_at", -1)]),
            IndexModel([("chat_id", 1), ("created_at", -1)]),
            IndexModel([("reported_user_id", 1)]),
        ]

    @property
    def report_id(self) -> str:
        return self.id

    def api_view(self) -> ChatReportView:
        return {
            "report_id": self.id,
            "chat_id": self.chat_id,
            "reporter_id": self.reporter_id,
            "reported_user_id": self.reported_user_id,
            "reason": self.reason,
            "status": self.status.value,
            "created_at": iso_stamp(self.created_at),
            "resolved_at": iso(self.resolved_at),
            "resolved_by": self.resolved_by,
            "resolution": self.resolution.api_view() if self.resolution else None,
        }
