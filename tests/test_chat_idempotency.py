"""A message is stored once however often it is sent: its id is derived from (chat, sender, client_msg_id),
so the primary key refuses a duplicate on the embedded store and on MongoDB alike, and tells a retry from a
new message (a unique (chat_id, seq) index also guards the seqs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from pymongo.errors import AutoReconnect

from documents.base import collection_of
from documents.chat import RECENT_MESSAGES, Chat, ChatMessage, ChatParties, message_id_for
from homer_rt.app import create_app
from homer_rt.appkeys import CHATS
from homer_rt.clock import AdjustableClock
from tests.factories import ClientFactory, make_chat, make_settings


async def fast_client(aiohttp_client: ClientFactory, tmp_path: Path) -> TestClient[Any, Any]:
    app = create_app(make_settings(tmp_path, chat_send_rate_per_10s=1000), clock=AdjustableClock())
    return await aiohttp_client(app)


async def stored(chat_id: str) -> list[ChatMessage]:
    return await ChatMessage.find({"chat_id": chat_id}).sort("seq").to_list()


async def unread(client: TestClient[Any, Any], who: dict[str, Any]) -> int:
    body = await (await client.get("/api/chats/unread-count", headers=who["headers"])).json()
    return int(body["unread_count"])


async def test_a_retry_collides_on_the_message_id(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    client = await fast_client(aiohttp_client, tmp_path)
    renter, _, _, chat_id = await make_chat(client)
    renter_id = renter["user"]["user_id"]
    sent = await client.app[CHATS].send(chat_id=chat_id, user_id=renter_id, message="hi", client_msg_id="k1")
    assert sent.message.message_id == message_id_for(chat_id, renter_id, "k1")
    # The same key from the other participant, or in another chat, is another message.
    assert message_id_for(chat_id, "someone-else", "k1") != sent.message.message_id
    assert message_id_for("another-chat", renter_id, "k1") != sent.message.message_id

    indexes = await collection_of(ChatMessage).index_information()
    unique = sorted(name for name, spec in indexes.items() if spec.get("unique"))
    assert unique == ["chat_seq"]  # besides _id: one message per seq of a chat
    assert list(indexes["chat_seq"]["key"]) == [("chat_id", 1), ("seq", 1)]  # pages, sync


async def test_retry_older_than_the_window_stores_and_counts_nothing_twice(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    """A retry this process no longer remembers (or one through another process) reserves a seq before the
    primary key refuses it: the reservation is uncounted and its seq stays unused, marked in the window."""
    client = await fast_client(aiohttp_client, tmp_path)
    renter, owner, _, chat_id = await make_chat(client)
    chats = client.app[CHATS]
    renter_id = renter["user"]["user_id"]
    total = RECENT_MESSAGES + 5
    first = None
    for seq in range(2, total + 1):
        result = await chats.send(
            chat_id=chat_id, user_id=renter_id, message=f"m{seq}", client_msg_id=f"c{seq}"
        )
        first = first or result
    assert first is not None and first.message.seq == 2
    before = await Chat.get(chat_id)
    assert before is not None and before.recent_messages[0].seq > 2  # the retried message left the window

    again = await chats.send(chat_id=chat_id, user_id=renter_id, message="m2", client_msg_id="c2")
    assert again.created is False
    assert again.view()["message_id"] == first.message.message_id and again.view()["seq"] == 2

    messages = await stored(chat_id)
    assert [m.seq for m in messages] == list(range(1, total + 1))
    assert len({m.id for m in messages}) == total
    after = await Chat.get(chat_id)
    assert after is not None
    assert after.last_seq == total + 1 and after.sent_renter == total  # seq total + 1 stays unused
    window = after.recent_messages
    assert first.message.message_id not in {m.message_id for m in window}
    assert [m.seq for m in window] == list(range(total - len(window) + 1, total + 1))
    assert await unread(client, owner) == total
    # The window's newest entry is now the unused seq: the list row still shows the newest message.
    for who in (renter, owner):
        rows = await (await client.get("/api/chats", headers=who["headers"])).json()
        assert [row["last_message"]["seq"] for row in rows] == [total]
        assert [row["messages"][0]["message"] for row in rows] == [f"m{total}"]

    # Sending goes on right after: the next message takes the next seq and shows on the latest page, which
    # the window still answers by itself (the unused seq is marked, not a hole).
    nxt = await chats.send(chat_id=chat_id, user_id=renter_id, message="next", client_msg_id="c-next")
    assert nxt.created is True and nxt.message.seq == total + 2
    latest = await Chat.get(chat_id)
    assert latest is not None
    assert latest.page_from_window(before=latest.last_seq + 1, size=RECENT_MESSAGES - 1) is not None
    page = await (await client.get(f"/api/chats/{chat_id}", headers=renter["headers"])).json()
    seqs = [m["seq"] for m in page["messages"]]
    assert seqs[-2:] == [total, total + 2] and len(seqs) == len(set(seqs))
    assert await unread(client, owner) == total + 1


async def test_a_retry_this_process_stored_is_answered_within_the_rate_limit(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    app = create_app(make_settings(tmp_path, chat_send_rate_per_10s=3), clock=AdjustableClock())
    client = await aiohttp_client(app)
    renter, _, _, chat_id = await make_chat(client)
    chats = client.app[CHATS]
    renter_id = renter["user"]["user_id"]
    sent = [
        await chats.send(chat_id=chat_id, user_id=renter_id, message=f"m{n}", client_msg_id=f"k{n}")
        for n in range(3)
    ]
    for _ in range(3):  # a flaky client resending its last message: no refusal, no new message
        again = await chats.send(chat_id=chat_id, user_id=renter_id, message="m2", client_msg_id="k2")
        assert again.created is False and again.view()["seq"] == sent[2].view()["seq"]
    chat = await Chat.get(chat_id)
    assert chat is not None and chat.last_seq == 4 and chat.sent_renter == 4


def failing_inserts(monkeypatch: pytest.MonkeyPatch, *, failures: int, land_first: bool = False) -> list[int]:
    """Make the next ``failures`` inserts into chat_messages raise AutoReconnect; with ``land_first`` the
    first of them is written before it raises (the connection dropped after the write). Returns a counter
    of the inserts tried."""
    messages = collection_of(ChatMessage)
    insert_one = type(messages).insert_one
    left, tried = [failures], [0]

    async def insert(self: Any, document: Any, *args: Any, **kwargs: Any) -> Any:
        if self.name != messages.name:
            return await insert_one(self, document, *args, **kwargs)
        tried[0] += 1
        if left[0] > 0:
            left[0] -= 1
            if land_first and tried[0] == 1:
                await insert_one(self, dict(document), *args, **kwargs)
            raise AutoReconnect("connection closed")
        return await insert_one(self, document, *args, **kwargs)

    monkeypatch.setattr(type(messages), "insert_one", insert)
    return tried


async def test_an_insert_that_failed_is_tried_once_more(
    aiohttp_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await fast_client(aiohttp_client, tmp_path)
    renter, owner, _, chat_id = await make_chat(client)
    chats = client.app[CHATS]
    tried = failing_inserts(monkeypatch, failures=1)
    sent = await chats.send(chat_id=chat_id, user_id=renter["user"]["user_id"], message="Still free?")
    assert sent.created is True and sent.message.seq == 2 and tried[0] == 2
    assert [(m.seq, m.message) for m in await stored(chat_id)][-1] == (2, "Still free?")
    assert await unread(client, owner) == 2


async def test_an_insert_that_landed_but_failed_is_counted_once(
    aiohttp_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The write reached the store, then the connection dropped: the second try is refused by the primary
    key with this very message, so the send succeeded, and it is counted and delivered once."""
    client = await fast_client(aiohttp_client, tmp_path)
    renter, owner, _, chat_id = await make_chat(client)
    chats = client.app[CHATS]
    failing_inserts(monkeypatch, failures=1, land_first=True)
    sent = await chats.send(chat_id=chat_id, user_id=renter["user"]["user_id"], message="Landed")
    assert sent.created is True and sent.message.seq == 2
    assert [m.seq for m in await stored(chat_id)] == [1, 2]
    chat = await Chat.get(chat_id)
    assert chat is not None and chat.sent_renter == 2 and [m.seq for m in chat.recent_messages] == [1, 2]
    assert await unread(client, owner) == 2


