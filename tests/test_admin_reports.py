"""Chat reports as admins see them: open first, and each resolution does what it says, once."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.chat import Chat, ChatReport, ReportStatus
from documents.user import User
from homer_rt.realtime import NOTIFICATIONS_NAMESPACE
from tests.admin_support import LiveClient, assert_no_secrets, audit_entries
from tests.factories import make_admin, make_property, register


async def _reported_chat(
    client: TestClient[Any, Any], reason: str = "Asked me to pay outside Homer"
) -> dict[str, Any]:
    owner = await register(client, user_type="owner", full_name="Reported Owner")
    renter = await register(client, full_name="Worried Renter")
    prop = await make_property(owner_id=owner["user_id"])
    started = await client.post(
        "/api/chats/initiate",
        headers=renter["headers"],
        json={"property_id": prop.id, "initial_message": "Is it available?"},
    )
    assert started.status == 200, await started.text()
    chat_id = (await started.json())["chat_id"]
    reported = await client.post(
        f"/api/chats/{chat_id}/report", headers=renter["headers"], json={"reason": reason}
    )
    assert reported.status == 200, await reported.text()
    return {
        "owner": owner,
        "renter": renter,
        "chat_id": chat_id,
        "report_id": (await reported.json())["report_id"],
    }


async def test_report_routes_refuse_anonymous_and_non_admins(client: TestClient[Any, Any]) -> None:
    case = await _reported_chat(client)
    resolve = f"/api/admin/reports/{case['report_id']}/resolve"
    assert (await client.get("/api/admin/reports")).status == 401
    assert (await client.get("/api/admin/reports", headers=case["renter"]["headers"])).status == 403
    assert (await client.post(resolve, json={"action": "dismiss"})).status == 401
    refused = await client.post(resolve, headers=case["owner"]["headers"], json={"action": "dismiss"})
    assert refused.status == 403
    report = await ChatReport.get(case["report_id"])
    assert report is not None and report.status == ReportStatus.OPEN


async def test_reports_list_open_first_with_names(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    first = await _reported_chat(client, reason="first report")
    second = await _reported_chat(client, reason="second report")
    dismissed = await client.post(
        f"/api/admin/reports/{first['report_id']}/resolve",
        headers=admin["headers"],
        json={"action": "dismiss", "note": "Not a violation"},
    )
    assert dismissed.status == 200
    body = await (await client.get("/api/admin/reports", headers=admin["headers"])).json()
    assert [r["report_id"] for r in body["reports"]] == [second["report_id"], first["report_id"]]
    assert body["reports"][0]["status"] == "open"
    assert body["reports"][0]["reporter_name"] == "Worried Renter"
    assert body["reports"][0]["reported_user_name"] == "Reported Owner"
    assert body["reports"][1]["resolution"] == {"action": "dismiss", "note": "Not a violation"}
    only_open = await (
        await client.get("/api/admin/reports", headers=admin["headers"], params={"status": "open"})
    ).json()
    assert [r["report_id"] for r in only_open["reports"]] == [second["report_id"]]
    assert_no_secrets(body)


async def test_block_chat_resolution_blocks_the_chat(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    case = await _reported_chat(client)
    response = await client.post(
        f"/api/admin/reports/{case['report_id']}/resolve",
        headers=admin["headers"],
        json={"action": "block_chat"},
    )
    assert response.status == 200, await response.text()
    chat = await Chat.get(case["chat_id"])
    assert chat is not None and chat.status.value == "blocked" and chat.blocked_by_admin
    send = await client.post(
        f"/api/chats/{case['chat_id']}/messages", headers=case["owner"]["headers"], json={"message": "hello?"}
    )
    assert send.status >= 400
    [entry] = await audit_entries(action_type="report_resolve", entity_id=case["report_id"])
    assert entry.status == "success" and entry.action_details["resolution"] == "block_chat"
    assert entry.action_details["chat_id"] == case["chat_id"]


async def test_deactivate_user_resolution_cuts_the_reported_user_off(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    case = await _reported_chat(client)
    owner = case["owner"]
    live = await LiveClient(NOTIFICATIONS_NAMESPACE).connect(client, owner["token"])
    try:
        response = await client.post(
            f"/api/admin/reports/{case['report_id']}/resolve",
            headers=admin["headers"],
            json={"action": "deactivate_user", "note": "Fraud attempt"},
        )
        assert response.status == 200, await response.text()
        await asyncio.wait_for(live.disconnected.wait(), 5)
    finally:
        await live.close()
    stored = await User.get(owner["user_id"])
    assert stored is not None and stored.is_active is False
    assert (await client.get("/api/auth/me", headers=owner["headers"])).status in (401, 403)
    # One action, one audit entry: the deactivation is part of the resolution, not a second entry.
    assert len(await audit_entries(admin_id=admin["user_id"])) == 1


async def test_resolving_twice_or_unknown_reports_fails_cleanly(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    other_admin = await make_admin(client)
    case = await _reported_chat(client)
    path = f"/api/admin/reports/{case['report_id']}/resolve"
    results = await asyncio.gather(
        client.post(path, headers=admin["headers"], json={"action": "dismiss"}),
        client.post(path, headers=other_admin["headers"], json={"action": "block_chat"}),
    )
    assert sorted(r.status for r in results) == [200, 409]
    assert (
        await client.post(
            "/api/admin/reports/nope/resolve", headers=admin["headers"], json={"action": "dismiss"}
        )
    ).status == 404
    bad = await client.post(path, headers=admin["headers"], json={"action": "ban_forever"})
    assert bad.status == 422
    assert (await client.post(path, headers=admin["headers"], json={})).status == 422
    entries = await audit_entries(action_type="report_resolve")
    assert sorted(e.status for e in entries) == ["failed", "failed", "failed", "success"]


async def test_a_failed_action_leaves_the_report_open(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    case = await _reported_chat(client)
    await collection_of(User).update_one({"_id": case["owner"]["user_id"]}, {"$set": {"is_admin": True}})
    response = await client.post(
        f"/api/admin/reports/{case['report_id']}/resolve",
        headers=admin["headers"],
        json={"action": "deactivate_user"},
    )
    assert response.status == 403
    report = await ChatReport.get(case["report_id"])
    assert report is not None and report.status == ReportStatus.OPEN and report.resolution is None
