"""The send path's shortcuts keep every guarantee: a chat's parties are remembered per process but its state
is not, unread pushes are coalesced but end at the true count, and the recent window is stored packed."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from documents.base import collection_of
from documents.chat import (
    MESSAGE_ID_NAMESPACE,
    Chat,
    ChatMessage,
    message_id_for,
    name_based_id,
)
from homer_rt import jsoncodec
from homer_rt.app import create_app
from homer_rt.appkeys import CHATS
from homer_rt.clock import AdjustableClock
from homer_rt.errors import Forbidden
from tests.chat_support import base_url, live
from tests.factories import ClientFactory, make_chat, make_settings


async def test_a_chat_blocked_elsewhere_refuses_a_send_from_a_process_that_knows_it(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    """This process has sent in the chat (and remembers its parties); another process blocks it: the next
    send here is refused, and a retry of a message stored before still gets that message."""
    client = await aiohttp_client(create_app(make_settings(tmp_path), clock=AdjustableClock()))
    renter, _, _, chat_id = await make_chat(client)
    chats = client.app[CHATS]
    renter_id = renter["user"]["user_id"]
    first = await chats.send(chat_id=chat_id, user_id=renter_id, message="Before", client_msg_id="k1")

    await collection_of(Chat).update_one(
        {"_id": chat_id}, {"$set": {"status": "blocked", "blocked_by": "someone"}}
    )
    with pytest.raises(Forbidden) as refused:
        await chats.send(chat_id=chat_id, user_id=renter_id, message="After", client_msg_id="k2")
    assert refused.value.code == "chat_blocked"
    retried = await chats.send(chat_id=chat_id, user_id=renter_id, message="Before", client_msg_id="k1")
    assert retried.created is False and retried.view()["message_id"] == first.view()["message_id"]
    assert [m.seq for m in await ChatMessage.find({"chat_id": chat_id}).to_list()] == [1, 2]


async def test_a_message_sent_by_another_process_does_not_share_a_seq(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    """Another process took the seq this one expected (it wrote the chat directly): this send takes the next
    one, and the window stays in seq order."""
    client = await aiohttp_client(create_app(make_settings(tmp_path), clock=AdjustableClock()))
    renter, owner, _, chat_id = await make_chat(client)
    chats = client.app[CHATS]
    await chats.send(chat_id=chat_id, user_id=renter["user"]["user_id"], message="two")
    await collection_of(Chat).update_one({"_id": chat_id}, {"$inc": {"last_seq": 1}})
    third = await chats.send(chat_id=chat_id, user_id=owner["user"]["user_id"], message="four")
    assert third.message.seq == 4
    chat = await Chat.get(chat_id)
    assert chat is not None and [m.seq for m in chat.recent_messages] == [1, 2, 4]


async def test_a_lone_message_is_counted_at_once_and_a_burst_in_one_more_push(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    settings = make_settings(tmp_path, chat_unread_push_interval_ms=800)
    client = await aiohttp_client(create_app(settings, clock=AdjustableClock()))
    renter, owner, _, chat_id = await make_chat(client)
    chats = client.app[CHATS]
    renter_id = renter["user"]["user_id"]
    async with live(base_url(client), owner["token"]) as owner_live:
        recorder = owner_live.recorder
        assert await recorder.wait_for("unread_count") == {"unread_count": 1, "chats": {chat_id: 1}}
        await chats.send(chat_id=chat_id, user_id=renter_id, message="m0")
        # After a quiet spell the count follows the message at once, not at the end of the interval.
        assert await recorder.wait_for("unread_count", lambda e: e["unread_count"] == 2, within=0.5) == {
            "unread_count": 2,
            "chats": {chat_id: 2},
        }
        for n in range(1, 5):
            await chats.send(chat_id=chat_id, user_id=renter_id, message=f"m{n}")
        # Every message goes out at once; the four sent inside the interval are counted in one more push.
        messages = await recorder.wait_count("message", 5)
        assert [m["message"]["message"] for m in messages] == [f"m{n}" for n in range(5)]
        await asyncio.sleep(0.3)
        assert [e["unread_count"] for e in recorder.events["unread_count"]] == [1, 2]
        pushed = await recorder.wait_for("unread_count", lambda e: e["unread_count"] == 6, within=3.0)
        assert pushed == {"unread_count": 6, "chats": {chat_id: 6}}
        await asyncio.sleep(0.9)  # the window after that push closes with nothing new: no further push
        assert [e["unread_count"] for e in recorder.events["unread_count"]] == [1, 2, 6]
        await chats.send(chat_id=chat_id, user_id=renter_id, message="after a quiet spell")
        await recorder.wait_for("unread_count", lambda e: e["unread_count"] == 7, within=0.5)


def test_json_text_is_compact_and_falls_back_for_what_orjson_refuses() -> None:
    assert jsoncodec.dumps({"a": [1, "é"]}) == '{"a":[1,"é"]}'
    assert jsoncodec.dumps({"big": 2**70}) == '{"big":1180591620717411303424}'
    assert jsoncodec.dumps({1: "x"}) == '{"1":"x"}'


@pytest.mark.parametrize(
    "name", ["", "chat\nuser\nkey-1", "ключ 🙂", "x" * 500, "c74c33c6-9659-49fe-89e1-6ece989fe1e0\n\n"]
)
def test_message_ids_are_uuid5_of_their_names(name: str) -> None:
    """Ids stored before must keep matching: the fast derivation is uuid5, byte for byte."""
    for namespace in (MESSAGE_ID_NAMESPACE, uuid.NAMESPACE_URL):
        assert name_based_id(namespace, name) == str(uuid.uuid5(namespace, name))
    assert message_id_for("c", "s", "k") == str(uuid.uuid5(MESSAGE_ID_NAMESPACE, "c\ns\nk"))
