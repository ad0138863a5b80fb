"""What a process does between SIGTERM and its exit (homer_rt/shutdown.py), seen by its clients.

The drain is driven directly on the test server here (its listener stays open, so what a client would
meet on a connection it kept is visible); a real ``homer-rt serve`` receives the signal in
test_restart_under_traffic.py and, with the official JavaScript client, in test_chat_js_client.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from aiohttp.test_utils import TestClient

from homer_rt.appkeys import CHATS, REQUESTS_IN_FLIGHT
from homer_rt.shutdown import drain
from tests.chat_support import base_url, connect, eventually
from tests.factories import make_chat


async def test_a_draining_process_is_not_ready_and_refuses_new_socket_sessions(
    client: TestClient[Any, Any],
) -> None:
    report = await drain(client.app, grace_seconds=5)
    assert report.requests_cut == 0 and report.events_cut == 0

    ready = await client.get("/api/health/ready")
    assert ready.status == 503
    body = await ready.json()
    assert body["status"] == "not_ready" and body["phase"] == "draining"
    # A connection a client kept open is closed after its answer, so its next request finds another process.
    assert ready.headers["Connection"] == "close"
    assert (await client.get("/api/health/live")).status == 200

    # A Socket.IO client opening a session here is told to try again (it retries by itself, and reaches
    # another process or this one's successor).
    handshake = await client.get("/socket.io/?EIO=4&transport=polling")
    assert handshake.status == 503
    assert handshake.headers["Retry-After"] == "1"
    assert (await handshake.json())["error"]["code"] == "server_draining"


async def test_socket_clients_are_told_and_disconnected_so_that_they_reconnect(
    client: TestClient[Any, Any],
) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    renter_live = await connect(base_url(client), renter["token"])
    owner_live = await connect(base_url(client), owner["token"])
    notifications = await connect(base_url(client), owner["token"], namespace="/notifications")
    for live in (renter_live, owner_live, notifications):
        for event in ("server_shutdown", "disconnect"):
            live.sio.on(event, live.recorder.handler(event), namespace=live.namespace)
    await owner_live.ok("join_chat", {"chat_id": chat_id})

    report = await drain(client.app, grace_seconds=5)
    assert report.sockets_closed == 3

    for live in (renter_live, owner_live, notifications):
        assert await live.recorder.wait_for("server_shutdown") == {"reconnect": True}
        # A transport that closed, not "io server disconnect" (a DISCONNECT packet from the server), after
        # which socket.io-client and python-socketio's client would not reconnect by themselves.
        assert await live.recorder.wait_for("disconnect") == "transport error"
        assert not live.sio.connected
    # The renter's connection closed first, while the owner's was still open: closing it for the shutdown
    # did not announce the renter offline to their partner, who is also about to reconnect.
    assert [event for event in owner_live.recorder.events["presence"] if not event["online"]] == []


async def _body_held_until(opened: asyncio.Event, release: asyncio.Event) -> AsyncIterator[bytes]:
    yield b'{"message": "sent while the server drains"'
    opened.set()
    await release.wait()
    yield b"}"


async def test_the_drain_waits_for_requests_in_flight(client: TestClient[Any, Any]) -> None:
    renter, _, _, chat_id = await make_chat(client)
    opened, release = asyncio.Event(), asyncio.Event()
    sending = asyncio.create_task(
        client.post(
            f"/api/chats/{chat_id}/messages",
            data=_body_held_until(opened, release),
            headers={**renter["headers"], "Content-Type": "application/json"},
        )
    )
    await opened.wait()
    in_flight = client.app[REQUESTS_IN_FLIGHT]

    async def handler_running() -> bool:
        return bool(in_flight.count == 1)

    await eventually(handler_running)
    draining = asyncio.create_task(drain(client.app, grace_seconds=30))
    await asyncio.sleep(0.05)
    assert not draining.done()  # held by the request, whose body has not all arrived

    release.set()
    response = await sending
    assert response.status == 200
    assert (await response.json())["message"]["message"] == "sent while the server drains"
    report = await draining
    assert report.requests_cut == 0


async def test_what_outlasts_the_grace_period_is_cut(client: TestClient[Any, Any]) -> None:
    renter, _, _, chat_id = await make_chat(client)
    opened, never = asyncio.Event(), asyncio.Event()
    sending = asyncio.create_task(
        client.post(
            f"/api/chats/{chat_id}/messages",
            data=_body_held_until(opened, never),
            headers={**renter["headers"], "Content-Type": "application/json"},
        )
    )
    await opened.wait()

    async def handler_running() -> bool:
        return bool(client.app[REQUESTS_IN_FLIGHT].count == 1)

    await eventually(handler_running)
    report = await drain(client.app, grace_seconds=0.1)
    assert report.requests_cut == 1
    sending.cancel()


async def test_socket_events_under_way_finish_with_their_acks_and_new_ones_are_refused(
    client: TestClient[Any, Any], monkeypatch: Any
) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    renter_live = await connect(base_url(client), renter["token"])
    owner_live = await connect(base_url(client), owner["token"])
    chats = client.app[CHATS]
    entered, release = asyncio.Event(), asyncio.Event()
    send = chats.send

    async def held_send(**kwargs: Any) -> Any:
        entered.set()
        await release.wait()
        return await send(**kwargs)

    monkeypatch.setattr(chats, "send", held_send)
    sending = asyncio.create_task(
        renter_live.call(
            "send_message", {"chat_id": chat_id, "message": "sent as the drain began", "client_msg_id": "a1"}
        )
    )
    await asyncio.wait_for(entered.wait(), 5)
    draining = asyncio.create_task(drain(client.app, grace_seconds=5))
    # A new event meets a draining server: refused, to be sent again once reconnected elsewhere.
    refused = await owner_live.error(
        "send_message", {"chat_id": chat_id, "message": "too late", "client_msg_id": "b1"}
    )
    assert refused["code"] == "server_draining"
    release.set()
    # The one under way finished on its open connection: its ack arrived, then the connection closed.
    sent = await sending
    assert sent["ok"] is True and sent["data"]["message"] == "sent as the drain began"
    report = await draining
    assert report.events_cut == 0 and report.sockets_closed == 2


async def test_socket_events_past_the_grace_period_are_cancelled_before_the_store_closes(
    client: TestClient[Any, Any], monkeypatch: Any
) -> None:
    renter, _, _, chat_id = await make_chat(client)
    renter_live = await connect(base_url(client), renter["token"])
    chats = client.app[CHATS]
    entered, cancelled = asyncio.Event(), asyncio.Event()

    async def endless_send(**_: Any) -> Any:
        entered.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            cancelled.set()
            raise

    monkeypatch.setattr(chats, "send", endless_send)
    asyncio.create_task(  # noqa: RUF006 - its connection closes under it; nothing to await
        renter_live.sio.emit("send_message", {"chat_id": chat_id, "message": "hangs"}, namespace="/chat")
    )
    await asyncio.wait_for(entered.wait(), 5)
    report = await drain(client.app, grace_seconds=0.2)
    assert report.events_cut == 1
    assert cancelled.is_set()  # unwound before drain returned: nothing of it writes after the last flush