async def test_a_send_whose_insert_failed_is_stored_once_by_its_retry(
    aiohttp_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both tries failed: the send undoes its count and marks its seq unused, and the client's retry stores
    the message once, counted once, with the next seq."""
    client = await fast_client(aiohttp_client, tmp_path)
    renter, owner, _, chat_id = await make_chat(client)
    chats = client.app[CHATS]
    renter_id = renter["user"]["user_id"]
    failing_inserts(monkeypatch, failures=2)
    with pytest.raises(AutoReconnect):
        await chats.send(chat_id=chat_id, user_id=renter_id, message="Still free?", client_msg_id="k-cut")
    assert [m.seq for m in await stored(chat_id)] == [1]
    chat = await Chat.get(chat_id)
    assert chat is not None and chat.sent_renter == 1 and [m.seq for m in chat.recent_messages] == [1]
    assert await unread(client, owner) == 1

    retried = await chats.send(
        chat_id=chat_id, user_id=renter_id, message="Still free?", client_msg_id="k-cut"
    )
    assert retried.created is True  # this call stored it, so this call delivers it
    assert retried.message.seq == 3
    assert retried.message.message_id == message_id_for(chat_id, renter_id, "k-cut")
    assert [(m.seq, m.message) for m in await stored(chat_id)] == [
        (1, "Hello, is it available?"),
        (3, "Still free?"),
    ]
    chat = await Chat.get(chat_id)
    assert chat is not None and chat.last_seq == 3 and chat.sent_renter == 2
    assert [m.seq for m in chat.recent_messages] == [1, 3]
    assert chat.page_from_window(before=4, size=50) is not None  # seq 2 is marked unused, not a hole
    assert await unread(client, owner) == 2
    page = await (await client.get(f"/api/chats/{chat_id}", headers=owner["headers"])).json()
    assert [(m["seq"], m["message"]) for m in page["messages"]] == [
        (1, "Hello, is it available?"),
        (3, "Still free?"),
    ]

    third = await chats.send(chat_id=chat_id, user_id=renter_id, message="Still free?", client_msg_id="k-cut")
    assert third.created is False and third.message.seq == 3
    assert len(await stored(chat_id)) == 2


async def test_a_send_that_lost_the_race_for_its_seq_takes_the_next_one(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    """Two sends read the chat at the same last_seq (on MongoDB, concurrent sends do): the second one's
    compare-and-set fails, and it reserves the following seq instead; nothing is lost or reordered."""
    client = await fast_client(aiohttp_client, tmp_path)
    renter, owner, _, chat_id = await make_chat(client)
    chats = client.app[CHATS]
    renter_id, owner_id = renter["user"]["user_id"], owner["user"]["user_id"]
    chat = await Chat.get(chat_id)
    assert chat is not None
    await chats.send(chat_id=chat_id, user_id=renter_id, message="first", client_msg_id="a")
    late = await chats._append(
        parties=ChatParties.of(chat),
        expected_seq=chat.last_seq,  # read before "first" took seq 2
        sender_id=owner_id,
        text="second",
        attachments=[],
        client_msg_id="b",
    )
    assert late.created is True and late.message.seq == 3

    after = await Chat.get(chat_id)
    assert after is not None and after.last_seq == 3
    assert [(m.seq, m.message) for m in after.recent_messages] == [
        (1, "Hello, is it available?"),
        (2, "first"),
        (3, "second"),
    ]
    assert (after.sent_renter, after.sent_owner) == (2, 1)
    assert [m.seq for m in await stored(chat_id)] == [1, 2, 3]
