"""The live /admin namespace: admins only, counts on connect and whenever the review queues change."""

from __future__ import annotations

from typing import Any

import pytest
import socketio
from aiohttp.test_utils import TestClient

from homer_rt.realtime import ADMIN_NAMESPACE
from tests.admin_support import LiveClient, submit_property_verification, submit_renter_verification
from tests.factories import make_admin, make_property, register

ZERO = {
    "pending_renter_verifications": 0,
    "pending_owner_verifications": 0,
    "pending_property_verifications": 0,
    "open_reports": 0,
}


async def test_admin_namespace_refuses_non_admins_and_anonymous(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    for token in (renter["token"], "not-a-token"):
        live = LiveClient(ADMIN_NAMESPACE)
        try:
            with pytest.raises(socketio.exceptions.ConnectionError):
                await live.connect(client, token)
        finally:
            await live.close()


async def test_counts_arrive_on_connect_and_on_demand(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    renter = await register(client)
    await submit_renter_verification(client, renter)
    live = await LiveClient(ADMIN_NAMESPACE).connect(client, admin["token"])
    try:
        assert await live.next("counts") == {**ZERO, "pending_renter_verifications": 1}
        ack = await live.sio.call("get_counts", {}, namespace=ADMIN_NAMESPACE, timeout=5)
        assert ack == {"ok": True, "data": {**ZERO, "pending_renter_verifications": 1}}
    finally:
        await live.close()


async def test_counts_are_pushed_when_a_verification_is_submitted(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    renter = await register(client)
    owner = await register(client, user_type="owner")
    prop = await make_property(owner_id=owner["user_id"])
    live = await LiveClient(ADMIN_NAMESPACE).connect(client, admin["token"])
    try:
        assert await live.next("counts") == ZERO
        await submit_renter_verification(client, renter)
        assert await live.next("counts") == {**ZERO, "pending_renter_verifications": 1}
        await submit_property_verification(client, owner, prop.id)
        assert await live.next("counts") == {
            **ZERO,
            "pending_renter_verifications": 1,
            "pending_property_verifications": 1,
        }
        approved = await client.post(
            "/api/admin/verifications/approve",
            headers=admin["headers"],
            json={"verification_type": "renter", "entity_id": renter["user_id"]},
        )
        assert approved.status == 200
        assert await live.next("counts") == {**ZERO, "pending_property_verifications": 1}
    finally:
        await live.close()


async def test_counts_are_pushed_when_a_chat_is_reported(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    renter = await register(client)
    prop = await make_property(owner_id=owner["user_id"])
    started = await client.post(
        "/api/chats/initiate",
        headers=renter["headers"],
        json={"property_id": prop.id, "initial_message": "Hello, is it free?"},
    )
    assert started.status == 200, await started.text()
    chat_id = (await started.json())["chat_id"]
    live = await LiveClient(ADMIN_NAMESPACE).connect(client, admin["token"])
    try:
        assert await live.next("counts") == ZERO
        reported = await client.post(
            f"/api/chats/{chat_id}/report", headers=renter["headers"], json={"reason": "Rude messages"}
        )
        assert reported.status == 200
        assert await live.next("counts") == {**ZERO, "open_reports": 1}
        report_id = (await reported.json())["report_id"]
        resolved = await client.post(
            f"/api/admin/reports/{report_id}/resolve", headers=admin["headers"], json={"action": "dismiss"}
        )
        assert resolved.status == 200
        assert await live.next("counts") == ZERO
    finally:
        await live.close()
