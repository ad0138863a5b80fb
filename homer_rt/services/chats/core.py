"""What every part of the chat service shares: its dependencies, chat ids, and who may open a chat."""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import TYPE_CHECKING, Any

from documents.chat import Chat
from documents.chat_ids import chat_id_for
from documents.user import User
from homer_rt.clock import Clock
from homer_rt.errors import NotFound
from homer_rt.metrics import Metrics
from homer_rt.presence import PresenceRegistry
from homer_rt.ratelimit import SlidingWindowLimiter
from homer_rt.realtime import RealtimeEmitter
from homer_rt.services.admin_feed import AdminFeed
from homer_rt.services.chats.directory import CHATS_REMEMBERED, ChatDirectory
from homer_rt.services.chats.locks import KeyedLocks
from homer_rt.services.notifications import NotificationService
from homer_rt.services.server_secrets import server_secret

if TYPE_CHECKING:
    from homer_rt.services.uploads import UploadService

CHAT_UPLOAD_AREA = "chat"
# The server secret chat ids are keyed with (documents.chat.chat_id_for).
CHAT_ID_SECRET = "chat_ids"

Spawn = Callable[[Coroutine[Any, Any, None], str], object]


def to_ms(value: datetime) -> datetime:
    """MongoDB keeps milliseconds; cutting here makes what a client sees equal to what ``since`` compares."""
    return value.replace(microsecond=value.microsecond // 1000 * 1000)


def chat_not_found() -> NotFound:
    """What a chat that does not exist and someone else's chat both answer, word for word: a different
    answer would tell anyone who can guess a chat's id which chats exist (whom a renter contacted)."""
    return NotFound("Chat not found", code="chat_not_found")


class ChatCore:
    """The service's dependencies and state, and the access checks every behaviour starts with."""

    def __init__(
        self,
        *,
        clock: Clock,
        emitter: RealtimeEmitter,
        notifications: NotificationService,
        uploads: UploadService | None,
        send_limiter: SlidingWindowLimiter,
        typing_limiter: SlidingWindowLimiter,
        free_contact_limit: int,
        max_message_chars: int,
        page_size: int,
        spawn: Spawn,
        presence: PresenceRegistry,
        unread_push_interval: float = 0.25,
        admin_feed: AdminFeed | None = None,
        metrics: Metrics,
    ) -> None:
        self._clock = clock
        self._metrics = metrics
        self._send_seconds = metrics.chat_send_seconds
        self._messages_sent = metrics.chat_messages_sent
        self._messages_delivered = metrics.chat_messages_delivered
        self._emitter = emitter
        self._notifications = notifications
        self._uploads = uploads
        self._send_limiter = send_limiter
        self._typing_limiter = typing_limiter
        self._free_contact_limit = free_contact_limit
        self._max_message_chars = max_message_chars
        self._page_size = page_size
        self._admin_feed = admin_feed
        self._spawn = spawn
        self._unread_push_interval = unread_push_interval
        # Users whose unread push window is open -> whether a change arrived since their last push.
        self._unread_windows: dict[str, bool] = {}
        self._directory = ChatDirectory(CHATS_REMEMBERED)
        self._initiate_locks = KeyedLocks()
        self._presence = presence
        self._chat_id_key: bytes | None = None
        if uploads is not None:
            uploads.register_policy(CHAT_UPLOAD_AREA, self._may_read_chat_file)

    @property
    def page_size(self) -> int:
        return self._page_size

    async def load_chat_id_key(self) -> None:
        """Read (or make, the first time) the key chat ids are derived with, kept in the store: every process
        and restart over one store derives the same id for a renter and a property. Run at start-up."""
        self._chat_id_key = await server_secret(CHAT_ID_SECRET, now=self._clock.now())

    def chat_id_for(self, *, property_id: str, renter_id: str) -> str:
        """The id a new chat between ``renter_id`` and ``property_id``'s owner gets."""
        if self._chat_id_key is None:
            raise RuntimeError("ChatService.load_chat_id_key() must run at start-up, before chats are made")
        return chat_id_for(self._chat_id_key, property_id, renter_id)

    async def get_for_participant(self, *, chat_id: str, user_id: str) -> Chat:
        chat = await Chat.get(chat_id)
        if chat is None or not chat.is_participant(user_id):
            raise chat_not_found()
        return chat

    async def _may_read_chat_file(self, user: User | None, owner_segment: str) -> bool:
        if user is None:
            return False
        if user.is_admin:
            return True
        chat = await Chat.get(owner_segment)
        return chat is not None and chat.is_participant(user.id)

    async def _reload(self, chat_id: str) -> Chat:
        chat = await Chat.get(chat_id)
        if chat is None:
            raise chat_not_found()
        return chat
