"""Nobody learns which chats exist unless they are in them: someone else's chat answers exactly as a chat
that does not exist, over REST and Socket.IO."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient, TestServer

from documents.chat import Chat
from documents.property import Property
from documents.user import User
from homer_rt.app import create_app
from homer_rt.appkeys import CHATS
from homer_rt.clock import AdjustableClock
from tests.chat_support import base_url, live
from tests.factories import make_chat, make_property, make_settings, register

# Chat ids were once uuid5 of (property, renter) under this namespace: anyone could work them out.
OLD_CHAT_ID_NAMESPACE = uuid.UUID("5d0f4c1e-2b8a-4f6e-9a3d-7c1b2e9f8a64")


def old_chat_id(property_id: str, renter_id: str) -> str:
    return str(uuid.uuid5(OLD_CHAT_ID_NAMESPACE, f"{property_id}\n{renter_id}"))


async def initiate(client: TestClient[Any, Any], renter: dict[str, Any], property_id: str) -> Any:
    response = await client.post(
        "/api/chats/initiate",
        json={"property_id": property_id, "initial_message": "Still available?"},
        headers=renter["headers"],
    )
    assert response.status == 200, await response.text()
    return await response.json()


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def _rest_answers(client: TestClient[Any, Any], user: dict[str, Any], chat_id: str) -> list[Any]:
    """(status, body) of every /api/chats/{id} route for ``user``."""
    form = FormData()
    form.add_field("file", PNG, filename="plan.png", content_type="image/png")
    calls = [
        client.get(f"/api/chats/{chat_id}", headers=user["headers"]),
        client.get(f"/api/chats/{chat_id}?before_seq=5&limit=2", headers=user["headers"]),
        client.post(f"/api/chats/{chat_id}/messages", json={"message": "hi"}, headers=user["headers"]),
        client.post(f"/api/chats/{chat_id}/block", headers=user["headers"]),
        client.post(f"/api/chats/{chat_id}/unblock", headers=user["headers"]),
        client.post(f"/api/chats/{chat_id}/report", json={"reason": "spam spam"}, headers=user["headers"]),
        client.post(f"/api/chats/{chat_id}/attachments", data=form, headers=user["headers"]),
    ]
    answers = []
    for call in calls:
        response = await call
        answers.append((response.status, await response.json()))
    return answers


async def test_someone_elses_chat_answers_over_rest_as_a_missing_one(client: TestClient[Any, Any]) -> None:
    _, _, _, chat_id = await make_chat(client)
    stranger = await register(client, user_type="renter")
    missing_id = str(uuid.uuid4())

    existing = await _rest_answers(client, stranger, chat_id)
    missing = await _rest_answers(client, stranger, missing_id)
    not_found = {"detail": "Chat not found", "error": {"code": "chat_not_found"}}
    assert existing == missing == [(404, not_found)] * len(existing)


async def test_someone_elses_chat_answers_over_socketio_as_a_missing_one(
    client: TestClient[Any, Any],
) -> None:
    renter, _, _, chat_id = await make_chat(client)
    stranger = await register(client, user_type="renter")
    missing_id = str(uuid.uuid4())
    url = base_url(client)
    not_found = {"ok": False, "error": {"code": "chat_not_found", "message": "Chat not found"}}

    def events(target: str) -> list[tuple[str, dict[str, Any]]]:
        return [
            ("join_chat", {"chat_id": target}),
            ("leave_chat", {"chat_id": target}),
            ("send_message", {"chat_id": target, "message": "hi", "client_msg_id": "m1"}),
            ("typing", {"chat_id": target, "is_typing": True}),
            ("mark_read", {"chat_id": target}),
            ("mark_read", {"chat_id": target, "up_to": 1}),
            ("sync", {"chats": {target: 0}}),
        ]

    async with live(url, renter["token"]) as renter_live, live(url, stranger["token"]) as stranger_live:
        # This process now remembers the chat's parties (a send reads them from memory): a stranger's send
        # meets the remembered chat and must still get the same answer.
        await renter_live.ok("send_message", {"chat_id": chat_id, "message": "hello", "client_msg_id": "r1"})
        for (event, about_existing), (_, about_missing) in zip(
            events(chat_id), events(missing_id), strict=True
        ):
            existing = await stranger_live.call(event, about_existing)
            missing = await stranger_live.call(event, about_missing)
            assert existing == missing == not_found, event
        assert not stranger_live.recorder.events["message"]
        assert stranger_live.sio.connected


async def test_chat_ids_cannot_be_worked_out_and_survive_a_restart(tmp_path: Path) -> None:
    """The id is keyed with a random secret the store keeps: not the uuid5 anyone could compute, not the
    same on another store, and the same after a restart over the same store (so two processes racing to
    create a chat still collide on its primary key)."""
    settings = make_settings(tmp_path, embedded_data_file=tmp_path / "homer.json")
    async with TestClient(TestServer(create_app(settings, clock=AdjustableClock()))) as first:
        renter, owner, prop, chat_id = await make_chat(first)
        renter_id = renter["user"]["user_id"]
        second_prop = await make_property(owner_id=owner["user"]["user_id"], title="Second flat")
    assert chat_id != old_chat_id(prop.id, renter_id)
    uuid.UUID(chat_id)  # still shaped like every other id

    async with TestClient(TestServer(create_app(settings, clock=AdjustableClock()))) as restarted:
        chats = restarted.app[CHATS]
        assert chats.chat_id_for(property_id=prop.id, renter_id=renter_id) == chat_id
        assert (await initiate(restarted, renter, prop.id)) == {"chat_id": chat_id, "created": False}
        second = await initiate(restarted, renter, second_prop.id)
        assert second["chat_id"] == chats.chat_id_for(property_id=second_prop.id, renter_id=renter_id)

    other_store = make_settings(tmp_path / "other", embedded_data_file=tmp_path / "other.json")
    async with TestClient(TestServer(create_app(other_store, clock=AdjustableClock()))) as elsewhere:
        assert elsewhere.app[CHATS].chat_id_for(property_id=prop.id, renter_id=renter_id) != chat_id


async def test_initiates_racing_past_the_lookup_make_one_chat(client: TestClient[Any, Any]) -> None:
    """Initiates in several processes can all miss the lookup; the keyed id is the same for each, so the
    primary key lets one chat in and the others take it (their contacts refunded)."""
    owner = await register(client, user_type="owner")
    renter = await register(client, user_type="renter")
    prop = await make_property(owner_id=owner["user"]["user_id"])
    chats = client.app[CHATS]
    renter_user = await User.get(renter["user"]["user_id"])
    fresh = await Property.get(prop.id)
    assert renter_user is not None and fresh is not None

    made = await asyncio.gather(*(chats._create_chat(user=renter_user, prop=fresh) for _ in range(4)))
    assert {chat.id for chat in made} == {chats.chat_id_for(property_id=prop.id, renter_id=renter_user.id)}
    assert await Chat.find({"renter_id": renter_user.id}).count() == 1
    me = await User.get(renter_user.id)
    assert me is not None and me.contacts_used == 1
