"""What a client asks of a chat: one model per behaviour, shared by REST routes and the /chat namespace."""

# A message sent over either door is validated by the same model with the same limits. REST names the chat
# in the path, Socket.IO in the payload: a socket event's model is the behaviour's plus ChatRef's chat_id.
# Each limit is a constant here; the service keeps the ones it must for callers that skip the models.

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictStr
from pydantic.config import JsonDict

from homer_rt.clock import UtcDateTime

MAX_ATTACHMENTS = 10  # files one message carries
MAX_PAGE_SIZE = 200  # messages one page of a chat holds
MAX_SYNC_CHATS = 500  # chats one sync names
MAX_CLIENT_MSG_ID = 100  # characters of a client's idempotency key
MAX_ID = 64  # characters of a chat or property id


class ChatCommand(BaseModel):
    """Fields a client may add that no behaviour reads are ignored, as the spec's clients send extras."""

    model_config = ConfigDict(extra="ignore")


class ChatRef(ChatCommand):
    """A chat named in a Socket.IO payload (REST names it in the path); ``leave_chat`` is just this."""

    chat_id: StrictStr = Field(min_length=1, max_length=MAX_ID)


def _text_or_attachment(schema: JsonDict) -> None:
    """What the service checks (``check_text``), documented: some text that is not blank, or an attachment."""
    schema["anyOf"] = [
        {"required": ["message"], "properties": {"message": {"pattern": r"\S"}}},
        {"required": ["attachments"], "properties": {"attachments": {"minItems": 1}}},
    ]


class SendMessage(ChatCommand):
    """Send a message: text, attachments (file URLs uploaded to the chat) or both; ``client_msg_id`` makes
    a retry return the stored message instead of sending it twice."""

    model_config = ConfigDict(json_schema_extra=_text_or_attachment)

    message: StrictStr = ""
    attachments: list[StrictStr] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)
    client_msg_id: StrictStr | None = Field(default=None, min_length=1, max_length=MAX_CLIENT_MSG_ID)


class SendMessageEvent(SendMessage, ChatRef):
    """``send_message`` over Socket.IO."""


class MessagePage(ChatCommand):
    """How many messages a page holds (the server's page size when not given)."""

    limit: int | None = Field(default=None, ge=1, le=MAX_PAGE_SIZE)


class OpenChat(MessagePage):
    """Open a chat (GET /api/chats/{id}): the latest page, which marks it read, or the page before a seq."""

    before_seq: int | None = Field(default=None, ge=1)


class JoinChat(MessagePage, ChatRef):
    """``join_chat``: open the chat's latest page (marking it read) and follow it live."""


class MarkRead(ChatRef):
    """``mark_read``: everything, or the messages up to a seq."""

    up_to: int | None = Field(default=None, ge=0)


class Typing(ChatRef):
    is_typing: StrictBool = True


class Sync(ChatCommand):
    """``sync`` after a reconnect: the messages after each named chat's last seq, or since a time."""

    chats: dict[str, int] | None = Field(default=None, max_length=MAX_SYNC_CHATS)
    since: UtcDateTime | None = None


class InitiateChat(ChatCommand):
    """A renter starts a chat about a listing with its first message."""

    property_id: str = Field(min_length=1, max_length=MAX_ID)
    initial_message: str


class ReportChat(ChatCommand):
    reason: str = Field(min_length=3, max_length=2000)
