"""/chat over a real Socket.IO connection (websocket transport) against the app served on a real socket."""

from __future__ import annotations

import asyncio
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient

from documents.chat import Chat, ChatMessage
from homer_rt.app import create_app
from homer_rt.appkeys import CHATS, CLOCK, EMITTER, SETTINGS
from homer_rt.clock import AdjustableClock
from tests.chat_support import WAIT, base_url, connect, eventually, leave_while_connecting, live
from tests.factories import ClientFactory, make_chat, make_settings, register


async def test_refused_without_token_or_with_a_bad_one(client: TestClient[Any, Any]) -> None:
    url = base_url(client)
    for auth in (None, {"token": "not-a-jwt"}):
        sio = socketio.AsyncClient(reconnection=False)
        refusals: list[Any] = []
        sio.on("connect_error", refusals.append, namespace="/chat")
        with pytest.raises(socketio.exceptions.ConnectionError):
            await sio.connect(
                url, namespaces=["/chat"], transports=["websocket"], auth=auth, wait_timeout=WAIT
            )
        assert refusals, "the refusal carries a reason"
        assert refusals[0]["message"]
        assert refusals[0]["data"]["code"] in ("not_authenticated", "invalid_token", "unauthorized")
        await sio.disconnect()


async def test_token_from_header_or_query_is_accepted(client: TestClient[Any, Any]) -> None:
    renter, _, _, _ = await make_chat(client)
    by_header = await connect(base_url(client), None, headers={"Authorization": f"Bearer {renter['token']}"})
    assert by_header.sio.connected
    await by_header.sio.disconnect()
    by_query = await connect(f"{base_url(client)}?token={renter['token']}", None)
    assert by_query.sio.connected
    await by_query.sio.disconnect()


async def test_connect_pushes_unread_counts(client: TestClient[Any, Any]) -> None:
    _, owner, _, chat_id = await make_chat(client)
    async with live(base_url(client), owner["token"]) as owner_live:
        summary = await owner_live.recorder.wait_for("unread_count")
        assert summary == {"unread_count": 1, "chats": {chat_id: 1}}


async def test_join_send_receive_and_rest_interplay(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client, text="First")
    url = base_url(client)
    async with live(url, renter["token"]) as renter_live, live(url, owner["token"]) as owner_live:
        joined = await owner_live.ok("join_chat", {"chat_id": chat_id})
        assert joined["chat_id"] == chat_id
        assert [m["message"] for m in joined["messages"]] == ["First"]
        assert joined["other_participant"]["full_name"] == "Ravi Renter"

        stored = await renter_live.ok(
            "send_message", {"chat_id": chat_id, "message": "Hi!", "client_msg_id": "c1"}
        )
        assert stored["seq"] == 2 and stored["message"] == "Hi!" and stored["sender_type"] == "renter"
        delivered = await owner_live.recorder.wait_for("message", lambda e: e["message"]["seq"] == 2)
        assert delivered["chat_id"] == chat_id
        assert delivered["message"]["message_id"] == stored["message_id"]

        # A message sent by REST arrives live; one sent live is listed by REST.
        response = await client.post(
            f"/api/chats/{chat_id}/messages", json={"message": "from REST"}, headers=owner["headers"]
        )
        assert response.status == 200
        pushed = await renter_live.recorder.wait_for(
            "message", lambda e: e["message"]["message"] == "from REST"
        )
        assert pushed["message"]["sender_type"] == "owner"
        page = await (await client.get(f"/api/chats/{chat_id}", headers=renter["headers"])).json()
        assert [m["message"] for m in page["messages"]] == ["First", "Hi!", "from REST"]

        left = await owner_live.ok("leave_chat", {"chat_id": chat_id})
        assert left == {"chat_id": chat_id}
        # Leaving a chat does not stop delivery: messages reach the user's room whatever they joined.
        await renter_live.ok("send_message", {"chat_id": chat_id, "message": "still here?"})
        await owner_live.recorder.wait_for("message", lambda e: e["message"]["message"] == "still here?")


