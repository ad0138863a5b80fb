"""Every Socket.IO event of every namespace, both ways, with its payload and its ack: the one catalogue.

A client connects to a namespace with ``auth: {token}`` and then:

- sends **client events**: each carries one payload object (validated by the pydantic model named here, the
  same one the namespace validates with) and is answered through its ack, ``{"ok": true, "data": ...}``
  (``data`` of the type named here) or ``{"ok": false, "error": {"code", "message", ...}}``;
- receives **server events**: each carries one payload of the type named here.

The AsyncAPI document (handlers/asyncapi.py, ``GET /api/asyncapi.json``) is generated from this module, and
tests/test_socket_events.py holds the server to it: every event emitted while a broad scenario runs must be
listed here for its namespace with a payload of exactly the listed shape, and every client event a
namespace handles must be listed here, and the other way round.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, Literal, NotRequired, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictStr
from typing_extensions import TypedDict

from documents.chat import MessageView
from documents.notification import NotificationView
from homer_rt.errors import FieldError
from homer_rt.presence import PresenceView
from homer_rt.realtime import (
    ADMIN_NAMESPACE,
    CHAT_NAMESPACE,
    NOTIFICATIONS_NAMESPACE,
    SERVER_SHUTDOWN,
    SESSION_ENDED,
)
from homer_rt.services.admin_feed import AdminCountsView
from homer_rt.services.chats.commands import ChatRef, JoinChat, MarkRead, SendMessageEvent, Sync, Typing
from homer_rt.services.chats.views import (
    ChatCreatedEvent,
    ChatPageView,
    ChatRefAck,
    MarkReadAck,
    MessageEvent,
    ReadEvent,
    SyncResponse,
    TypingAck,
    TypingEvent,
    UnreadSummary,
)

DataT = TypeVar("DataT")

# ---- the ack envelope ------------------------------------------------------------------------------------


class ErrorBody(TypedDict):
    """The ``error`` of an error ack or a connect refusal: the same codes and messages REST answers with."""

    code: str
    message: str
    fields: NotRequired[list[FieldError]]  # validation_failed: each invalid or missing field ("payload": all)
    retry_after: NotRequired[int]  # rate_limited: seconds to wait
    limit: NotRequired[int]  # payload_too_large (bytes), too_many_connections (connections)


class AckOk(TypedDict, Generic[DataT]):
    ok: Literal[True]
    data: DataT


class AckError(TypedDict):
    ok: Literal[False]
    error: ErrorBody


# Codes any client event may be answered with, whatever its namespace; each event's service adds its own
# (chat_not_found, chat_closed, rate_limited, ...), the codes REST answers the same behaviour with.
ACK_ERRORS: dict[str, str] = {
    "validation_failed": "the payload does not match the event's model; `fields` says where",
    "unknown_event": "the namespace has no such client event (or a lifecycle name was sent as an event)",
    "payload_too_large": "the packet is larger than SOCKETIO_MAX_PAYLOAD_BYTES (`limit`)",
    "malformed_payload": "the payload is nested too deeply to decode",
    "binary_not_accepted": "a binary packet: events are JSON, files go through the upload routes",
    "server_draining": "the server is shutting down: send the event again once reconnected",
    "session_expired": "the token expired since the connection opened (the connection then closes)",
    "session_revoked": "the session was ended (logout, password change) since the connection opened",
    "account_inactive": "the account was deactivated since the connection opened",
    "admin_required": "(on /admin) the user is no longer an admin (the connection then closes)",
    "internal_error": "the server failed; the event may be sent again",
}

# ---- connecting ------------------------------------------------------------------------------------------


class ConnectAuth(TypedDict):
    """The connect packet's ``auth``. The token may instead come as an ``Authorization: Bearer`` header or a
    ``?token=`` query parameter of the handshake."""

    token: str


class ConnectRefusal(TypedDict):
    """A refused connect's ``connect_error`` data: socket.io-client shows it as ``err.message`` and
    ``err.data``."""

    message: str
    data: ErrorBody


CONNECT_REFUSALS: dict[str, str] = {
    "not_authenticated": "no token was sent",
    "invalid_token": "the token is not one this server signed",
    "token_expired": "the token has expired",
    "session_revoked": "the token was revoked (logout, password change)",
    "account_inactive": "the account is deactivated",
    "too_many_connections": "past the live connections allowed per user or per address (`limit`)",
}
ADMIN_CONNECT_REFUSALS: dict[str, str] = {**CONNECT_REFUSALS, "admin_required": "the user is not an admin"}

# ---- payloads that live nowhere else ---------------------------------------------------------------------


class NotificationRef(BaseModel):
    """``mark_read`` on /notifications."""

    model_config = ConfigDict(extra="ignore")
    notification_id: StrictStr = Field(min_length=1, max_length=64)


class UnreadNotificationsEvent(TypedDict):
    count: int


class NotificationReadAck(TypedDict):
    notification: NotificationView
    count: int  # unread notifications left


class NotificationsReadAck(TypedDict):
    updated: int  # how many were unread
    count: int  # unread notifications left (0 unless one arrived meanwhile)


SessionEndedReason = Literal["session_revoked", "session_expired", "account_inactive", "admin_required"]


class SessionEndedEvent(TypedDict):
    """The code the connection's next event would have been refused with."""

    reason: SessionEndedReason


class ServerShutdownEvent(TypedDict):
    reconnect: bool  # always true: connect again (to another process, or this one's successor)


