"""The shapes the chat service answers with and sends live: REST bodies, Socket.IO acks and events."""

from __future__ import annotations

from typing import Literal, NotRequired

from typing_extensions import TypedDict

from documents.chat import ChatStatusName, ChatView, MessageView
from documents.user import PublicUserView
from homer_rt.presence import PresenceView as PresenceView  # the `presence` event too

# ---- REST answers and acks ------------------------------------------------------------------------


class ChatPropertyView(TypedDict):
    """The listing a chat is about, as a chat row shows it."""

    property_id: str
    title: str
    image: str | None
    status: str


class ChatSummaryView(ChatView):
    """A chat as the list shows it (``messages`` holds its last message), or with a page of messages."""

    messages: list[MessageView]
    property: ChatPropertyView | None
    property_title: str | None
    property_image: str | None
    other_participant: PublicUserView | None


class ChatPageView(ChatSummaryView):
    """An opened chat: a page of messages (oldest first), whether older ones exist, and the other side."""

    has_more: bool
    other_presence: PresenceView


class UnreadSummary(TypedDict):
    """Unread messages of a user in all their active chats, and per chat (the ``unread_count`` event too)."""

    unread_count: int
    chats: dict[str, int]


class SyncEntry(TypedDict):
    messages: list[MessageView]
    last_seq: int
    status: ChatStatusName
    has_more: bool


class SyncResponse(TypedDict):
    """What a client missed, by chat; ``has_more`` when a chat had more than one answer holds."""

    chats: dict[str, SyncEntry]


class InitiateResponse(TypedDict):
    chat_id: str
    created: bool


class SendMessageResponse(TypedDict):
    """REST's answer to a send: the stored message, and its id and seq at the top (the spec's fields)."""

    message_id: str
    seq: int
    message: MessageView


class ReportReceived(TypedDict):
    report_id: str
    status: Literal["open", "resolved"]
    message: str


class ChatAttachmentView(TypedDict):
    """A file uploaded to a chat (StoredFile.api_view): send its ``file_url`` in a message's attachments."""

    file_name: str
    file_url: str
    file_size: int
    file_type: str
    uploaded_at: str


class ChatRefAck(TypedDict):
    chat_id: str


class TypingAck(TypedDict):
    """Whether a typing change went to the other side; ``retry_after`` seconds when the budget is spent."""

    chat_id: str
    forwarded: bool
    retry_after: NotRequired[int]


class MarkReadAck(TypedDict):
    chat_id: str
    unread_count: int


# ---- server -> client events on /chat ------------------------------------------------------------


class MessageEvent(TypedDict):
    chat_id: str
    message: MessageView


class ChatCreatedEvent(TypedDict):
    chat: ChatSummaryView


class TypingEvent(TypedDict):
    chat_id: str
    user_id: str
    is_typing: bool


class ReadEvent(TypedDict):
    chat_id: str
    reader_id: str
    up_to: int
    read_at: str
