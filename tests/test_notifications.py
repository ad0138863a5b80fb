"""Notifications: REST (list, unread count, read, read-all, delete) and the live /notifications namespace."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from homer_rt.appkeys import CLOCK, NOTIFICATIONS
from homer_rt.clock import AdjustableClock
from tests.chat_support import base_url, live
from tests.factories import register


async def notify(client: TestClient[Any, Any], user: dict[str, Any], n: int) -> list[str]:
    service = client.app[NOTIFICATIONS]
    clock = client.app[CLOCK]
    assert isinstance(clock, AdjustableClock)
    ids = []
    for i in range(n):
        # Notifications within one millisecond have no order; real ones are seconds apart.
        clock.advance(timedelta(milliseconds=5))
        note = await service.notify(
            user_id=user["user"]["user_id"],
            type="test",
            title=f"Title {i}",
            message=f"Body {i}",
            action_url="/x",
        )
        ids.append(note.id)
    return ids


async def test_list_is_newest_first_paginated_and_filters_unread(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    ids = await notify(client, user, 5)
    page1 = await (await client.get("/api/notifications?limit=2", headers=user["headers"])).json()
    assert [n["notification_id"] for n in page1["notifications"]] == [ids[4], ids[3]]
    assert page1["total"] == 5 and page1["pages"] == 3 and page1["unread_count"] == 5
    assert set(page1["notifications"][0]) >= {
        "notification_id",
        "user_id",
        "type",
        "title",
        "message",
        "action_url",
        "is_read",
        "created_at",
    }
    page3 = await (await client.get("/api/notifications?limit=2&page=3", headers=user["headers"])).json()
    assert [n["notification_id"] for n in page3["notifications"]] == [ids[0]]

    assert (await client.patch(f"/api/notifications/{ids[4]}/read", headers=user["headers"])).status == 200
    unread = await (await client.get("/api/notifications?unread_only=true", headers=user["headers"])).json()
    assert ids[4] not in [n["notification_id"] for n in unread["notifications"]]
    assert unread["total"] == 4
    count = await (await client.get("/api/notifications/unread-count", headers=user["headers"])).json()
    assert count == {"unread_count": 4}

    bad = await client.get("/api/notifications?page=0", headers=user["headers"])
    assert bad.status == 422
    assert (await client.get("/api/notifications")).status == 401


async def test_read_all_and_delete_touch_only_own_notifications(client: TestClient[Any, Any]) -> None:
    me = await register(client)
    other = await register(client)
    mine = await notify(client, me, 3)
    theirs = await notify(client, other, 1)

    assert (await client.patch(f"/api/notifications/{theirs[0]}/read", headers=me["headers"])).status == 403
    assert (await client.delete(f"/api/notifications/{theirs[0]}", headers=me["headers"])).status == 403
    assert (await client.patch("/api/notifications/missing/read", headers=me["headers"])).status == 404

    read_all = await (await client.post("/api/notifications/read-all", headers=me["headers"])).json()
    assert read_all == {"updated": 3, "unread_count": 0}
    other_count = await (await client.get("/api/notifications/unread-count", headers=other["headers"])).json()
    assert other_count == {"unread_count": 1}

    assert (await client.delete(f"/api/notifications/{mine[0]}", headers=me["headers"])).status == 200
    remaining = await (await client.get("/api/notifications", headers=me["headers"])).json()
    assert mine[0] not in [n["notification_id"] for n in remaining["notifications"]]
    assert remaining["total"] == 2
    assert (await client.delete(f"/api/notifications/{mine[0]}", headers=me["headers"])).status == 404


async def test_live_notifications_counts_and_socket_marking(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    await notify(client, user, 1)
    async with live(base_url(client), user["token"], namespace="/notifications") as conn:
        assert await conn.recorder.wait_for("unread_notifications") == {"count": 1}
        [new_id] = await notify(client, user, 1)
        pushed = await conn.recorder.wait_for("notification")
        assert pushed["notification_id"] == new_id and pushed["title"] == "Title 0"
        await conn.recorder.wait_for("unread_notifications", lambda e: e["count"] == 2)

        marked = await conn.ok("mark_read", {"notification_id": new_id})
        assert marked["notification"]["is_read"] is True and marked["count"] == 1
        await conn.recorder.wait_for("unread_notifications", lambda e: e["count"] == 1)

        # Marking over REST also updates the live count.
        assert (await client.post("/api/notifications/read-all", headers=user["headers"])).status == 200
        await conn.recorder.wait_for("unread_notifications", lambda e: e["count"] == 0)
        assert (await conn.ok("mark_all_read", {}))["count"] == 0

        assert (await conn.error("mark_read", {"notification_id": 5}))["code"] == "validation_failed"
        assert (await conn.error("mark_read", {"notification_id": "missing"}))[
            "code"
        ] == "notification_not_found"


async def test_live_notifications_refuse_strangers_objects_and_missing_token(
    client: TestClient[Any, Any],
) -> None:
    import pytest
    import socketio

    me = await register(client)
    other = await register(client)
    [theirs] = await notify(client, other, 1)
    async with live(base_url(client), me["token"], namespace="/notifications") as conn:
        assert (await conn.error("mark_read", {"notification_id": theirs}))["code"] == "not_owner"
        assert conn.recorder.events["notification"] == []
    sio = socketio.AsyncClient(reconnection=False)
    with pytest.raises(socketio.exceptions.ConnectionError):
        await sio.connect(
            base_url(client), namespaces=["/notifications"], transports=["websocket"], wait_timeout=5
        )
    await sio.disconnect()
