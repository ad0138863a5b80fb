"""What a message must be to be sent: pure checks that raise the errors clients see."""

from __future__ import annotations

from documents.chat import ChatStatus
from homer_rt.errors import Forbidden, ValidationFailed
from homer_rt.services.chats.commands import MAX_ATTACHMENTS

# The client_msg_id of a chat's first message (stored by initiate): fixed, so initiates racing in two
# processes store it once; a send naming it would be answered as a retry of that message.
FIRST_MESSAGE_CLIENT_ID = "first-message"


def check_text(message: str, *, attachments: list[str], max_chars: int, field: str = "message") -> str:
    """The message's text when it may be sent: at most ``max_chars`` characters, and not blank unless the
    message carries an attachment."""
    if len(message) > max_chars:
        raise ValidationFailed(
            f"Message is longer than {max_chars} characters",
            fields=[
                {"field": field, "message": f"at most {max_chars} characters", "type": "string_too_long"}
            ],
        )
    if not message.strip() and not attachments:
        raise ValidationFailed(
            "Message is empty",
            fields=[{"field": field, "message": "a message or an attachment is needed", "type": "missing"}],
        )
    return message


def check_attachment_count(attachments: list[str]) -> None:
    """The SendMessage model's limit, kept by the service for callers that skip the model."""
    if len(attachments) > MAX_ATTACHMENTS:
        raise ValidationFailed(
            f"At most {MAX_ATTACHMENTS} attachments per message",
            fields=[{"field": "attachments", "message": f"at most {MAX_ATTACHMENTS}", "type": "too_long"}],
        )


def check_client_msg_id(client_msg_id: str | None) -> None:
    if client_msg_id == FIRST_MESSAGE_CLIENT_ID:
        raise ValidationFailed(
            f"client_msg_id {FIRST_MESSAGE_CLIENT_ID!r} is reserved",
            fields=[
                {
                    "field": "client_msg_id",
                    "message": "reserved for the chat's first message",
                    "type": "reserved",
                }
            ],
        )


def check_sendable(status: ChatStatus) -> None:
    """Refuse a chat that takes no messages: blocked (by a participant or a moderator) or archived."""
    if status == ChatStatus.BLOCKED:
        raise Forbidden("This chat is blocked; no new messages can be sent", code="chat_blocked")
    if status != ChatStatus.ACTIVE:
        raise Forbidden("This chat is archived; no new messages can be sent", code="chat_archived")
