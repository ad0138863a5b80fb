"""Who sees what of a listing (issue 14, items 11 and 12): analytics only for the owner (and admins on the
admin routes), a view counted once per viewer per day, and listings off the market or taken down by an
admin are a 404 to everyone but their owner and admins, who still see them; the owner cannot change a
taken-down listing."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.property_view import PropertyView
from homer_rt.clock import AdjustableClock
from tests.factories import create_listing, make_admin, make_premium, register
from tests.listing_support import files_form, png_bytes, set_listing


async def owner_analytics(client: TestClient[Any, Any], owner: dict[str, Any], property_id: str) -> Any:
    response = await client.get(f"/api/properties/{property_id}/analytics", headers=owner["headers"])
    assert response.status == 200
    return await response.json()


# ---- item 11: analytics -------------------------------------------------------------------------------


async def test_public_views_carry_no_analytics(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    renter = await register(client)
    admin = await make_admin(client)
    listing = await create_listing(client, owner, location={"city": "Analyticspur"})
    pid = listing["property_id"]
    await set_listing(pid, is_verified=True)
    await make_premium(client, renter["user"]["user_id"])

    headers: dict[str, str]
    for headers in ({}, renter["headers"], admin["headers"]):
        detail = await (await client.get(f"/api/properties/{pid}", headers=headers)).json()
        assert detail["property_id"] == pid and "analytics" not in detail
    search = await (await client.get("/api/properties/search", params={"city": "Analyticspur"})).json()
    assert [p["property_id"] for p in search["properties"]] == [pid]
    assert "analytics" not in search["properties"][0]
    lifestyle = await client.get(
        "/api/properties/lifestyle-search", params={"city": "Analyticspur"}, headers=renter["headers"]
    )
    found = (await lifestyle.json())["properties"]
    assert [p["property_id"] for p in found] == [pid] and "analytics" not in found[0]

    # The owner sees them on their own listing, their list and the analytics route; admins on theirs.
    assert (await (await client.get(f"/api/properties/{pid}", headers=owner["headers"])).json())["analytics"]
    mine = await (await client.get("/api/properties/my-properties", headers=owner["headers"])).json()
    assert mine[0]["analytics"]["total_views"] == 3
    assert (await owner_analytics(client, owner, pid))["total_views"] == 3
    admin_detail = await client.get("/api/admin/properties?city=Analyticspur", headers=admin["headers"])
    assert (await admin_detail.json())["properties"][0]["analytics"]["total_views"] == 3


async def test_a_viewer_is_counted_once_a_day(client: TestClient[Any, Any], clock: AdjustableClock) -> None:
    owner = await register(client, user_type="owner")
    alice = await register(client)
    bob = await register(client)
    await make_premium(client, alice["user"]["user_id"])
    pid = (await create_listing(client, owner))["property_id"]
    url = f"/api/properties/{pid}"

    for _ in range(3):
        assert (await client.get(url, headers=alice["headers"])).status == 200
    analytics = await owner_analytics(client, owner, pid)
    assert analytics["total_views"] == 1 and analytics["premium_views"] == 1

    await client.get(url, headers=bob["headers"])
    await client.get(url)  # anonymous, by its address
    await client.get(url)
    assert (await owner_analytics(client, owner, pid))["total_views"] == 3

    # Just past the next UTC midnight: a new day, and everyone's token (24 h) still valid.
    now = clock.now()
    next_midnight = datetime.combine(now.date() + timedelta(days=1), time.min, tzinfo=UTC)
    clock.advance(next_midnight - now + timedelta(minutes=1))
    await client.get(url, headers=alice["headers"])
    await client.get(url, headers=alice["headers"])
    await client.get(url)
    analytics = await owner_analytics(client, owner, pid)
    assert analytics["total_views"] == 5 and analytics["premium_views"] == 2
    assert sorted(analytics["views_history"].values()) == [2, 3]


async def test_view_marks_expire(client: TestClient[Any, Any], clock: AdjustableClock) -> None:
    owner = await register(client, user_type="owner")
    pid = (await create_listing(client, owner))["property_id"]
    await client.get(f"/api/properties/{pid}")
    marks = await PropertyView.find_all().to_list()
    assert len(marks) == 1
    assert clock.now() < marks[0].expires_at <= clock.now() + timedelta(days=2)
    assert pid not in marks[0].id  # a hash: no ids or client addresses stored in the clear
    indexes = await collection_of(PropertyView).index_information()
    assert any(index.get("expireAfterSeconds") == 0 for index in indexes.values())


# ---- item 12: listings that are not public --------------------------------------------------------------


async def test_off_market_and_taken_down_listings_are_404_but_to_owner_and_admins(
    client: TestClient[Any, Any],
) -> None:
    owner = await register(client, user_type="owner")
    renter = await register(client)
    other_owner = await register(client, user_type="owner")
    admin = await make_admin(client)
    missing = await client.get("/api/properties/no-such-listing", headers=renter["headers"])
    assert missing.status == 404

    inactive = (await create_listing(client, owner, location={"city": "Hiddenpur"}))["property_id"]
    rented = (await create_listing(client, owner, location={"city": "Hiddenpur"}))["property_id"]
    held = (await create_listing(client, owner, location={"city": "Hiddenpur"}))["property_id"]
    for pid, status in ((inactive, "inactive"), (rented, "rented")):
        response = await client.put(
            f"/api/properties/{pid}", json={"status": status}, headers=owner["headers"]
        )
        assert response.status == 200
    takedown = await client.put(
        f"/api/admin/properties/{held}", json={"status": "inactive"}, headers=admin["headers"]
    )
    assert takedown.status == 200

    headers: dict[str, str]
    for pid in (inactive, rented, held):
        url = f"/api/properties/{pid}"
        for headers in ({}, renter["headers"], other_owner["headers"]):
            response = await client.get(url, headers=headers)
            assert response.status == 404, (pid, headers)
            assert await response.json() == await missing.json()
        shortlisted = await client.post(
            "/api/shortlists", json={"property_id": pid}, headers=renter["headers"]
        )
        assert shortlisted.status == 404
        mine = await client.get(url, headers=owner["headers"])
        assert mine.status == 200 and (await mine.json())["property_id"] == pid
        assert (await client.get(url, headers=admin["headers"])).status == 200
        # Nobody's look at a hidden listing counts as a view.
        assert (await owner_analytics(client, owner, pid))["total_views"] == 0
    search = await (await client.get("/api/properties/search", params={"city": "Hiddenpur"})).json()
    assert search["total_count"] == 0

    # Back on the market, it is public again.
    assert (
        await client.put(f"/api/properties/{inactive}", json={"status": "active"}, headers=owner["headers"])
    ).status == 200
    assert (await client.get(f"/api/properties/{inactive}")).status == 200


async def test_the_owner_cannot_change_a_taken_down_listing(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    admin = await make_admin(client)
    listing = await create_listing(client, owner)
    pid = listing["property_id"]
    url = f"/api/properties/{pid}"
    upload = await client.post(
        f"{url}/upload-images", data=files_form(("a.png", png_bytes())), headers=owner["headers"]
    )
    image_url = (await upload.json())["image_urls"][0]
    admin_url = f"/api/admin/properties/{pid}"
    assert (await client.put(admin_url, json={"status": "inactive"}, headers=admin["headers"])).status == 200

    attempts = [
        client.put(url, json={"title": "Nothing to see"}, headers=owner["headers"]),
        client.put(url, json={"status": "rented"}, headers=owner["headers"]),
        client.put(url, json={"status": "active"}, headers=owner["headers"]),
        client.post(
            f"{url}/upload-images", data=files_form(("b.png", png_bytes())), headers=owner["headers"]
        ),
        client.delete(f"{url}/images", json={"image_url": image_url}, headers=owner["headers"]),
    ]
    for attempt in attempts:
        response = await attempt
        assert response.status == 403, response.url
        assert (await response.json())["error"]["code"] == "listing_held_by_admin"
    seen = await (await client.get(url, headers=owner["headers"])).json()
    assert seen["title"] == listing["title"] and seen["images"] == [image_url]
    assert seen["status"] == "inactive" and seen["held_by_admin"] is True

    # Once an admin relists it, it is the owner's to edit again; they may always delete it.
    assert (await client.put(admin_url, json={"status": "active"}, headers=admin["headers"])).status == 200
    assert (await client.put(url, json={"title": "Fixed"}, headers=owner["headers"])).status == 200
    assert (await client.put(admin_url, json={"status": "inactive"}, headers=admin["headers"])).status == 200
    assert (await client.delete(url, headers=owner["headers"])).status == 200
    assert (await client.get(url, headers=owner["headers"])).status == 404
