"""/api/admin/verifications: the pending queue and decisions, through the verification service."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from documents.notification import Notification
from documents.property import Property
from documents.user import User
from tests.admin_support import (
    assert_no_secrets,
    audit_entries,
    submit_property_verification,
    submit_renter_verification,
)
from tests.factories import make_admin, make_property, register


async def test_verification_routes_refuse_anonymous_and_non_admins(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    await submit_renter_verification(client, renter)
    body = {"verification_type": "renter", "entity_id": renter["user_id"], "reason": "blurry"}
    for method, path in (
        ("GET", "/api/admin/verifications/pending"),
        ("POST", "/api/admin/verifications/approve"),
        ("POST", "/api/admin/verifications/reject"),
    ):
        assert (await client.request(method, path, json=body)).status == 401
        assert (await client.request(method, path, json=body, headers=renter["headers"])).status == 403
    stored = await User.get(renter["user_id"])
    assert stored is not None and stored.renter_verification_status.value == "pending"


async def test_pending_lists_every_kind(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    renter = await register(client, full_name="Pending Renter")
    owner = await register(client, user_type="owner")
    prop = await make_property(owner_id=owner["user_id"])
    await submit_renter_verification(client, renter)
    await submit_property_verification(client, owner, prop.id)
    response = await client.get("/api/admin/verifications/pending", headers=admin["headers"])
    assert response.status == 200
    body = await response.json()
    assert [v["user_id"] for v in body["pending_renter_verifications"]] == [renter["user_id"]]
    assert body["pending_owner_verifications"] == []
    assert [v["property_id"] for v in body["pending_property_verifications"]] == [prop.id]
    assert body["total_pending"] == 2
    assert_no_secrets(body)


async def test_approve_property_from_a_json_body(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    prop = await make_property(owner_id=owner["user_id"])
    await submit_property_verification(client, owner, prop.id)
    response = await client.post(
        "/api/admin/verifications/approve",
        headers=admin["headers"],
        json={"verification_type": "property", "entity_id": prop.id},
    )
    assert response.status == 200, await response.text()
    stored = await Property.get(prop.id)
    assert stored is not None and stored.is_verified
    [entry] = await audit_entries(action_type="verification_approve", entity_id=prop.id)
    assert entry.status == "success" and entry.admin_id == admin["user_id"]
    again = await client.post(
        "/api/admin/verifications/approve",
        headers=admin["headers"],
        json={"verification_type": "property", "entity_id": prop.id},
    )
    assert again.status == 409


async def test_reject_renter_from_the_query_string(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    renter = await register(client)
    await submit_renter_verification(client, renter)
    response = await client.post(
        "/api/admin/verifications/reject",
        headers=admin["headers"],
        params={
            "verification_type": "renter",
            "entity_id": renter["user_id"],
            "reason": "Document unreadable",
        },
    )
    assert response.status == 200, await response.text()
    stored = await User.get(renter["user_id"])
    assert stored is not None and stored.renter_verification_status.value == "rejected"
    assert stored.renter_verification_rejection_reason == "Document unreadable"
    notes = await Notification.find({"user_id": renter["user_id"], "type": "verification_rejected"}).to_list()
    assert len(notes) == 1
    [entry] = await audit_entries(action_type="verification_reject", entity_id=renter["user_id"])
    assert entry.action_details["reason"] == "Document unreadable"


async def test_decisions_validate_their_input(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    headers = admin["headers"]
    no_reason = await client.post(
        "/api/admin/verifications/reject",
        headers=headers,
        json={"verification_type": "owner", "entity_id": "x"},
    )
    assert no_reason.status == 422
    bad_type = await client.post(
        "/api/admin/verifications/approve",
        headers=headers,
        json={"verification_type": "pet", "entity_id": "x"},
    )
    assert bad_type.status == 422
    missing = await client.post(
        "/api/admin/verifications/approve",
        headers=headers,
        json={"verification_type": "renter", "entity_id": "x"},
    )
    assert missing.status == 404
    [failed] = await audit_entries(action_type="verification_approve")
    assert failed.status == "failed"
