"""Two real server processes sharing rooms through Redis: a client on one process chats live with a
client on the other.

Each process has its own embedded store, seeded from the same deterministic demo data (``serve --demo``:
fixed user, listing and chat ids), so the same chat exists in both and a message stored by one process is
pushed through Redis to the other's client. Skipped when no Redis answers, unless HOMER_REQUIRE_REDIS=1.
"""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import redis.asyncio as aioredis

from homer_rt.demo import DEMO_OWNERS, DEMO_PASSWORD, DEMO_RENTERS, demo_id
from tests.chat_support import LiveClient, connect, eventually
from tests.server_support import REDIS_URL, ServerProcess, free_port, server_process

DEMO_LISTINGS = 12


@contextlib.contextmanager
def _server(port: int, channel: str, workdir: Path) -> Iterator[ServerProcess]:
    with server_process(
        port,
        workdir,
        env={"REDIS_URL": REDIS_URL, "REDIS_CHANNEL": channel},
        args=["--demo", "--properties", str(DEMO_LISTINGS)],
    ) as server:
        yield server


async def _login(session: aiohttp.ClientSession, url: str, email: str) -> str:
    async with session.post(
        f"{url}/api/auth/login", json={"email": email, "password": DEMO_PASSWORD}
    ) as response:
        assert response.status == 200, await response.text()
        token: str = (await response.json())["token"]
        return token


async def _active_listing_of(session: aiohttp.ClientSession, url: str, owner_id: str) -> str:
    for index in range(len(DEMO_OWNERS), DEMO_LISTINGS, len(DEMO_OWNERS)):
        async with session.get(f"{url}/api/properties/{demo_id(f'property:{index}')}") as response:
            listing = await response.json()
        if response.status == 200 and listing["owner_id"] == owner_id and listing["status"] == "active":
            return str(listing["property_id"])
    raise AssertionError("the demo data has no second active listing of the first owner")


@contextlib.asynccontextmanager
async def _clients(*pairs: tuple[str, str]) -> AsyncIterator[list[LiveClient]]:
    connected: list[LiveClient] = []
    try:
        for url, token in pairs:
            connected.append(await connect(url, token))
        yield connected
    finally:
        for client in connected:
            await client.sio.disconnect()


async def test_two_processes_chat_live_through_redis(redis_available: None, tmp_path: Path) -> None:
    # Listing i belongs to DEMO_OWNERS[i % len(DEMO_OWNERS)]; the demo chat is about listing 0.
    owner = DEMO_OWNERS[0]
    owner_id = owner.user_id
    renter = DEMO_RENTERS[1]
    newcomer = DEMO_RENTERS[3]
    chat_id = demo_id("chat:0")

    channel = f"homer-test-{uuid.uuid4().hex}"
    with _server(free_port(), channel, tmp_path) as p1, _server(free_port(), channel, tmp_path) as p2:
        url1, url2 = p1.url, p2.url
        async with aiohttp.ClientSession() as session:
            await p1.wait_ready(session)
            await p2.wait_ready(session)
            renter_token = await _login(session, url1, renter.email)
            owner_token = await _login(session, url2, owner.email)
            newcomer_token = await _login(session, url1, newcomer.email)
            other_listing = await _active_listing_of(session, url1, owner_id)

            async with _clients((url2, owner_token), (url1, renter_token)) as (owner_live, renter_live):
                # Presence: the renter came online on process 1; the owner on process 2 hears of it.
                online = await owner_live.recorder.wait_for(
                    "presence", lambda e: e["user_id"] == renter.user_id
                )
                assert online["online"] is True

                # Both processes hold the demo chat; each side joins on its own process.
                renter_view = await renter_live.ok("join_chat", {"chat_id": chat_id})
                owner_view = await owner_live.ok("join_chat", {"chat_id": chat_id})
                assert renter_view["last_seq"] == owner_view["last_seq"] == 3

                sent = await renter_live.ok(
                    "send_message",
                    {"chat_id": chat_id, "message": "Sent on process 1", "client_msg_id": "p1-1"},
                )
                got = await owner_live.recorder.wait_for(
                    "message", lambda e: e["message"]["message"] == "Sent on process 1"
                )
                assert got["chat_id"] == chat_id and got["message"]["message_id"] == sent["message_id"]

                await owner_live.ok("typing", {"chat_id": chat_id, "is_typing": True})
                typing = await renter_live.recorder.wait_for("typing")
                assert typing == {"chat_id": chat_id, "user_id": owner_id, "is_typing": True}

                await owner_live.ok("send_message", {"chat_id": chat_id, "message": "Replied on process 2"})
                await renter_live.recorder.wait_for(
                    "message", lambda e: e["message"]["message"] == "Replied on process 2"
                )

                # A REST send on process 1 reaches the socket client on process 2 as well.
                async with session.post(
                    f"{url1}/api/chats/{chat_id}/messages",
                    json={"message": "REST on process 1"},
                    headers={"Authorization": f"Bearer {renter_token}"},
                ) as response:
                    assert response.status == 200
                await owner_live.recorder.wait_for(
                    "message", lambda e: e["message"]["message"] == "REST on process 1"
                )

                # A new enquiry on process 1 tells the owner on process 2 at once.
                async with session.post(
                    f"{url1}/api/chats/initiate",
                    json={"property_id": other_listing, "initial_message": "Hello from a newcomer"},
                    headers={"Authorization": f"Bearer {newcomer_token}"},
                ) as response:
                    assert response.status == 200, await response.text()
                    new_chat = (await response.json())["chat_id"]
                created = await owner_live.recorder.wait_for("chat_created")
                assert created["chat"]["chat_id"] == new_chat
                assert created["chat"]["messages"][0]["message"] == "Hello from a newcomer"

                # Presence is shared: process 2, holding none of the renter's connections, sees them online.
                owner_auth = {"Authorization": f"Bearer {owner_token}"}
                async with session.get(f"{url2}/api/chats/{chat_id}", headers=owner_auth) as response:
                    assert (await response.json())["other_presence"]["online"] is True

                # With a second connection on process 2, closing the one on process 1 leaves them online.
                async with _clients((url2, renter_token)):
                    await renter_live.sio.disconnect()
                    redis = aioredis.Redis.from_url(REDIS_URL)
                    try:

                        async def only_process_2_counts_them() -> bool:
                            return int(await redis.zcard(f"{channel}:presence:{renter.user_id}")) == 1

                        await eventually(only_process_2_counts_them)  # process 1 handled the disconnect
                    finally:
                        await redis.aclose()
                    async with session.get(f"{url1}/api/chats/{chat_id}", headers=owner_auth) as response:
                        assert (await response.json())["other_presence"]["online"] is True
                    assert [e for e in owner_live.recorder.events["presence"] if not e["online"]] == []

                # Closing their last connection, on process 2, shows them offline to the owner.
                offline = await owner_live.recorder.wait_for(
                    "presence", lambda e: e["user_id"] == renter.user_id and e["online"] is False
                )
                assert offline["last_seen"]

                # Logging the owner's token out on process 1 closes its socket on process 2 at once.
                async with session.post(
                    f"{url1}/api/auth/logout", headers={"Authorization": f"Bearer {owner_token}"}
                ) as response:
                    assert response.status == 200
                assert await owner_live.recorder.wait_for("session_ended") == {"reason": "session_revoked"}

                async def owner_disconnected() -> bool:
                    return not owner_live.sio.connected

                await eventually(owner_disconnected)
