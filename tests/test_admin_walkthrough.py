"""Done-when, tried as a new admin would: the admin from ADMIN_EMAIL logs in, reviews the dashboard,
approves a property verification, refunds a mock payment, deactivates a user, and reads each action back
in the audit log."""

from __future__ import annotations

from pathlib import Path

from homer_rt.app import create_app
from homer_rt.clock import AdjustableClock
from homer_rt.realtime import ADMIN_NAMESPACE, NOTIFICATIONS_NAMESPACE
from tests.admin_support import LiveClient, assert_no_secrets, pay_subscription, submit_property_verification
from tests.factories import ClientFactory, make_settings, register

ADMIN_EMAIL = "ops@homer.example"
ADMIN_PASSWORD = "a-long-admin-password"


async def test_admin_walkthrough(aiohttp_client: ClientFactory, tmp_path: Path) -> None:
    settings = make_settings(
        tmp_path, admin_email=ADMIN_EMAIL, admin_phone="+919000000001", admin_password=ADMIN_PASSWORD
    )
    client = await aiohttp_client(create_app(settings, clock=AdjustableClock()))

    # Users doing ordinary things first: an owner lists a flat and pays for its verification, a renter
    # buys premium.
    owner = await register(client, user_type="owner", full_name="Meera Owner")
    renter = await register(client, full_name="Arjun Renter")
    created = await client.post(
        "/api/properties/create",
        headers=owner["headers"],
        json={
            "title": "Bright 2BHK in Indiranagar",
            "property_type": "apartment",
            "bhk_type": "2BHK",
            "rent": 32000,
            "location": {"address": "100 Feet Road", "city": "Bengaluru", "locality": "Indiranagar"},
        },
    )
    assert created.status == 200, await created.text()
    property_id = (await created.json())["property"]["property_id"]
    await submit_property_verification(client, owner, property_id)
    subscription_id = await pay_subscription(client, renter)

    # 1. The admin logs in with the configured credentials.
    login = await client.post("/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD})
    assert login.status == 200, await login.text()
    session = await login.json()
    assert session["user"]["is_admin"] is True
    headers = {"Authorization": f"Bearer {session['token']}", "User-Agent": "homer-admin-console"}
    live = await LiveClient(ADMIN_NAMESPACE).connect(client, session["token"])
    try:
        first_counts = await live.next("counts")
        assert first_counts["pending_property_verifications"] == 1

        # 2. Reviews the dashboard.
        stats = await (await client.get("/api/admin/stats", headers=headers)).json()
        assert stats["users"]["total"] == 3 and stats["users"]["premium"] == 1
        assert stats["verifications"]["pending_properties"] == 1
        assert stats["revenue"]["total"] == 750 + 2000
        pending = await (await client.get("/api/admin/verifications/pending", headers=headers)).json()
        [request] = pending["pending_property_verifications"]
        assert request["property_id"] == property_id

        # 3. Approves the property.
        approved = await client.post(
            "/api/admin/verifications/approve",
            headers=headers,
            json={"verification_type": "property", "entity_id": property_id},
        )
        assert approved.status == 200, await approved.text()
        assert (await live.next("counts"))["pending_property_verifications"] == 0
        listing = await (await client.get(f"/api/properties/{property_id}")).json()
        assert listing["is_verified"] is True
    finally:
        await live.close()

    # 4. Refunds the renter's mock payment: premium ends, revenue drops.
    refunded = await client.post(f"/api/admin/transactions/{subscription_id}/refund", headers=headers)
    assert refunded.status == 200, await refunded.text()
    assert (await refunded.json())["transaction"]["is_mock"] is True
    me = await (await client.get("/api/users/me", headers=renter["headers"])).json()
    assert me["subscription_tier"] == "free"
    stats = await (await client.get("/api/admin/stats", headers=headers)).json()
    assert stats["revenue"]["total"] == 2000

    # 5. Deactivates the renter, who is online: their socket closes and their token stops working.
    renter_socket = await LiveClient(NOTIFICATIONS_NAMESPACE).connect(client, renter["token"])
    try:
        deactivated = await client.put(
            f"/api/admin/users/{renter['user_id']}", headers=headers, json={"is_active": False}
        )
        assert deactivated.status == 200, await deactivated.text()
        assert await renter_socket.next("session_ended") == {"reason": "account_inactive"}
    finally:
        await renter_socket.close()
    assert (await client.get("/api/users/me", headers=renter["headers"])).status in (401, 403)

    # 6. Reads every action back in the audit log, newest first, with who, what, where and from which client.
    logs = await (await client.get("/api/admin/audit-logs", headers=headers)).json()
    assert logs["total_count"] == 3
    actions = [(entry["action_type"], entry["entity_id"]) for entry in logs["logs"]]
    assert actions == [
        ("user_update", renter["user_id"]),
        ("transaction_refund", subscription_id),
        ("verification_approve", property_id),
    ]
    for entry in logs["logs"]:
        assert entry["admin_id"] == session["user_id"]
        assert entry["status"] == "success"
        assert entry["ip_address"] == "127.0.0.1"
        assert entry["user_agent"] == "homer-admin-console"
    assert logs["logs"][0]["old_value"] == {"is_active": True}
    assert logs["logs"][0]["new_value"] == {"is_active": False}
    assert_no_secrets(logs)

    only_refunds = await (
        await client.get("/api/admin/audit-logs", headers=headers, params={"entity_type": "transaction"})
    ).json()
    assert [entry["entity_id"] for entry in only_refunds["logs"]] == [subscription_id]
    by_admin = await (
        await client.get("/api/admin/audit-logs", headers=headers, params={"admin_id": session["user_id"]})
    ).json()
    assert by_admin["total_count"] == 3
