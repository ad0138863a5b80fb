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
  chat insert loses a race: the unique (property_id, renter_id) index refuses the second chat (whose id,
  derived from the pair, is the first one's too);
- one open report per reporter and chat: a partial unique index on open reports refuses a second.

ChatService (service.py) is assembled from one class per behaviour, each in its own module: core
(dependencies, chat ids, access), sending, reading (pages and read marks), unread (counters and their
pushes), sync, summaries (list rows and chat views), moderation (block, report), initiation and presence
(online, typing). Each class inherits the behaviours it calls, so the service's MRO is their dependency
graph. Beside them: commands (what clients send, shared by REST and Socket.IO), views (what the service
answers and emits), send_rules and paging (pure checks and arithmetic), directory and locks (what one
process remembers). The chat document's updates are in documents/chat_writes.py.
"""

from __future__ import annotations

from homer_rt.services.chats.commands import MAX_ATTACHMENTS
from homer_rt.services.chats.core import CHAT_ID_SECRET, CHAT_UPLOAD_AREA, chat_not_found
from homer_rt.services.chats.reading import ChatPage
from homer_rt.services.chats.send_rules import FIRST_MESSAGE_CLIENT_ID
from homer_rt.services.chats.sending import SendResult
from homer_rt.services.chats.service import ChatService

__all__ = [
    "CHAT_ID_SECRET",
    "CHAT_UPLOAD_AREA",
    "FIRST_MESSAGE_CLIENT_ID",
    "MAX_ATTACHMENTS",
    "ChatPage",
    "ChatService",
    "SendResult",
    "chat_not_found",
]
