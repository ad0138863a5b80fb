"""A message sent over REST or Socket.IO is validated by the same command model, with the same limits and the
same refusal."""

from __future__ import annotations

from typing import Any

from aiohttp import FormData
from aiohttp.test_utils import TestClient

from homer_rt.services.chats.commands import MAX_ATTACHMENTS
from tests.chat_support import base_url, live
from tests.factories import make_chat

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def upload(client: TestClient[Any, Any], user: dict[str, Any], chat_id: str, count: int) -> list[str]:
    urls = []
    for number in range(count):
        form = FormData()
        form.add_field("file", PNG, filename=f"photo-{number}.png", content_type="image/png")
        response = await client.post(f"/api/chats/{chat_id}/attachments", data=form, headers=user["headers"])
        assert response.status == 200, await response.text()
        urls.append((await response.json())["file_url"])
    return urls


def refusal(code: str, message: str, fields: list[dict[str, Any]]) -> dict[str, Any]:
    """An error as both doors show it: REST adds each field's error ``type``, which the ack leaves out."""
    return {
        "code": code,
        "message": message,
        "fields": [{"field": f["field"], "message": f["message"]} for f in fields],
    }


async def test_rest_and_socket_refuse_too_many_attachments_alike_and_take_the_limit(
    client: TestClient[Any, Any],
) -> None:
    assert MAX_ATTACHMENTS == 10  # the limit the service enforced before the models shared it
    renter, owner, _, chat_id = await make_chat(client)
    files = await upload(client, renter, chat_id, MAX_ATTACHMENTS)
    too_many = [*files, files[0]]

    refused_rest = await client.post(
        f"/api/chats/{chat_id}/messages",
        json={"message": "photos", "attachments": too_many, "client_msg_id": "rest-11"},
        headers=renter["headers"],
    )
    assert refused_rest.status == 422
    body = await refused_rest.json()
    rest_error = refusal(body["error"]["code"], body["detail"], body["error"]["fields"])
    assert rest_error["code"] == "validation_failed"
    assert [f["field"] for f in rest_error["fields"]] == ["attachments"]

    async with live(base_url(client), renter["token"]) as renter_live:
        socket_error = await renter_live.error(
            "send_message",
            {"chat_id": chat_id, "message": "photos", "attachments": too_many, "client_msg_id": "live-11"},
        )
        assert refusal(socket_error["code"], socket_error["message"], socket_error["fields"]) == rest_error

        sent_live = await renter_live.ok(
            "send_message",
            {"chat_id": chat_id, "message": "by socket", "attachments": files, "client_msg_id": "live-10"},
        )
        assert sent_live["attachments"] == files

    sent_rest = await client.post(
        f"/api/chats/{chat_id}/messages",
        json={"message": "by REST", "attachments": files, "client_msg_id": "rest-10"},
        headers=renter["headers"],
    )
    assert sent_rest.status == 200, await sent_rest.text()
    assert (await sent_rest.json())["message"]["attachments"] == files

    # Nothing of the refused sends was stored.
    page = await (await client.get(f"/api/chats/{chat_id}", headers=owner["headers"])).json()
    assert [m["message"] for m in page["messages"]] == ["Hello, is it available?", "by socket", "by REST"]


async def test_rest_and_socket_refuse_an_oversized_client_msg_id_alike(client: TestClient[Any, Any]) -> None:
    renter, _, _, chat_id = await make_chat(client)
    key = "k" * 101
    over_rest = await client.post(
        f"/api/chats/{chat_id}/messages",
        json={"message": "hi", "client_msg_id": key},
        headers=renter["headers"],
    )
    assert over_rest.status == 422
    body = await over_rest.json()
    async with live(base_url(client), renter["token"]) as renter_live:
        error = await renter_live.error(
            "send_message", {"chat_id": chat_id, "message": "hi", "client_msg_id": key}
        )
    assert refusal(error["code"], error["message"], error["fields"]) == refusal(
        body["error"]["code"], body["detail"], body["error"]["fields"]
    )
