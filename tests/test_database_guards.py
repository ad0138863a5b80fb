"""Invariants the database enforces with unique indexes (on MongoDB and on the embedded store alike), not only
the code that writes: one message per seq of a chat, one chat per renter and listing, one open report per
reporter and chat, one open or paid order per listing fee (and a purchase key on every order)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pymongo.errors import DuplicateKeyError

from documents.base import collection_of, new_id
from documents.chat import Chat, ChatMessage, ChatReport, ReportStatus, SenderType
from documents.transaction import Transaction, verification_purchase_key
from tests.factories import make_chat, make_transaction

NOW = datetime(2025, 6, 1, 9, 0, tzinfo=UTC)


def message(chat_id: str, seq: int, sender_id: str) -> ChatMessage:
    return ChatMessage(
        chat_id=chat_id,
        seq=seq,
        sender_id=sender_id,
        sender_type=SenderType.RENTER,
        message="hi",
        timestamp=NOW,
    )


async def test_a_chat_holds_one_message_per_seq(client: TestClient[Any, Any]) -> None:
    renter, _, _, chat_id = await make_chat(client)  # its first message has seq 1
    renter_id = renter["user"]["user_id"]
    with pytest.raises(DuplicateKeyError):
        await message(chat_id, 1, renter_id).insert()
    with pytest.raises(DuplicateKeyError):
        await collection_of(ChatMessage).insert_one(
            ChatMessage.row_of(message(chat_id, 1, renter_id).as_recent(), chat_id=chat_id)
        )
    await message(chat_id, 2, renter_id).insert()
    await message("another-chat", 1, renter_id).insert()
    assert await ChatMessage.find({"chat_id": chat_id, "seq": 1}).count() == 1


async def test_a_renter_has_one_chat_per_listing(client: TestClient[Any, Any]) -> None:
    renter, _, prop, chat_id = await make_chat(client)
    chat = await Chat.get(chat_id)
    assert chat is not None
    twin = chat.model_copy(update={"id": new_id()})  # the same pair under another id
    with pytest.raises(DuplicateKeyError):
        await twin.insert()
    other_listing = chat.model_copy(update={"id": new_id(), "property_id": "another-listing"})
    await other_listing.insert()
    assert await Chat.find({"property_id": prop.id, "renter_id": renter["user"]["user_id"]}).count() == 1


async def test_a_reporter_has_one_open_report_per_chat(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    renter_id, owner_id = renter["user"]["user_id"], owner["user"]["user_id"]

    def report(reporter_id: str, status: ReportStatus = ReportStatus.OPEN) -> ChatReport:
        reported = owner_id if reporter_id == renter_id else renter_id
        return ChatReport(
            chat_id=chat_id, reporter_id=reporter_id, reported_user_id=reported, reason="spam", status=status,
            created_at=NOW,
        )  # fmt: skip

    first = await report(renter_id).insert()
    with pytest.raises(DuplicateKeyError):
        await report(renter_id).insert()
    await report(renter_id, ReportStatus.RESOLVED).insert()  # closed reports are not counted
    await report(owner_id).insert()  # the other participant's own
    await collection_of(ChatReport).update_one({"_id": first.id}, {"$set": {"status": "resolved"}})
    reopened = await report(renter_id).insert()
    with pytest.raises(DuplicateKeyError):  # back to open while another is: refused
        await collection_of(ChatReport).update_one({"_id": first.id}, {"$set": {"status": "open"}})
    assert [r.id for r in await ChatReport.find({"reporter_id": renter_id, "status": "open"}).to_list()] == [
        reopened.id
    ]


async def test_a_listing_fee_has_one_open_or_paid_order_and_every_order_a_purchase_key(
    client: TestClient[Any, Any],
) -> None:
    key = verification_purchase_key("property-1")
    first = await make_transaction(user_id="owner-1")
    await collection_of(Transaction).update_one({"_id": first.id}, {"$set": {"purchase_key": key}})
    second = await make_transaction(user_id="owner-1")
    with pytest.raises(DuplicateKeyError):
        await collection_of(Transaction).update_one({"_id": second.id}, {"$set": {"purchase_key": key}})
    # Not sparse: an order stored without a key would hold the one null key.
    stored = await collection_of(Transaction).find_one({"_id": second.id})
    assert stored is not None
    for number in range(2):
        row = {**stored, "_id": new_id(), "order_id": f"order_{number}"}
        del row["purchase_key"]
        if number == 0:
            await collection_of(Transaction).insert_one(row)
        else:
            with pytest.raises(DuplicateKeyError):
                await collection_of(Transaction).insert_one(row)
