"""Nobody learns which chats exist unless they are in them: someone else's chat answers exactly as a chat
that does not exist, over REST and Socket.IO."""

from __future__ import annotations

import uuid
from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from tests.chat_support import base_url, live, make_chat
from tests.conftest import register

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
