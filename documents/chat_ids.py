"""How chat, message and report ids follow from what they name, so a retry or a race collides on the key."""

from __future__ import annotations

import hashlib
import hmac
import uuid

# Fixed forever: changing it would give a retry of an already stored message a different id.
MESSAGE_ID_NAMESPACE = uuid.UUID("c74c33c6-9659-49fe-89e1-6ece989fe1e0")


def _uuid_text(digest: bytearray, version: int) -> str:
    """16 bytes of a hash as a UUID string with ``version`` and the RFC 4122 variant bits set."""
    digest[6] = (digest[6] & 0x0F) | (version << 4)
    digest[8] = (digest[8] & 0x3F) | 0x80
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


def name_based_id(namespace: uuid.UUID, name: str) -> str:
    """``str(uuid.uuid5(namespace, name))`` without building UUID objects, a few microseconds a message:
    the SHA-1 of namespace + name, cut to 16 bytes, with the version (5) and RFC 4122 variant bits set."""
    return _uuid_text(bytearray(hashlib.sha1(namespace.bytes + name.encode()).digest()[:16]), 5)


def chat_id_for(key: bytes, property_id: str, renter_id: str) -> str:
    """A renter has one chat per property: its id follows from the pair, so two initiates racing in two
    processes collide on the primary key. A secondary unique index would do the same, but the embedded store
    checks one by scanning every chat on every update, and every message sent updates its chat.

    Keyed (HMAC-SHA256) with a secret only the server knows, so nobody can work out the id of a chat they
    are not in. Shown as a UUID of RFC 9562's custom version 8, like every other id."""
    digest = hmac.new(key, f"{property_id}\n{renter_id}".encode(), hashlib.sha256).digest()
    return _uuid_text(bytearray(digest[:16]), 8)


# Fixed forever: a reporter's next report of a chat must keep its id (report_id_for).
REPORT_ID_NAMESPACE = uuid.UUID("0b6e2f4a-8c1d-4e7f-b3a5-92d8c6e1f047")


def report_id_for(chat_id: str, reporter_id: str, number: int) -> str:
    """The id of a reporter's ``number``-th report of a chat (from 0). Two reports filed at once get the
    same number, so the primary key lets one in: one open report per reporter and chat, without a unique
    index the embedded store would check by scanning (or a partial one it would not honour)."""
    return name_based_id(REPORT_ID_NAMESPACE, f"{chat_id}\n{reporter_id}\n{number}")


def message_id_for(chat_id: str, sender_id: str, client_msg_id: str) -> str:
    """A message's id follows from its idempotency key, so a retry collides with the stored message on the
    primary key: a check the embedded store makes in O(1) and MongoDB makes on every insert anyway."""
    return name_based_id(MESSAGE_ID_NAMESPACE, f"{chat_id}\n{sender_id}\n{client_msg_id}")
