"""A deploy under live chat traffic loses and duplicates nothing.

Renters and owners chat in pairs through real Socket.IO clients that reconnect by themselves, as the
frontend's do. Each sends its messages back to back (so each has one in flight when the server stops),
with a ``client_msg_id``; when its connection drops before the ack, it sends the same message again once
reconnected. After every (re)connection it first asks ``sync {chats: {chat_id: last_seq}}`` for what it
missed (``last_seq``: the highest seq up to which it holds every message). Mid-traffic the server gets
SIGTERM; a new process starts on the same address and data file; the clients reconnect to it and carry on.
At the end every message is acked once, stored once, and in its receiver's view (live deliveries plus
syncs), exactly once.

The restart is of one process over ``EMBEDDED_DATA_FILE``: the embedded store is per process, so two
processes behind Redis would not share messages (with MongoDB, a rolling restart of one of several
processes is the same sequence, and the clients of the stopping one reconnect to the others).
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import socketio

from tests.chat_support import WAIT, eventually
from tests.factories import PASSWORD, listing_body
from tests.server_support import free_port, server_process

PAIRS = 4
MESSAGES_PER_CLIENT = 30
# SIGTERM once this many messages are acked: a quarter of them, so traffic runs on both sides of the restart.
RESTART_AFTER_ACKS = PAIRS * 2 * MESSAGES_PER_CLIENT // 4
TRAFFIC_TIMEOUT = 60.0
LIMITS_OFF = str(10**6)  # every client is 127.0.0.1 and sends fast: the abuse limits are not under test


@dataclass
class ChatClient:
    name: str
    user_id: str
    token: str
    chat_id: str
    sio: socketio.AsyncClient = field(
        default_factory=lambda: socketio.AsyncClient(reconnection_delay=0.1, reconnection_delay_max=0.5)
    )
    connections: int = 0
    synced_connection: int = 0
    # Resolved with the disconnect reason when the current connection drops.
    dropped: asyncio.Future[str] | None = None
    up: asyncio.Event = field(default_factory=asyncio.Event)
    shutdown_notices: int = 0
    # client_msg_id -> every message id an ack answered it with (a retried send must get the same one).
    acked: dict[str, set[str]] = field(default_factory=dict)
    # What this client holds of its chat: the partner's messages (live or synced) and every seq it knows.
    received: dict[str, dict[str, Any]] = field(default_factory=dict)
    seqs: set[int] = field(default_factory=set)
    retried_sends: int = 0

    async def connect(self, url: str) -> None:
        self.sio.on("connect", self._on_connect, namespace="/chat")
        self.sio.on("disconnect", self._on_disconnect, namespace="/chat")
        self.sio.on("message", self._on_message, namespace="/chat")
        self.sio.on("server_shutdown", self._on_server_shutdown, namespace="/chat")
        await self.sio.connect(
            url, namespaces=["/chat"], transports=["websocket"], auth={"token": self.token}, wait_timeout=WAIT
        )

    async def _on_connect(self) -> None:
        self.connections += 1
        self.dropped = asyncio.get_running_loop().create_future()
        self.up.set()

    async def _on_disconnect(self, reason: str) -> None:
        self.up.clear()
        if self.dropped is not None and not self.dropped.done():
            self.dropped.set_result(reason)

    async def _on_message(self, data: dict[str, Any]) -> None:
        if data["chat_id"] == self.chat_id:
            self._hold(data["message"])

    async def _on_server_shutdown(self, data: dict[str, Any]) -> None:
        assert data == {"reconnect": True}
        self.shutdown_notices += 1

    def _hold(self, message: dict[str, Any]) -> None:
        self.seqs.add(message["seq"])
        if message["sender_id"] != self.user_id:
            self.received[message["message_id"]] = message

    def last_seq(self) -> int:
        """The highest seq up to which this client holds every message of the chat."""
        seq = 0
        while seq + 1 in self.seqs:
            seq += 1
        return seq

    async def call(self, event: str, data: Any) -> Any:
        """The ack's data; None when the connection dropped before the ack came, or the server was draining
        (try again once back)."""
        dropped = self.dropped
        if dropped is None or dropped.done():
            return None
        call = asyncio.ensure_future(self.sio.call(event, data, namespace="/chat", timeout=WAIT))
        await asyncio.wait({call, dropped}, return_when=asyncio.FIRST_COMPLETED)
        if not call.done():
            call.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await call
            return None
        if call.exception() is not None:  # not connected, or no ack in time: the drop is on its way
            return None
        ack = call.result()
        if not ack["ok"] and ack["error"]["code"] == "server_draining":
            return None  # sent as the server began to drain: send it again once reconnected
        assert ack["ok"] is True, f"{self.name} {event}: {ack}"
        return ack["data"]

    async def sync(self) -> bool:
        connection = self.connections
        answer = await self.call("sync", {"chats": {self.chat_id: self.last_seq()}})
        if answer is None:
            return False
        entry = answer["chats"][self.chat_id]
        assert entry["has_more"] is False
        for message in entry["messages"]:
            self._hold(message)
        self.synced_connection = connection
        return True

    async def send_all(self, count: int) -> None:
        for number in range(count):
            client_msg_id = f"{self.name}-{number}"
            payload = {
                "chat_id": self.chat_id,
                "message": f"{client_msg_id} hello",
                "client_msg_id": client_msg_id,
            }
            attempts = 0
            while True:
                await self.up.wait()
                if self.synced_connection != self.connections and not await self.sync():
                    continue  # connected anew: catch up before sending on
                attempts += 1
                stored = await self.call("send_message", payload)
                if stored is not None:
                    break
            self.retried_sends += attempts > 1
            self.acked.setdefault(client_msg_id, set()).add(stored["message_id"])
            self.seqs.add(stored["seq"])


async def _register(session: aiohttp.ClientSession, url: str, user_type: str, number: int) -> dict[str, Any]:
    body = {
        "email": f"{user_type}{number}@restart.example.com",
        "phone": f"+91987{user_type == 'owner':d}{number:06d}",
        "password": PASSWORD,
        "user_type": user_type,
        "full_name": f"Restart {user_type} {number}",
    }
    async with session.post(f"{url}/api/auth/register", json=body) as response:
        assert response.status == 200, await response.text()
        data: dict[str, Any] = await response.json()
        return data


async def _chatting_pair(
    session: aiohttp.ClientSession, url: str, number: int
) -> tuple[ChatClient, ChatClient]:
    owner = await _register(session, url, "owner", number)
    renter = await _register(session, url, "renter", number)
    async with session.post(
        f"{url}/api/properties/create",
        json=listing_body(),
        headers={"Authorization": f"Bearer {owner['token']}"},
    ) as response:
        assert response.status == 200, await response.text()
        property_id = (await response.json())["property_id"]
    async with session.post(
        f"{url}/api/chats/initiate",
        json={"property_id": property_id, "initial_message": "Is it available?"},
        headers={"Authorization": f"Bearer {renter['token']}"},
    ) as response:
        assert response.status == 200, await response.text()
        chat_id = (await response.json())["chat_id"]
    return (
        ChatClient(f"renter{number}", renter["user_id"], renter["token"], chat_id),
        ChatClient(f"owner{number}", owner["user_id"], owner["token"], chat_id),
    )


async def test_a_restart_under_live_chat_traffic_loses_and_duplicates_nothing(tmp_path: Path) -> None:
    port = free_port()
    env = {
        "EMBEDDED_DATA_FILE": str(tmp_path / "data.json"),
        "CHAT_SEND_RATE_PER_10S": LIMITS_OFF,
        "REGISTRATIONS_PER_ADDRESS_PER_HOUR": LIMITS_OFF,
        "REGISTRATIONS_PER_MINUTE": LIMITS_OFF,
    }
    clients: list[ChatClient] = []
    async with aiohttp.ClientSession() as session:
        try:
            with server_process(port, tmp_path, env=env, name="-first") as first:
                await first.wait_ready(session)
                for number in range(PAIRS):
                    clients += await _chatting_pair(session, first.url, number)
                for client in clients:
                    await client.connect(first.url)
                senders = asyncio.gather(*(client.send_all(MESSAGES_PER_CLIENT) for client in clients))

                async def enough_acked() -> bool:
                    return sum(len(client.acked) for client in clients) >= RESTART_AFTER_ACKS

                await eventually(enough_acked, within=TRAFFIC_TIMEOUT)
                first.process.send_signal(signal.SIGTERM)
                assert await first.wait_exit() == 0
                acked_by_first = sum(len(client.acked) for client in clients)

            with server_process(port, tmp_path, env=env, name="-second") as second:
                await second.wait_ready(session)
                await asyncio.wait_for(senders, TRAFFIC_TIMEOUT)
                for client in clients:
                    assert await asyncio.wait_for(client.sync(), WAIT)  # whatever is still on its way
                history = {}
                for client in clients[::2]:  # one view of each chat from the server, from its first message
                    answer = await client.call("sync", {"chats": {client.chat_id: 0}})
                    history[client.chat_id] = answer["chats"][client.chat_id]["messages"]
                for client in clients:  # before the second server stops, which would tell them again
                    await client.sio.disconnect()
        finally:
            for client in clients:
                await client.sio.disconnect()

    # The restart happened mid-traffic, every client heard of it and came back.
    total = PAIRS * 2 * MESSAGES_PER_CLIENT
    assert RESTART_AFTER_ACKS <= acked_by_first < total
    assert [c.shutdown_notices for c in clients] == [1] * len(clients)
    assert all(c.connections >= 2 for c in clients)

    lost, duplicated = [], []
    for index, client in enumerate(clients):
        partner = clients[index ^ 1]
        # Every send acked, a retried one with the message first stored, never a second one.
        assert len(client.acked) == MESSAGES_PER_CLIENT
        duplicated += [cid for cid, ids in client.acked.items() if len(ids) != 1]
        # The receiver holds each of the partner's messages, once.
        held = Counter(message["message"].split(" ", 1)[0] for message in client.received.values())
        duplicated += [cid for cid, times in held.items() if times > 1]
        lost += [cid for cid in partner.acked if cid not in held]
        # The server stored each message once: what both sides hold is the chat's history.
        stored = Counter(
            m["message"].split(" ", 1)[0] for m in history[client.chat_id] if m["sender_id"] == client.user_id
        )
        duplicated += [cid for cid, times in stored.items() if times > 1]
        lost += [cid for cid in client.acked if cid not in stored]
        assert {next(iter(ids)) for ids in client.acked.values()} == {
            m["message_id"]
            for m in history[client.chat_id]
            if m["sender_id"] == client.user_id and m["message"] != "Is it available?"
        }
    assert (lost, duplicated) == ([], [])
