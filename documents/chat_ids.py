"""How chat and message ids follow from what they name, so a retry or a race collides on the primary key."""

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
    """A renter has one chat per property (the unique (property_id, renter_id) index of chats says so): its
    id follows from the pair too, so two initiates racing in two processes insert the same id.

    Keyed (HMAC-SHA256) with a secret only the server knows, so nobody can work out the id of a chat they
    are not in. Shown as a UUID of RFC 9562's custom version 8, like every other id."""
    digest = hmac.new(key, f"{property_id}\n{renter_id}".encode(), hashlib.sha256).digest()
    return _uuid_text(bytearray(digest[:16]), 8)


def message_id_for(chat_id: str, sender_id: str, client_msg_id: str) -> str:
    """A message's id follows from its idempotency key, so a retry collides with the stored message on the
    primary key, which tells a retry (answered with the stored message) from a new message."""
    return name_based_id(MESSAGE_ID_NAMESPACE, f"{chat_id}\n{sender_id}\n{client_msg_id}")
