"""Admin listing moderation: filters, whitelisted edits, soft delete and force-verify, each audited."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from documents.notification import Notification
from documents.property import Property, PropertyStatus, VerificationTier
from tests.admin_support import assert_no_secrets, audit_entries
from tests.factories import make_admin, make_property, register


async def test_property_routes_refuse_anonymous_and_non_admins(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    prop = await make_property(owner_id=owner["user_id"])
    base = f"/api/admin/properties/{prop.id}"
    for method, path in (
        ("GET", "/api/admin/properties"),
        ("PUT", base),
        ("DELETE", base),
        ("POST", f"{base}/force-verify"),
    ):
        assert (await client.request(method, path, json={"title": "Hijacked"})).status == 401
        refused = await client.request(method, path, headers=owner["headers"], json={"title": "Hijacked"})
        assert refused.status == 403, (method, path)
    stored = await Property.get(prop.id)
    assert stored is not None
    assert stored.title == prop.title and stored.status == PropertyStatus.ACTIVE and not stored.is_verified


async def test_list_properties_filters_and_pages(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    other = await register(client, user_type="owner")
    pune = await make_property(owner_id=owner["user_id"], city="Pune")
    pending = await make_property(
        owner_id=owner["user_id"], city="Mumbai", verification_tier=VerificationTier.PENDING
    )
    await make_property(owner_id=other["user_id"], city="pune")
    headers = admin["headers"]

    async def ids(**params: str) -> list[str]:
        response = await client.get("/api/admin/properties", headers=headers, params=params)
        assert response.status == 200, await response.text()
        return sorted(p["property_id"] for p in (await response.json())["properties"])

    assert len(await ids()) == 3
    assert len(await ids(city="PUNE")) == 2
    assert await ids(owner_id=owner["user_id"]) == sorted([pune.id, pending.id])
    assert await ids(verification_status="pending") == [pending.id]
    assert await ids(status="deleted") == []
    page = await (await client.get("/api/admin/properties", headers=headers, params={"limit": "2"})).json()
    assert page["total_count"] == 3 and page["has_more"] is True and len(page["properties"]) == 2
    assert (
        await client.get("/api/admin/properties", headers=headers, params={"status": "gone"})
    ).status == 422


async def test_update_property_applies_whitelist_in_rupees(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    prop = await make_property(owner_id=owner["user_id"])
    response = await client.put(
        f"/api/admin/properties/{prop.id}",
        headers=admin["headers"],
        json={"title": "Moderated title", "rent": 18000.5, "status": "inactive"},
    )
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["property"]["title"] == "Moderated title"
    assert body["property"]["rent"] == 18000.5
    assert body["property"]["status"] == "inactive"
    stored = await Property.get(prop.id)
    assert stored is not None and stored.rent_paise == 1_800_050

    [entry] = await audit_entries(action_type="property_update", entity_id=prop.id)
    assert entry.old_value == {"title": prop.title, "rent": 25000, "status": "active"}
    assert entry.new_value == {"title": "Moderated title", "rent": 18000.5, "status": "inactive"}

    refused = await client.put(
        f"/api/admin/properties/{prop.id}",
        headers=admin["headers"],
        json={"owner_id": admin["user_id"], "is_verified": True, "analytics": {}},
    )
    assert refused.status == 422
    assert {f["field"] for f in (await refused.json())["error"]["fields"]} == {
        "owner_id",
        "is_verified",
        "analytics",
    }
    unchanged = await Property.get(prop.id)
    assert unchanged is not None and unchanged.owner_id == owner["user_id"] and not unchanged.is_verified
    bad_money = await client.put(
        f"/api/admin/properties/{prop.id}", headers=admin["headers"], json={"rent": 10.001}
    )
    assert bad_money.status == 400
    missing = await client.put("/api/admin/properties/nope", headers=admin["headers"], json={"title": "Xyz"})
    assert missing.status == 404


async def test_delete_property_is_soft_and_audited(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    prop = await make_property(owner_id=owner["user_id"])
    response = await client.delete(f"/api/admin/properties/{prop.id}", headers=admin["headers"])
    assert response.status == 200
    stored = await Property.get(prop.id)
    assert stored is not None and stored.status == PropertyStatus.DELETED
    again = await client.delete(f"/api/admin/properties/{prop.id}", headers=admin["headers"])
    assert again.status == 409
    assert (await client.delete("/api/admin/properties/nope", headers=admin["headers"])).status == 404
    entries = await audit_entries(action_type="property_delete")
    assert sorted(e.status for e in entries) == ["failed", "failed", "success"]
    success = next(e for e in entries if e.status == "success")
    assert success.old_value == {"status": "active"} and success.new_value == {"status": "deleted"}
    assert success.action_details["property_title"] == prop.title


async def test_force_verify_marks_verified_notifies_owner_and_audits(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    prop = await make_property(owner_id=owner["user_id"], verification_tier=VerificationTier.PENDING)
    response = await client.post(f"/api/admin/properties/{prop.id}/force-verify", headers=admin["headers"])
    assert response.status == 200, await response.text()
    body = await response.json()
    assert body["property"]["is_verified"] is True
    assert body["property"]["verification_tier"] == "verified"
    assert body["property"]["verification_date"] is not None
    notes = await Notification.find({"user_id": owner["user_id"]}).to_list()
    assert [n.type for n in notes] == ["verification_approved"]

    again = await client.post(f"/api/admin/properties/{prop.id}/force-verify", headers=admin["headers"])
    assert again.status == 409
    entries = await audit_entries(action_type="property_force_verify", entity_id=prop.id)
    assert [e.status for e in entries] == ["failed", "success"]
    assert entries[1].action_details["previous_status"] is False
    assert entries[1].ip_address == "127.0.0.1"
    for entry in entries:
        assert_no_secrets(entry.model_dump())


async def test_a_listing_taken_down_by_an_admin_stays_down_until_an_admin_relists_it(
    client: TestClient[Any, Any],
) -> None:
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    prop = await make_property(owner_id=owner["user_id"], city="Pune")
    listing_url, admin_url = f"/api/properties/{prop.id}", f"/api/admin/properties/{prop.id}"

    taken_down = await client.put(admin_url, headers=admin["headers"], json={"status": "inactive"})
    assert taken_down.status == 200, await taken_down.text()

    relist = await client.put(listing_url, headers=owner["headers"], json={"status": "active"})
    assert relist.status == 403
    assert "taken down by an admin" in (await relist.json())["detail"]
    search = await (await client.get("/api/properties/search", params={"city": "Pune"})).json()
    assert prop.id not in [p["property_id"] for p in search["properties"]]
    # Nor can they change what it says while it is held (issue 14, item 12).
    edit = await client.put(listing_url, headers=owner["headers"], json={"title": "Fixed title"})
    assert edit.status == 403
    assert (await edit.json())["error"]["code"] == "listing_held_by_admin"

    assert (await client.put(admin_url, headers=admin["headers"], json={"status": "active"})).status == 200
    assert (
        await client.put(listing_url, headers=owner["headers"], json={"status": "inactive"})
    ).status == 200
    assert (await client.put(listing_url, headers=owner["headers"], json={"status": "active"})).status == 200
    search = await (await client.get("/api/properties/search", params={"city": "Pune"})).json()
    assert prop.id in [p["property_id"] for p in search["properties"]]
