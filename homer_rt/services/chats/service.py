"""ChatService: every chat behaviour in one object, the one REST handlers and Socket.IO namespaces call."""

from __future__ import annotations

from homer_rt.services.chats.initiation import ChatInitiation
from homer_rt.services.chats.moderation import ChatModeration
from homer_rt.services.chats.sync import ChatSync


class ChatService(ChatInitiation, ChatSync, ChatModeration):
    """Live chat between a renter and a property's owner (see the package's docstring for its invariants)."""