async def test_non_participant_and_unknown_chat_get_error_acks(client: TestClient[Any, Any]) -> None:
    _, _, _, chat_id = await make_chat(client)
    stranger = await register(client, user_type="renter")
    async with live(base_url(client), stranger["token"]) as stranger_live:
        for event, payload in (
            ("join_chat", {"chat_id": chat_id}),
            ("leave_chat", {"chat_id": chat_id}),
            ("send_message", {"chat_id": chat_id, "message": "hi"}),
            ("typing", {"chat_id": chat_id, "is_typing": True}),
            ("mark_read", {"chat_id": chat_id}),
            ("sync", {"chats": {chat_id: 0}}),
        ):
            error = await stranger_live.error(event, payload)
            assert error["code"] == "chat_not_found", (event, error)
        for event in ("join_chat", "leave_chat"):
            unknown = await stranger_live.error(event, {"chat_id": "nope"})
            assert unknown["code"] == "chat_not_found", (event, unknown)
        assert not stranger_live.recorder.events["message"]


async def test_bad_payloads_and_limits_are_error_acks(client: TestClient[Any, Any]) -> None:
    renter, _, _, chat_id = await make_chat(client)
    payload: Any
    async with live(base_url(client), renter["token"]) as renter_live:
        for payload in (
            None,
            "text",
            42,
            [],
            {"chat_id": 5},
            {"chat_id": chat_id, "message": 7},
            {"chat_id": chat_id, "message": "lone \ud800 surrogate"},
            {"chat_id": chat_id, "message": "mine", "client_msg_id": "first-message"},  # the first's id
        ):
            error = await renter_live.error("send_message", payload)
            assert error["code"] == "validation_failed", (payload, error)
        too_long = await renter_live.error("send_message", {"chat_id": chat_id, "message": "x" * 4001})
        assert too_long["code"] == "validation_failed" and "4000" in too_long["message"]
        foreign = await renter_live.error(
            "send_message",
            {"chat_id": chat_id, "message": "see", "attachments": ["https://evil.example/x.png"]},
        )
        assert foreign["code"] == "invalid_attachment"
        assert (await renter_live.error("typing", {"chat_id": chat_id, "is_typing": "yes"}))["code"] == (
            "validation_failed"
        )
        assert (await renter_live.error("sync", {}))["code"] == "validation_failed"
        # Still connected and working after every refusal.
        assert (await renter_live.ok("send_message", {"chat_id": chat_id, "message": "fine"}))["seq"] == 2


