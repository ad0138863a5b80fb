"""What a process remembers of the chats it sent in, so a send needs no read of the chat first."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from documents.chat import RECENT_MESSAGES, ChatParties, RecentMessage

# Chats a process remembers (parties, seq, its last messages there: up to ~15 KB each), least recent out.
CHATS_REMEMBERED = 2_000


@dataclass(slots=True)
class KnownChat:
    """One chat as this process knows it."""

    parties: ChatParties
    last_seq: int  # the newest seq this process saw: the expectation of a send's compare-and-set
    # The newest messages this process stored in the chat, packed, by (sender, client_msg_id).
    stored: OrderedDict[tuple[str, str], str]


class ChatDirectory:
    """What this process knows of the chats it has sent in: each chat's parties (fixed for its life), the
    newest seq it saw, so a send needs no read of the chat, and the ids of the messages it stored lately, so
    a retry through this process is answered before it reserves anything. The seq is only an expectation:
    when another process or a concurrent send took it, the send reserves the next one."""

    def __init__(self, capacity: int) -> None:
        self._capacity = capacity
        self._entries: OrderedDict[str, KnownChat] = OrderedDict()

    def get(self, chat_id: str) -> KnownChat | None:
        known = self._entries.get(chat_id)
        if known is not None:
            self._entries.move_to_end(chat_id)
        return known

    def remember(self, parties: ChatParties, seq: int) -> KnownChat:
        known = self._entries.get(parties.id)
        if known is None:
            known = self._entries[parties.id] = KnownChat(parties, seq, OrderedDict())
            if len(self._entries) > self._capacity:
                self._entries.popitem(last=False)
        known.last_seq = max(known.last_seq, seq)
        return known

    def stored(self, parties: ChatParties, message: RecentMessage, packed: str) -> None:
        known = self.remember(parties, message.seq)
        known.stored[(message.sender_id, message.client_msg_id or message.message_id)] = packed
        if len(known.stored) > RECENT_MESSAGES:
            known.stored.popitem(last=False)
