"""Admin user management: listing, the edit whitelist, deactivation that takes effect at once, deletion."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import socketio
from aiohttp import FormData
from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.property import Property, PropertyStatus
from documents.transaction import Transaction
from documents.user import User
from homer_rt.realtime import ADMIN_NAMESPACE, CHAT_NAMESPACE, NOTIFICATIONS_NAMESPACE
from homer_rt.settings import Settings
from tests.admin_support import (
    LiveClient,
    assert_no_secrets,
    audit_entries,
    pay_subscription,
    submit_renter_verification,
    upload_document,
)
from tests.factories import PASSWORD, make_admin, make_chat, make_property, register
from tests.listing_support import PDF, files_form, png_bytes


async def test_user_routes_refuse_anonymous_and_non_admins(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    target = f"/api/admin/users/{user['user_id']}"
    for method, path in (("GET", "/api/admin/users"), ("GET", target), ("PUT", target), ("DELETE", target)):
        anonymous = await client.request(method, path, json={"full_name": "X"})
        assert anonymous.status == 401, (method, path)
        other = await client.request(method, path, headers=user["headers"], json={"full_name": "X"})
        assert other.status == 403, (method, path)
        assert (await other.json())["error"]["code"] == "admin_required"
    # Nothing was changed by the refused calls.
    assert (await User.get(user["user_id"])).full_name == "Test User"  # type: ignore[union-attr]


async def test_list_users_filters_searches_and_pages(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner", full_name="Priya (Owner) Sharma")
    await register(client, user_type="renter", full_name="Rahul Verma")
    await register(client, user_type="both", full_name="Anita Rao")

    response = await client.get("/api/admin/users", headers=admin["headers"], params={"user_type": "owner"})
    assert response.status == 200
    body = await response.json()
    assert [u["user_id"] for u in body["users"]] == [owner["user_id"]]
    assert body["total_count"] == 1 and body["page"] == 1 and body["has_more"] is False

    # Search text is matched literally, regex characters included, on name, email and phone.
    by_name = await (
        await client.get("/api/admin/users", headers=admin["headers"], params={"search": "(owner)"})
    ).json()
    assert [u["user_id"] for u in by_name["users"]] == [owner["user_id"]]
    by_phone = await (
        await client.get("/api/admin/users", headers=admin["headers"], params={"search": owner["phone"][-6:]})
    ).json()
    assert [u["user_id"] for u in by_phone["users"]] == [owner["user_id"]]
    nothing = await (
        await client.get("/api/admin/users", headers=admin["headers"], params={"search": ".*"})
    ).json()
    assert nothing["total_count"] == 0

    paged = await (
        await client.get("/api/admin/users", headers=admin["headers"], params={"limit": "2", "page": "1"})
    ).json()
    assert paged["total_count"] == 4 and len(paged["users"]) == 2 and paged["has_more"] is True
    last = await (
        await client.get("/api/admin/users", headers=admin["headers"], params={"limit": "2", "page": "2"})
    ).json()
    assert len(last["users"]) == 2 and last["has_more"] is False
    assert {u["user_id"] for u in paged["users"]}.isdisjoint({u["user_id"] for u in last["users"]})
    assert_no_secrets(paged)

    bad = await client.get("/api/admin/users", headers=admin["headers"], params={"user_type": "alien"})
    assert bad.status == 422


async def test_list_users_by_subscription_and_verification(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    premium = await register(client)
    await pay_subscription(client, premium)
    pending = await register(client)
    await collection_of(User).update_one(
        {"_id": pending["user_id"]}, {"$set": {"renter_verification_status": "pending"}}
    )
    headers = admin["headers"]
    found = await (
        await client.get("/api/admin/users", headers=headers, params={"subscription_tier": "premium"})
    ).json()
    assert [u["user_id"] for u in found["users"]] == [premium["user_id"]]
    free = await (
        await client.get("/api/admin/users", headers=headers, params={"subscription_tier": "free"})
    ).json()
    assert premium["user_id"] not in {u["user_id"] for u in free["users"]}
    waiting = await (
        await client.get("/api/admin/users", headers=headers, params={"verification_status": "pending"})
    ).json()
    assert [u["user_id"] for u in waiting["users"]] == [pending["user_id"]]


async def test_get_user_shows_admin_details_without_secrets(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    user = await register(client, user_type="owner")
    await make_property(owner_id=user["user_id"])
    response = await client.get(f"/api/admin/users/{user['user_id']}", headers=admin["headers"])
    assert response.status == 200
    body = await response.json()
    assert body["email"] == user["email"]
    assert body["listings"] == {"total": 1, "active": 1}
    assert_no_secrets(body)
    missing = await client.get("/api/admin/users/nope", headers=admin["headers"])
    assert missing.status == 404


async def test_update_user_writes_whitelisted_fields_and_audits_them(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    user = await register(client)
    end = (datetime.now(UTC) + timedelta(days=30)).isoformat()
    response = await client.put(
        f"/api/admin/users/{user['user_id']}",
        headers={**admin["headers"], "User-Agent": "admin-console/1.0"},
        json={
            "full_name": "Renamed By Admin",
            "user_type": "both",
            "subscription_tier": "premium",
            "subscription_end": end,
            "profile_visibility": False,
        },
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["user"]["full_name"] == "Renamed By Admin"
    assert body["user"]["user_type"] == "both"
    assert body["user"]["subscription_tier"] == "premium"
    assert_no_secrets(body)
    # The user's own token still works: an edit that is not a deactivation leaves sessions alone.
    me = await (await client.get("/api/users/me", headers=user["headers"])).json()
    assert me["subscription_tier"] == "premium" and me["full_name"] == "Renamed By Admin"

    [entry] = await audit_entries(action_type="user_update", entity_id=user["user_id"])
    assert entry.admin_id == admin["user_id"] and entry.status == "success"
    assert entry.old_value is not None and entry.new_value is not None
    assert entry.old_value["full_name"] == "Test User"
    assert entry.new_value["full_name"] == "Renamed By Admin"
    assert entry.user_agent == "admin-console/1.0"
    assert entry.ip_address == "127.0.0.1"
    assert sorted(entry.action_details["fields_updated"]) == sorted(
        ["full_name", "user_type", "subscription_tier", "subscription_end", "profile_visibility"]
    )
    assert_no_secrets(entry.model_dump())


@pytest.mark.parametrize(
    "forbidden",
    [
        {"password_hash": "$2b$04$abcdefghijklmnopqrstuv"},
        {"user_id": "someone-else"},
        {"token_version": 0},
        {"email": "hijack@example.com"},
        {"phone": "+919999999999"},
        {"is_verified_renter": True},
        {"contacts_used": -5},
    ],
)
async def test_update_user_refuses_fields_outside_the_whitelist(
    client: TestClient[Any, Any], forbidden: dict[str, Any]
) -> None:
    admin = await make_admin(client)
    user = await register(client)
    before = await User.get(user["user_id"])
    response = await client.put(
        f"/api/admin/users/{user['user_id']}",
        headers=admin["headers"],
        json={"full_name": "Should Not Apply", **forbidden},
    )
    assert response.status == 422
    body = await response.json()
    [name] = forbidden
    assert name in body["detail"]
    assert [f["field"] for f in body["error"]["fields"]] == [name]
    after = await User.get(user["user_id"])
    assert before is not None and after is not None
    assert after.model_dump() == before.model_dump()
    # The user can still log in with their own password and token.
    assert (await client.get("/api/auth/me", headers=user["headers"])).status == 200
    login = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert login.status == 200
    [entry] = await audit_entries(action_type="user_update", entity_id=user["user_id"])
    assert entry.status == "failed" and entry.error_message
    assert_no_secrets(entry.model_dump())


async def test_update_user_rejects_bad_values_and_missing_users(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    user = await register(client)
    path = f"/api/admin/users/{user['user_id']}"
    assert (await client.put(path, headers=admin["headers"], json={"is_active": "maybe"})).status == 422
    assert (await client.put(path, headers=admin["headers"], json={"user_type": "landlord"})).status == 422
    premium_without_end = await client.put(
        path, headers=admin["headers"], json={"subscription_tier": "premium"}
    )
    assert premium_without_end.status == 422
    assert (await client.put(path, headers=admin["headers"], json={})).status == 400
    assert (await client.put(path, headers=admin["headers"], data=b"{not json")).status == 400
    missing = await client.put("/api/admin/users/nope", headers=admin["headers"], json={"full_name": "X"})
    assert missing.status == 404
    [failed] = await audit_entries(action_type="user_update", entity_id="nope")
    assert failed.status == "failed" and failed.admin_id == admin["user_id"]


async def test_admin_cannot_deactivate_or_demote_themselves(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    path = f"/api/admin/users/{admin['user_id']}"
    for body in ({"is_active": False}, {"is_admin": False}):
        response = await client.put(path, headers=admin["headers"], json=body)
        assert response.status == 409
    assert (await client.get("/api/admin/stats", headers=admin["headers"])).status == 200


async def test_deactivation_revokes_tokens_and_cuts_live_sockets(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    target = await register(client)
    notifications = await LiveClient(NOTIFICATIONS_NAMESPACE).connect(client, target["token"])
    chat = await LiveClient(CHAT_NAMESPACE).connect(client, target["token"])
    try:
        response = await client.put(
            f"/api/admin/users/{target['user_id']}", headers=admin["headers"], json={"is_active": False}
        )
        assert response.status == 200, await response.text()
        assert await notifications.next("session_ended") == {"reason": "account_inactive"}
        await asyncio.wait_for(notifications.disconnected.wait(), 5)
        await asyncio.wait_for(chat.disconnected.wait(), 5)
    finally:
        await notifications.close()
        await chat.close()

    assert (await client.get("/api/auth/me", headers=target["headers"])).status in (401, 403)
    # The old token cannot open a new socket either.
    with pytest.raises(socketio.exceptions.ConnectionError):
        retry = LiveClient(NOTIFICATIONS_NAMESPACE)
        try:
            await retry.connect(client, target["token"])
        finally:
            await retry.close()
    # Reactivating does not bring the old token back to life: it was revoked, not just blocked.
    reactivated = await client.put(
        f"/api/admin/users/{target['user_id']}", headers=admin["headers"], json={"is_active": True}
    )
    assert reactivated.status == 200
    assert (await client.get("/api/auth/me", headers=target["headers"])).status == 401
    login = await client.post("/api/auth/login", json={"email": target["email"], "password": PASSWORD})
    assert login.status == 200
    [deactivation, reactivation] = sorted(
        await audit_entries(action_type="user_update", entity_id=target["user_id"]), key=lambda e: e.timestamp
    )
    assert deactivation.old_value == {"is_active": True} and deactivation.new_value == {"is_active": False}
    assert reactivation.new_value == {"is_active": True}


async def test_demoting_an_admin_closes_their_admin_socket(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    other = await make_admin(client)
    live = await LiveClient(ADMIN_NAMESPACE).connect(client, other["token"])
    try:
        response = await client.put(
            f"/api/admin/users/{other['user_id']}", headers=admin["headers"], json={"is_admin": False}
        )
        assert response.status == 200
        await asyncio.wait_for(live.disconnected.wait(), 5)
    finally:
        await live.close()
    assert (await client.get("/api/admin/stats", headers=other["headers"])).status == 403


async def test_delete_user_anonymises_and_unlists_but_keeps_money_and_audit(
    client: TestClient[Any, Any],
) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="both", full_name="Leaving Owner")
    listing = await make_property(owner_id=owner["user_id"])
    transaction_id = await pay_subscription(client, owner)
    await submit_renter_verification(client, owner)

    response = await client.delete(f"/api/admin/users/{owner['user_id']}", headers=admin["headers"])
    assert response.status == 200, await response.text()
    assert (await response.json())["listings_removed"] == 1

    stored = await User.get(owner["user_id"])
    assert stored is not None
    assert stored.is_active is False
    assert owner["email"] not in stored.email and stored.phone != owner["phone"]
    assert stored.full_name == "Deleted user"
    assert (await Property.get(listing.id)).status == PropertyStatus.DELETED  # type: ignore[union-attr]
    assert await Transaction.get(transaction_id) is not None
    assert stored.renter_verification_documents is None
    queue = await (await client.get("/api/admin/verifications/pending", headers=admin["headers"])).json()
    assert queue["total_pending"] == 0
    assert (await client.get("/api/auth/me", headers=owner["headers"])).status in (401, 403)
    login = await client.post("/api/auth/login", json={"email": owner["email"], "password": PASSWORD})
    assert login.status == 401
    # The e-mail and phone are free again for a new registration.
    again = await client.post(
        "/api/auth/register",
        json={"email": owner["email"], "phone": owner["phone"], "password": PASSWORD, "user_type": "renter"},
    )
    assert again.status == 200

    [entry] = await audit_entries(action_type="user_delete", entity_id=owner["user_id"])
    assert entry.status == "success"
    assert owner["email"] not in repr(entry.model_dump())
    assert_no_secrets(entry.model_dump())

    twice = await client.delete(f"/api/admin/users/{owner['user_id']}", headers=admin["headers"])
    assert twice.status == 409


async def test_delete_user_refuses_admins_and_the_caller(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    other_admin = await make_admin(client)
    assert (
        await client.delete(f"/api/admin/users/{admin['user_id']}", headers=admin["headers"])
    ).status == 409
    refused = await client.delete(f"/api/admin/users/{other_admin['user_id']}", headers=admin["headers"])
    assert refused.status == 403
    assert (await client.delete("/api/admin/users/nope", headers=admin["headers"])).status == 404
    assert (await User.get(other_admin["user_id"])).is_active  # type: ignore[union-attr]
    failed = await audit_entries(action_type="user_delete", status="failed")
    assert len(failed) == 3


async def test_deleting_a_user_removes_their_documents_and_photo_but_keeps_chat_files(
    client: TestClient[Any, Any], settings: Settings
) -> None:
    admin = await make_admin(client)
    renter, owner, _, chat_id = await make_chat(client)
    await submit_renter_verification(client, renter)
    status = await (await client.get("/api/verification/my-status", headers=renter["headers"])).json()
    submitted = status["verification"]["documents"]["id_proof"]["file_url"]
    unsubmitted = await upload_document(client, renter, name="income_proof")
    photo = await client.post(
        "/api/users/me/photo",
        data=files_form(("me.png", png_bytes()), field="photo"),
        headers=renter["headers"],
    )
    photo_url = (await photo.json())["profile_photo_url"]
    form = FormData()
    form.add_field("file", PDF, filename="payslip.pdf", content_type="application/pdf")
    attached = await client.post(f"/api/chats/{chat_id}/attachments", data=form, headers=renter["headers"])
    attachment = (await attached.json())["file_url"]
    sent = await client.post(
        f"/api/chats/{chat_id}/messages",
        json={"message": "payslip", "attachments": [attachment]},
        headers=renter["headers"],
    )
    assert sent.status == 200, await sent.text()
    for url in (submitted, unsubmitted, photo_url):
        assert (await client.get(url, headers=admin["headers"])).status == 200, url

    response = await client.delete(f"/api/admin/users/{renter['user_id']}", headers=admin["headers"])
    assert response.status == 200, await response.text()
    assert (await response.json())["files_removed"] == 3

    # ID documents and the photo are gone from storage and no longer served, even to an admin.
    for url in (submitted, unsubmitted, photo_url):
        assert (await client.get(url, headers=admin["headers"])).status == 404, url
    remaining = [p for p in settings.upload_dir.rglob("*") if p.is_file()]
    assert [p.parent.parent.name for p in remaining] == ["chat"]
    # The attachment stays part of the owner's conversation, for its participants only.
    assert (await client.get(attachment, headers=owner["headers"])).status == 200
    stranger = await register(client)
    assert (await client.get(attachment, headers=stranger["headers"])).status in (403, 404)
