"""Starting a chat: a renter's first message about a listing, paid for with a free contact unless premium."""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError

from documents.chat import Chat, ChatInitiator, ChatParties
from documents.property import Property, PropertyStatus
from documents.user import User
from homer_rt.errors import BadRequest, Forbidden, NotFound
from homer_rt.realtime import CHAT_NAMESPACE
from homer_rt.services.chats.core import to_ms
from homer_rt.services.chats.send_rules import FIRST_MESSAGE_CLIENT_ID, check_text
from homer_rt.services.chats.sending import MessageSending
from homer_rt.services.chats.summaries import ChatSummaries
from homer_rt.services.chats.views import ChatCreatedEvent


class ChatInitiation(MessageSending, ChatSummaries):
    """A renter's chat about a listing: found or created, its first message stored once, the owner told."""

    async def initiate(self, *, user: User, property_id: str, initial_message: str) -> tuple[Chat, bool]:
        """The renter's chat about a property: (chat, started), ``started`` when this call stored its first
        message and told the owner. An existing chat costs no contact. One whose first message never landed
        (the initiate that created it failed after the insert) takes this call's message instead."""
        if not user.is_renter:
            raise Forbidden("Only renters can initiate chats", code="renter_required")
        text = check_text(
            initial_message, attachments=[], max_chars=self._max_message_chars, field="initial_message"
        )
        prop = await Property.get(property_id)
        if prop is None or prop.status == PropertyStatus.DELETED:
            raise NotFound("Property not found", code="property_not_found")
        if prop.owner_id == user.id:
            raise BadRequest("You cannot start a chat about your own property", code="own_property")

        async with self._initiate_locks.hold(user.id):
            # By the pair, which is what makes a chat this renter's about this listing: the demo's chat has
            # a fixed id (the same in separately seeded stores, whose id keys differ), not the derived one.
            chat = await Chat.find_one({"property_id": property_id, "renter_id": user.id})
            if chat is None:
                chat = await self._create_chat(user=user, prop=prop)
            if chat.recent_messages:
                return chat, False
            # The first message has a fixed client_msg_id: initiates racing in two processes store it once.
            first = await self._append(
                parties=ChatParties.of(chat),
                expected_seq=chat.last_seq,
                sender_id=user.id,
                text=text,
                attachments=[],
                client_msg_id=FIRST_MESSAGE_CLIENT_ID,
            )
            chat = await self._reload(chat.id)
            if not first.created:
                return chat, False
        self._messages_sent.inc()
        for viewer in (chat.owner_id, chat.renter_id):
            event: ChatCreatedEvent = {
                "chat": await self.chat_summary(chat=chat, viewer_id=viewer, messages=[first.message])
            }
            await self._emitter.to_user(viewer, "chat_created", event, namespace=CHAT_NAMESPACE)
        self._messages_delivered.inc()  # the first message travels inside chat_created
        await self._push_unread(chat.owner_id)
        renter_name = user.full_name or "A renter"
        await self._notifications.notify(
            user_id=chat.owner_id,
            type="new_chat",
            title="New enquiry",
            message=f"{renter_name} asked about {prop.title}",
            action_url=f"/chats/{chat.id}",
        )
        return chat, True

    async def _create_chat(self, *, user: User, prop: Property) -> Chat:
        """Insert the renter's chat about ``prop``, taking a free contact unless premium; the chat another
        process created first when it won the race (and the contact is refunded)."""
        if not prop.visible_to(user):
            # As a missing listing: whether a hidden one exists is its owner's business.
            raise NotFound("Property not found", code="property_not_found")
        if prop.status != PropertyStatus.ACTIVE:  # an admin renting, who sees hidden listings
            raise BadRequest("This property is not available for enquiries", code="property_inactive")
        now = self._clock.now()
        charged = not user.is_premium(now)
        if charged and not await self._take_contact(user.id):
            raise Forbidden(
                f"Contact limit reached: the free plan includes {self._free_contact_limit} owner "
                "contacts. Upgrade to premium for unlimited contacts.",
                code="contact_limit_reached",
                extra={"limit": self._free_contact_limit, "upgrade_url": "/pricing"},
            )
        chat = Chat(
            id=self.chat_id_for(property_id=prop.id, renter_id=user.id),
            property_id=prop.id,
            renter_id=user.id,
            owner_id=prop.owner_id,
            participants=[user.id, prop.owner_id],
            initiated_by=ChatInitiator.RENTER,
            created_at=to_ms(now),
            last_message_at=to_ms(now),
        )
        try:
            await chat.insert()
        except DuplicateKeyError:
            if charged:
                await User.refund_contact(user.id)
            # The same pair's chat, inserted by a racing initiate (under this id, or the demo's own).
            winner = await Chat.find_one({"property_id": prop.id, "renter_id": user.id})
            if winner is None:
                raise
            return winner
        await Property.record_contact(prop.id)
        return chat

    async def _take_contact(self, user_id: str) -> bool:
        return await User.take_contact(user_id, limit=self._free_contact_limit)