# ---- the catalogue ---------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ClientEvent:
    """An event a client sends; the server answers it through its ack."""

    name: str
    summary: str
    #: the model the namespace validates the payload with; None when the event reads no payload
    payload: type[BaseModel] | None
    #: the type of the ack's ``data`` when it succeeds
    ack: Any
    description: str = ""

    @property
    def ack_type(self) -> Any:
        """The whole ack: ``AckOk[ack] | AckError``."""
        return AckOk[self.ack] | AckError  # type: ignore[name-defined]


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """An event the server pushes; clients do not answer it."""

    name: str
    summary: str
    payload: Any
    description: str = ""


@dataclass(frozen=True, slots=True)
class Namespace:
    path: str
    summary: str
    description: str
    client_events: tuple[ClientEvent, ...]
    server_events: tuple[ServerEvent, ...]
    #: the codes a connect may be refused with (``ConnectRefusal.data.code``)
    connect_refusals: dict[str, str]

    @property
    def name(self) -> str:
        return self.path.strip("/")

    def client_event(self, name: str) -> ClientEvent | None:
        return next((e for e in self.client_events if e.name == name), None)

    def server_event(self, name: str) -> ServerEvent | None:
        return next((e for e in self.server_events if e.name == name), None)


# Sent on every namespace.
_SESSION_EVENTS = (
    ServerEvent(
        SESSION_ENDED,
        "The connection's session ended: it closes next",
        SessionEndedEvent,
        "After a logout, a password change, a deactivation or a demotion (in any process), or when the "
        "token expires. Sign in again before reconnecting.",
    ),
    ServerEvent(
        SERVER_SHUTDOWN,
        "This server process is shutting down: its transport closes next",
        ServerShutdownEvent,
        "Reconnect (socket.io-client does on its own), rejoin open chats and `sync` what was missed.",
    ),
)

CHAT = Namespace(
    path=CHAT_NAMESPACE,
    summary="Live chat",
    description=(
        "Every conversation of the user, live: new messages of all their chats arrive without joining "
        "(each connection is in its user's room); `join_chat` opens one chat. On connect the server sends "
        "`unread_count`, and `presence` goes to the user's chat partners when their first connection "
        "opens or their last one closes."
    ),
    client_events=(
        ClientEvent(
            "join_chat",
            "Open a chat: its latest page of messages (which marks them read), and follow it live",
            JoinChat,
            ChatPageView,
        ),
        ClientEvent("leave_chat", "Stop following a joined chat", ChatRef, ChatRefAck),
        ClientEvent(
            "send_message",
            "Send a message; the ack is the stored message",
            SendMessageEvent,
            MessageView,
            "A retry with the same `client_msg_id` is answered with the message already stored, never a "
            "second one. The other participant (and the sender's other connections) get `message`.",
        ),
        ClientEvent(
            "typing",
            "Show or clear the typing indicator on the other side",
            Typing,
            TypingAck,
            "Repeats are throttled: `forwarded` says whether it went out, `retry_after` when the budget "
            "is spent.",
        ),
        ClientEvent(
            "mark_read",
            "Mark the chat read, up to a seq or entirely",
            MarkRead,
            MarkReadAck,
            "The other participant gets `read`; the user's connections get a new `unread_count`.",
        ),
        ClientEvent(
            "sync",
            "After a reconnect: what was missed, by chat",
            Sync,
            SyncResponse,
            "Send `{chats: {chat_id: last_seq}}` for the messages after each, or `{since: timestamp}`.",
        ),
    ),
    server_events=(
        ServerEvent("message", "A new message in one of the user's chats", MessageEvent),
        ServerEvent("typing", "The other participant started or stopped typing", TypingEvent),
        ServerEvent("read", "The other participant read the chat up to a seq", ReadEvent),
        ServerEvent(
            "unread_count",
            "The user's unread messages, in total and per chat",
            UnreadSummary,
            "On connect, and whenever they change (pushes are throttled per user).",
        ),
        ServerEvent(
            "chat_created",
            "A renter started a chat (to both participants), with its first message",
            ChatCreatedEvent,
        ),
        ServerEvent("presence", "A chat partner came online or went offline", PresenceView),
        *_SESSION_EVENTS,
    ),
    connect_refusals=CONNECT_REFUSALS,
)

NOTIFICATIONS = Namespace(
    path=NOTIFICATIONS_NAMESPACE,
    summary="Notifications",
    description=(
        "The user's notifications as they are created, and their unread count (also sent on connect). "
        "The same notifications are listed and managed at /api/notifications."
    ),
    client_events=(
        ClientEvent("mark_read", "Mark one notification read", NotificationRef, NotificationReadAck),
        ClientEvent(
            "mark_all_read",
            "Mark every notification read",
            None,
            NotificationsReadAck,
            "Takes no payload: anything sent is ignored.",
        ),
    ),
    server_events=(
        ServerEvent("notification", "A new notification", NotificationView),
        ServerEvent(
            "unread_notifications",
            "The user's unread notifications: on connect and whenever the count changes",
            UnreadNotificationsEvent,
        ),
        *_SESSION_EVENTS,
    ),
    connect_refusals=CONNECT_REFUSALS,
)

ADMIN = Namespace(
    path=ADMIN_NAMESPACE,
    summary="Admin dashboard counts",
    description="Admins only. What waits for review, pushed on connect and whenever it changes.",
    client_events=(
        ClientEvent(
            "get_counts",
            "The current counts",
            None,
            AdminCountsView,
            "Takes no payload: anything sent is ignored.",
        ),
    ),
    server_events=(
        ServerEvent(
            "counts",
            "Pending verifications and open reports: on connect and on every change",
            AdminCountsView,
        ),
        *_SESSION_EVENTS,
    ),
    connect_refusals=ADMIN_CONNECT_REFUSALS,
)

NAMESPACES: tuple[Namespace, ...] = (CHAT, NOTIFICATIONS, ADMIN)


def namespace(path: str) -> Namespace | None:
    return next((n for n in NAMESPACES if n.path == path), None)
