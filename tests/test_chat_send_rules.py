"""The send invariants that need no server or store: a retry's id, the seq a process expects only growing,
the chats that refuse messages, and the limits on what a message carries."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from pydantic import ValidationError

from documents.chat import RECENT_MESSAGES, ChatParties, ChatStatus, RecentMessage, SenderType, message_id_for
from homer_rt.errors import Forbidden, ValidationFailed
from homer_rt.services.chats.commands import MAX_ATTACHMENTS, SendMessage, SendMessageEvent
from homer_rt.services.chats.directory import ChatDirectory
from homer_rt.services.chats.send_rules import (
    FIRST_MESSAGE_CLIENT_ID,
    check_attachment_count,
    check_client_msg_id,
    check_sendable,
    check_text,
)

PARTIES = ChatParties(id="chat-1", renter_id="renter", owner_id="owner")


def message(seq: int, client_msg_id: str, sender: str = "renter") -> RecentMessage:
    return RecentMessage(
        message_id=message_id_for(PARTIES.id, sender, client_msg_id),
        seq=seq,
        sender_id=sender,
        sender_type=PARTIES.role_of(sender),
        message="hello",
        timestamp=datetime(2026, 1, 1, tzinfo=UTC),
        client_msg_id=client_msg_id,
    )


# ---- idempotency ------------------------------------------------------------------------------------


def test_a_retry_gets_the_id_of_the_message_it_repeats() -> None:
    """The id follows from (chat, sender, client_msg_id), so the primary key refuses a second insert."""
    assert message_id_for("chat-1", "renter", "k1") == message_id_for("chat-1", "renter", "k1")
    others = {
        message_id_for("chat-2", "renter", "k1"),
        message_id_for("chat-1", "owner", "k1"),
        message_id_for("chat-1", "renter", "k2"),
    }
    assert message_id_for("chat-1", "renter", "k1") not in others and len(others) == 3


def test_a_process_answers_a_retry_of_a_message_it_stored() -> None:
    directory = ChatDirectory(capacity=10)
    stored = message(7, "k7")
    directory.stored(PARTIES, stored, stored.packed())
    known = directory.get(PARTIES.id)
    assert known is not None
    assert RecentMessage.unpack(known.stored[("renter", "k7")]) == stored
    assert ("owner", "k7") not in known.stored  # the key is the sender's own


def test_the_retry_memory_keeps_the_newest_messages_and_chats() -> None:
    directory = ChatDirectory(capacity=2)
    newest = RECENT_MESSAGES + 10
    for seq in range(1, newest + 1):
        sent = message(seq, f"k{seq}")
        directory.stored(PARTIES, sent, sent.packed())
    known = directory.get(PARTIES.id)
    assert known is not None and len(known.stored) == RECENT_MESSAGES
    assert ("renter", "k10") not in known.stored and ("renter", f"k{newest}") in known.stored
    for chat_id in ("chat-2", "chat-3"):
        directory.remember(ChatParties(id=chat_id, renter_id="r", owner_id="o"), 0)
    assert directory.get(PARTIES.id) is None  # the least recently used chat is forgotten first


def test_the_first_messages_key_is_reserved() -> None:
    with pytest.raises(ValidationFailed) as refused:
        check_client_msg_id(FIRST_MESSAGE_CLIENT_ID)
    assert refused.value.extra["fields"][0]["field"] == "client_msg_id"
    check_client_msg_id("my-key")
    check_client_msg_id(None)


# ---- seqs -------------------------------------------------------------------------------------------


def test_the_seq_a_process_expects_only_grows() -> None:
    """A send expects the chat's last seq as this process last saw it; a late answer about an older seq
    (a concurrent send finishing after a newer one) must not make it expect an older one."""
    directory = ChatDirectory(capacity=10)
    assert directory.remember(PARTIES, 5).last_seq == 5
    assert directory.remember(PARTIES, 3).last_seq == 5
    newer = message(9, "k9")
    directory.stored(PARTIES, newer, newer.packed())
    older = message(8, "k8")
    directory.stored(PARTIES, older, older.packed())
    known = directory.get(PARTIES.id)
    assert known is not None and known.last_seq == 9


# ---- chats that refuse messages ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "code"), [(ChatStatus.BLOCKED, "chat_blocked"), (ChatStatus.ARCHIVED, "chat_archived")]
)
def test_blocked_and_archived_chats_refuse_messages(status: ChatStatus, code: str) -> None:
    with pytest.raises(Forbidden) as refused:
        check_sendable(status)
    assert refused.value.code == code and refused.value.status == 403


def test_an_active_chat_takes_messages() -> None:
    check_sendable(ChatStatus.ACTIVE)


# ---- what a message carries -------------------------------------------------------------------------


def test_the_send_models_take_the_attachment_limit_and_refuse_one_more() -> None:
    files = [f"/uploads/chat/c/{n}.png" for n in range(MAX_ATTACHMENTS)]
    assert SendMessage(attachments=files).attachments == files
    assert SendMessageEvent(chat_id="c", attachments=files).attachments == files
    for model, extra in ((SendMessage, {}), (SendMessageEvent, {"chat_id": "c"})):
        with pytest.raises(ValidationError) as refused:
            model.model_validate({**extra, "attachments": [*files, "/uploads/chat/c/x.png"]})
        assert [e["loc"] for e in refused.value.errors()] == [("attachments",)]


def test_the_service_keeps_the_attachment_limit_for_callers_without_the_model() -> None:
    check_attachment_count(["a"] * MAX_ATTACHMENTS)
    with pytest.raises(ValidationFailed):
        check_attachment_count(["a"] * (MAX_ATTACHMENTS + 1))


def test_a_message_needs_text_or_an_attachment_within_the_length_limit() -> None:
    assert check_text("x" * 20, attachments=[], max_chars=20) == "x" * 20
    assert check_text("  ", attachments=["/uploads/chat/c/a.png"], max_chars=20) == "  "
    with pytest.raises(ValidationFailed, match="longer than 20"):
        check_text("x" * 21, attachments=[], max_chars=20)
    with pytest.raises(ValidationFailed, match="empty") as refused:
        check_text(" \n", attachments=[], max_chars=20, field="initial_message")
    assert refused.value.extra["fields"][0]["field"] == "initial_message"


def test_a_senders_role_follows_from_the_chats_parties() -> None:
    assert PARTIES.role_of("renter") is SenderType.RENTER
    assert PARTIES.role_of("owner") is SenderType.OWNER
    assert PARTIES.other_participant("renter") == "owner"