async def test_a_payload_over_the_limit_is_an_error_ack(client: TestClient[Any, Any]) -> None:
    renter, _, _, chat_id = await make_chat(client)
    limit = client.app[SETTINGS].socketio_max_payload_bytes
    async with live(base_url(client), renter["token"]) as renter_live:
        refused = await renter_live.error("send_message", {"chat_id": chat_id, "message": "x" * (limit + 1)})
        assert refused["code"] == "payload_too_large" and refused["limit"] == limit
        # Counted in bytes: 4-byte characters reach the limit at a quarter of the length.
        wide = await renter_live.error(
            "send_message", {"chat_id": chat_id, "message": "\U0001f600" * (limit // 4)}
        )
        assert wide["code"] == "payload_too_large"
        assert (await renter_live.ok("send_message", {"chat_id": chat_id, "message": "still here"}))[
            "seq"
        ] == 2


async def test_send_rate_limit_is_an_error_ack(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path, chat_send_rate_per_10s=3), clock=AdjustableClock())
    client = await aiohttp_client(app)
    renter, _, _, chat_id = await make_chat(client)
    async with live(base_url(client), renter["token"]) as renter_live:
        for i in range(3):
            await renter_live.ok("send_message", {"chat_id": chat_id, "message": f"m{i}"})
        limited = await renter_live.error("send_message", {"chat_id": chat_id, "message": "one more"})
        assert limited["code"] == "rate_limited" and limited["retry_after"] >= 1
        rest = await client.post(
            f"/api/chats/{chat_id}/messages", json={"message": "x"}, headers=renter["headers"]
        )
        assert rest.status == 429
        clock = client.app[CLOCK]
        assert isinstance(clock, AdjustableClock)
        from datetime import timedelta

        clock.advance(timedelta(seconds=11))
        await renter_live.ok("send_message", {"chat_id": chat_id, "message": "later"})


async def test_retry_with_same_client_msg_id_is_stored_and_delivered_once(
    client: TestClient[Any, Any],
) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    url = base_url(client)
    async with live(url, renter["token"]) as renter_live, live(url, owner["token"]) as owner_live:
        payload = {"chat_id": chat_id, "message": "Can I visit?", "client_msg_id": "retry-1"}
        first = await renter_live.ok("send_message", payload)
        second = await renter_live.ok("send_message", payload)
        assert first == second

        burst = {"chat_id": chat_id, "message": "Burst", "client_msg_id": "retry-2"}
        acks = await asyncio.gather(*(renter_live.ok("send_message", burst) for _ in range(6)))
        assert len({a["message_id"] for a in acks}) == 1

        await owner_live.recorder.wait_for("message", lambda e: e["message"]["client_msg_id"] == "retry-2")
        await renter_live.ok("send_message", {"chat_id": chat_id, "message": "marker"})
        await owner_live.recorder.wait_for("message", lambda e: e["message"]["message"] == "marker")
        texts = [e["message"]["message"] for e in owner_live.recorder.events["message"]]
        assert texts == ["Can I visit?", "Burst", "marker"]

    assert await ChatMessage.find({"chat_id": chat_id}).count() == 4
    unread = await (await client.get("/api/chats/unread-count", headers=owner["headers"])).json()
    assert unread["unread_count"] == 4


async def test_concurrent_sends_from_both_sides_lose_nothing(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    app = create_app(make_settings(tmp_path, chat_send_rate_per_10s=1000), clock=AdjustableClock())
    client = await aiohttp_client(app)
    renter, owner, _, chat_id = await make_chat(client)
    url = base_url(client)
    async with (
        live(url, renter["token"]) as renter_live,
        live(url, owner["token"]) as owner_live,
        live(url, renter["token"]) as renter_laptop,
    ):

        async def burst(who: Any, name: str) -> list[Any]:
            return list(
                await asyncio.gather(
                    *(
                        who.ok("send_message", {"chat_id": chat_id, "message": f"{name}{i}"})
                        for i in range(50)
                    )
                )
            )

        renter_acks, owner_acks = await asyncio.gather(burst(renter_live, "r"), burst(owner_live, "o"))
        seqs = sorted(a["seq"] for a in renter_acks + owner_acks)
        assert seqs == list(range(2, 102))
        # The renter's other device gets both sides; each sending connection has its own messages in its
        # acks and gets only the other side's live (no echo).
        received = await renter_laptop.recorder.wait_count("message", 100)
        assert sorted(e["message"]["seq"] for e in received) == list(range(2, 102))
        for who, acks in ((renter_live, owner_acks), (owner_live, renter_acks)):
            received = await who.recorder.wait_count("message", 50)
            assert sorted(e["message"]["seq"] for e in received) == sorted(a["seq"] for a in acks)

    chat = await Chat.get(chat_id)
    assert chat is not None and chat.last_seq == 101 and chat.last_message is not None
    assert chat.last_message.seq == 101
    owner_unread = await (await client.get("/api/chats/unread-count", headers=owner["headers"])).json()
    renter_unread = await (await client.get("/api/chats/unread-count", headers=renter["headers"])).json()
    assert owner_unread["unread_count"] == 51  # the first message and 50 from the renter
    assert renter_unread["unread_count"] == 50


async def test_typing_reaches_only_the_other_participant_and_is_throttled(
    client: TestClient[Any, Any],
) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    url = base_url(client)
    async with (
        live(url, renter["token"]) as renter_live,
        live(url, renter["token"]) as renter_other_tab,
        live(url, owner["token"]) as owner_live,
    ):
        await renter_live.ok("join_chat", {"chat_id": chat_id})
        assert (await renter_live.ok("typing", {"chat_id": chat_id, "is_typing": True}))["forwarded"] is True
        assert (await renter_live.ok("typing", {"chat_id": chat_id, "is_typing": True}))["forwarded"] is False
        assert (await renter_live.ok("typing", {"chat_id": chat_id, "is_typing": False}))["forwarded"] is True
        seen = await owner_live.recorder.wait_count("typing", 2)
        assert seen == [
            {"chat_id": chat_id, "user_id": renter["user"]["user_id"], "is_typing": True},
            {"chat_id": chat_id, "user_id": renter["user"]["user_id"], "is_typing": False},
        ]
        await renter_live.ok("send_message", {"chat_id": chat_id, "message": "flush"})
        await renter_other_tab.recorder.wait_for("message", lambda e: e["message"]["message"] == "flush")
        assert renter_live.recorder.events["typing"] == []
        assert renter_other_tab.recorder.events["typing"] == []


async def test_a_typing_flood_is_cut_to_the_budget_and_never_leaves_the_indicator_on(
    aiohttp_client: ClientFactory, tmp_path: Path, clock: AdjustableClock
) -> None:
    """Changes of state used to be forwarded however many came. Now at most CHAT_TYPING_EVENTS_PER_10S
    starts go out per user and chat, each followed by at most one stop (so no indicator stays on); the rest
    are acked with forwarded: false and when to try again."""
    budget = 5
    client = await aiohttp_client(
        create_app(make_settings(tmp_path, chat_typing_events_per_10s=budget), clock=clock)
    )
    renter, owner, _, chat_id = await make_chat(client)
    url = base_url(client)
    async with live(url, renter["token"]) as renter_live, live(url, owner["token"]) as owner_live:
        acks = [
            await renter_live.ok("typing", {"chat_id": chat_id, "is_typing": i % 2 == 0}) for i in range(200)
        ]
        forwarded = [ack for ack in acks if ack["forwarded"]]
        assert len(forwarded) == 2 * budget
        # Past the budget each start is refused with when to try again (each stop repeats the shown state).
        refused_starts = [ack for i, ack in enumerate(acks) if i % 2 == 0 and not ack["forwarded"]]
        assert len(refused_starts) == 100 - budget
        assert all(ack["retry_after"] >= 1 for ack in refused_starts)
        await renter_live.ok("send_message", {"chat_id": chat_id, "message": "after the flood"})
        await owner_live.recorder.wait_for("message", lambda e: e["message"]["message"] == "after the flood")
        seen = owner_live.recorder.events["typing"]
        assert [event["is_typing"] for event in seen] == [True, False] * budget

        clock.advance(timedelta(seconds=10))
        again = await renter_live.ok("typing", {"chat_id": chat_id, "is_typing": True})
        assert again["forwarded"] is True
        await owner_live.recorder.wait_count("typing", 2 * budget + 1)


async def test_mark_read_sends_receipt_and_counts(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    url = base_url(client)
    async with live(url, renter["token"]) as renter_live, live(url, owner["token"]) as owner_live:
        for text in ("two", "three"):
            await renter_live.ok("send_message", {"chat_id": chat_id, "message": text})
        await owner_live.recorder.wait_for("unread_count", lambda e: e["unread_count"] == 3)

        partial = await owner_live.ok("mark_read", {"chat_id": chat_id, "up_to": 2})
        assert partial == {"chat_id": chat_id, "unread_count": 1}
        receipt = await renter_live.recorder.wait_for("read")
        assert receipt["chat_id"] == chat_id and receipt["up_to"] == 2
        assert receipt["reader_id"] == owner["user"]["user_id"] and receipt["read_at"]
        await owner_live.recorder.wait_for(
            "unread_count", lambda e: e == {"unread_count": 1, "chats": {chat_id: 1}}
        )

        await owner_live.ok("mark_read", {"chat_id": chat_id})
        await renter_live.recorder.wait_for("read", lambda e: e["up_to"] == 3)
        await owner_live.recorder.wait_for("unread_count", lambda e: e["unread_count"] == 0)
        page = await (await client.get(f"/api/chats/{chat_id}", headers=renter["headers"])).json()
        assert all(m["is_read"] for m in page["messages"])
        assert page["last_message"]["is_read"] is True


async def test_join_marks_read_and_notifies_sender(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    url = base_url(client)
    async with live(url, renter["token"]) as renter_live, live(url, owner["token"]) as owner_live:
        joined = await owner_live.ok("join_chat", {"chat_id": chat_id})
        assert joined["unread_count"] == 0 and joined["messages"][0]["is_read"] is True
        assert joined["other_presence"]["online"] is True
        receipt = await renter_live.recorder.wait_for("read")
        assert receipt["up_to"] == 1


async def test_reconnect_and_sync_returns_exactly_what_was_missed(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    url = base_url(client)
    async with live(url, renter["token"]) as renter_live:
        owner_live = await connect(url, owner["token"])
        await renter_live.ok("send_message", {"chat_id": chat_id, "message": "seen live"})
        live_seen = await owner_live.recorder.wait_for(
            "message", lambda e: e["message"]["message"] == "seen live"
        )
        last_seq = live_seen["message"]["seq"]
        since = live_seen["message"]["timestamp"]
        await owner_live.sio.disconnect()

        for i in range(3):
            await renter_live.ok("send_message", {"chat_id": chat_id, "message": f"missed {i}"})

        back = await connect(url, owner["token"])
        try:
            by_seq = await back.ok("sync", {"chats": {chat_id: last_seq}})
            missed = by_seq["chats"][chat_id]["messages"]
            assert [m["message"] for m in missed] == ["missed 0", "missed 1", "missed 2"]
            assert [m["seq"] for m in missed] == [last_seq + 1, last_seq + 2, last_seq + 3]
            assert by_seq["chats"][chat_id]["has_more"] is False

            # By time, from the stamp of the last message held: that one comes again (its seq is known).
            by_time = await back.ok("sync", {"since": since})
            assert [m["message"] for m in by_time["chats"][chat_id]["messages"]] == [
                "seen live",
                "missed 0",
                "missed 1",
                "missed 2",
            ]
            nothing = await back.ok("sync", {"chats": {chat_id: last_seq + 3}})
            assert nothing["chats"][chat_id]["messages"] == []
        finally:
            await back.sio.disconnect()


async def test_sync_by_time_keeps_a_message_stamped_in_the_same_millisecond(
    client: TestClient[Any, Any],
) -> None:
    """Stamps are milliseconds: two messages can share one, and the one a client missed must still come."""
    renter, owner, _, chat_id = await make_chat(client)
    frozen = client.app[CLOCK].now()
    client.app[CLOCK].now = lambda: frozen
    url = base_url(client)
    async with live(url, renter["token"]) as renter_live, live(url, owner["token"]) as owner_live:
        held = await renter_live.ok("send_message", {"chat_id": chat_id, "message": "held"})
        missed = await renter_live.ok("send_message", {"chat_id": chat_id, "message": "missed"})
        assert held["timestamp"] == missed["timestamp"]
        synced = await owner_live.ok("sync", {"since": held["timestamp"]})
        assert [m["seq"] for m in synced["chats"][chat_id]["messages"]] == [held["seq"], missed["seq"]]


async def test_blocked_chat_refuses_socket_sends_from_both_sides(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    url = base_url(client)
    async with live(url, renter["token"]) as renter_live, live(url, owner["token"]) as owner_live:
        assert (await client.post(f"/api/chats/{chat_id}/block", headers=renter["headers"])).status == 200
        for who in (renter_live, owner_live):
            error = await who.error("send_message", {"chat_id": chat_id, "message": "hello"})
            assert error["code"] == "chat_blocked"
            typing = await who.error("typing", {"chat_id": chat_id, "is_typing": True})
            assert typing["code"] == "chat_blocked"
        # Reading history still works in a blocked chat.
        assert (await owner_live.ok("join_chat", {"chat_id": chat_id}))["status"] == "blocked"


async def test_initiate_tells_the_owner_live(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner", full_name="Olivia Owner")
    renter = await register(client, user_type="renter", full_name="Ravi Renter")
    from tests.factories import make_property

    prop = await make_property(owner_id=owner["user"]["user_id"])
    url = base_url(client)
    async with live(url, owner["token"]) as owner_live:
        response = await client.post(
            "/api/chats/initiate",
            json={"property_id": prop.id, "initial_message": "Hello!"},
            headers=renter["headers"],
        )
        chat_id = (await response.json())["chat_id"]
        created = await owner_live.recorder.wait_for("chat_created")
        assert created["chat"]["chat_id"] == chat_id
        assert created["chat"]["messages"][0]["message"] == "Hello!"
        assert created["chat"]["unread_count"] == 1
        assert created["chat"]["other_participant"]["full_name"] == "Ravi Renter"
        await owner_live.recorder.wait_for("unread_count", lambda e: e["unread_count"] == 1)


async def test_presence_goes_to_chat_partners(client: TestClient[Any, Any]) -> None:
    renter, owner, _, _ = await make_chat(client)
    stranger = await register(client, user_type="renter")
    url = base_url(client)
    async with live(url, owner["token"]) as owner_live, live(url, stranger["token"]) as stranger_live:
        first = await connect(url, renter["token"])
        online = await owner_live.recorder.wait_for("presence")
        assert online == {"user_id": renter["user"]["user_id"], "online": True, "last_seen": None}
        second = await connect(url, renter["token"])
        await first.sio.disconnect()
        await second.ok("sync", {"chats": {}})
        assert len(owner_live.recorder.events["presence"]) == 1  # still online on the second connection
        await second.sio.disconnect()
        offline = await owner_live.recorder.wait_for("presence", lambda e: e["online"] is False)
        assert offline["user_id"] == renter["user"]["user_id"] and offline["last_seen"]
        assert stranger_live.recorder.events["presence"] == []


async def test_a_connect_that_fails_after_counting_leaves_the_user_offline(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    renter, _, _, _ = await make_chat(client)
    chats = client.app[CHATS]

    async def store_fails(*, user_id: str) -> dict[str, Any]:
        raise RuntimeError("the store did not answer")

    monkeypatch.setattr(chats, "unread_summary", store_fails)
    sio = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(
            base_url(client),
            namespaces=["/chat"],
            transports=["websocket"],
            auth={"token": renter["token"]},
            wait_timeout=1,
        )
    await sio.disconnect()
    assert (await chats.presence_of(renter["user"]["user_id"]))["online"] is False


async def test_a_client_that_leaves_while_its_connect_runs_is_not_left_online(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The client is gone before the server finished connecting it: presence must not keep it online."""
    renter, _, _, _ = await make_chat(client)
    chats = client.app[CHATS]
    async with leave_while_connecting(client, renter["token"], monkeypatch):
        assert (await chats.presence_of(renter["user"]["user_id"]))["online"] is True

    async def offline() -> bool:
        return (await chats.presence_of(renter["user"]["user_id"]))["online"] is False

    await eventually(offline)


async def test_deactivated_user_is_cut(client: TestClient[Any, Any]) -> None:
    renter, _, _, _ = await make_chat(client)
    renter_live = await connect(base_url(client), renter["token"])
    gone = asyncio.Event()
    renter_live.sio.on("disconnect", gone.set, namespace="/chat")
    await client.app[EMITTER].disconnect_user(renter["user"]["user_id"])
    await asyncio.wait_for(gone.wait(), WAIT)
    await renter_live.sio.disconnect()


async def test_attachment_sent_live_must_be_own_upload(client: TestClient[Any, Any]) -> None:
    from aiohttp import FormData

    renter, owner, _, chat_id = await make_chat(client)
    form = FormData()
    form.add_field(
        "file", b"%PDF-1.4\n" + b"0" * 64, filename="agreement.pdf", content_type="application/pdf"
    )
    uploaded = await client.post(f"/api/chats/{chat_id}/attachments", data=form, headers=owner["headers"])
    assert uploaded.status == 200, await uploaded.text()
    url = (await uploaded.json())["file_url"]
    async with (
        live(base_url(client), renter["token"]) as renter_live,
        live(base_url(client), owner["token"]) as owner_live,
    ):
        refused = await renter_live.error(
            "send_message", {"chat_id": chat_id, "message": "", "attachments": [url]}
        )
        assert refused["code"] == "invalid_attachment"
        sent = await owner_live.ok(
            "send_message",
            {"chat_id": chat_id, "message": "", "attachments": [url], "client_msg_id": uuid.uuid4().hex},
        )
        assert sent["attachments"] == [url]
        delivered = await renter_live.recorder.wait_for(
            "message", lambda e: e["message"]["attachments"] == [url]
        )
        assert delivered["chat_id"] == chat_id


async def test_opening_over_rest_sends_receipt_and_count_live(client: TestClient[Any, Any]) -> None:
    renter, owner, _, chat_id = await make_chat(client)
    url = base_url(client)
    async with live(url, renter["token"]) as renter_live, live(url, owner["token"]) as owner_live:
        await owner_live.recorder.wait_for("unread_count", lambda e: e["unread_count"] == 1)
        assert (await client.get(f"/api/chats/{chat_id}", headers=owner["headers"])).status == 200
        receipt = await renter_live.recorder.wait_for("read")
        assert receipt["reader_id"] == owner["user"]["user_id"] and receipt["up_to"] == 1
        await owner_live.recorder.wait_for(
            "unread_count", lambda e: e == {"unread_count": 0, "chats": {chat_id: 0}}
        )
        # Opening again has nothing new to read: no second receipt.
        assert (await client.get(f"/api/chats/{chat_id}", headers=owner["headers"])).status == 200
        await renter_live.ok("send_message", {"chat_id": chat_id, "message": "marker"})
        await owner_live.recorder.wait_for("message", lambda e: e["message"]["message"] == "marker")
        assert len(renter_live.recorder.events["read"]) == 1
