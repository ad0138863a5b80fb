"""Listings over HTTP: create rules, detail with view counting, owner-only edits, delete, analytics."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.user import User
from homer_rt.clock import AdjustableClock
from tests.factories import create_listing, listing_body, make_premium, register
from tests.listing_support import set_listing


async def test_owner_creates_a_listing_in_the_spec_shape(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    response = await client.post("/api/properties/create", json=listing_body(), headers=owner["headers"])
    assert response.status == 200, await response.text()
    data = await response.json()
    listing = data["property"]
    assert data["property_id"] == listing["property_id"]
    assert listing["owner_id"] == owner["user"]["user_id"]
    assert listing["rent"] == 25000 and listing["security_deposit"] == 100000
    assert listing["maintenance_charges"] == 2500
    assert listing["location"]["city"] == "Bengaluru"
    assert listing["details"]["furnishing"] == "semi-furnished"
    assert listing["details"]["available_from"] == "2026-12-01"
    assert listing["status"] == "active" and listing["is_verified"] is False
    assert listing["verification_tier"] == "free"
    assert listing["analytics"]["total_views"] == 0
    assert listing["lifestyle_data"]["is_mock"] is True
    assert listing["lifestyle_data"]["calculated_at"]
    assert listing["images"] == []


async def test_rent_in_paise_is_exact(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="both")
    listing = await create_listing(client, owner, rent=18999.99)
    assert listing["rent"] == 18999.99


async def test_renters_and_anonymous_cannot_create(client: TestClient[Any, Any]) -> None:
    renter = await register(client, user_type="renter")
    response = await client.post("/api/properties/create", json=listing_body(), headers=renter["headers"])
    assert response.status == 403
    assert (await response.json())["detail"] == "Only owners can create properties"
    response = await client.post("/api/properties/create", json=listing_body())
    assert response.status == 401


async def test_create_validation(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    bad: list[tuple[dict[str, Any], str]] = [
        ({"rent": 0}, "rent"),
        ({"rent": -5}, "rent"),
        ({"bhk_type": "7BHK"}, "bhk_type"),
        ({"property_type": "castle"}, "property_type"),
        ({"location": {"pincode": "12345"}}, "location.pincode"),
        ({"location": {"pincode": "012345"}}, "location.pincode"),
        ({"location": {"latitude": 91}}, "location.latitude"),
        ({"location": {"longitude": -181}}, "location.longitude"),
        ({"details": {"furnishing": "palatial"}}, "details.furnishing"),
        ({"images": ["/uploads/properties/x/someone-elses.jpg"]}, "images"),
        ({"title": ""}, "title"),
    ]
    for overrides, field in bad:
        response = await client.post(
            "/api/properties/create", json=listing_body(**overrides), headers=owner["headers"]
        )
        assert response.status == 422, (overrides, await response.text())
        fields = {f["field"] for f in (await response.json())["error"]["fields"]}
        assert field in fields, (overrides, fields)
    body = listing_body()
    del body["location"]
    response = await client.post("/api/properties/create", json=body, headers=owner["headers"])
    assert response.status == 422


async def test_create_ignores_fields_owners_do_not_set(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    listing = await create_listing(
        client,
        owner,
        owner_id="someone-else",
        is_verified=True,
        verification_tier="verified",
        analytics={"total_views": 999},
        status="rented",
    )
    assert listing["owner_id"] == owner["user"]["user_id"]
    assert listing["is_verified"] is False and listing["verification_tier"] == "free"
    assert listing["analytics"]["total_views"] == 0 and listing["status"] == "active"


async def test_my_properties_is_not_shadowed_by_the_detail_route(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    other = await register(client, user_type="owner")
    first = await create_listing(client, owner, title="First")
    second = await create_listing(client, owner, title="Second")
    await create_listing(client, other, title="Not mine")
    response = await client.get("/api/properties/my-properties", headers=owner["headers"])
    assert response.status == 200
    listings = await response.json()
    assert isinstance(listings, list)
    assert {p["property_id"] for p in listings} == {first["property_id"], second["property_id"]}
    assert (await client.get("/api/properties/my-properties")).status == 401


async def test_detail_is_public_and_counts_views(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    listing = await create_listing(client, owner)
    url = f"/api/properties/{listing['property_id']}"
    response = await client.get(url)
    assert response.status == 200
    data = await response.json()
    assert data["property_id"] == listing["property_id"]
    assert "analytics" not in data  # the owner's business, not the public's

    free = await register(client)
    premium = await register(client)
    await make_premium(client, premium["user"]["user_id"])
    await client.get(url, headers=free["headers"])
    await client.get(url, headers=premium["headers"])

    # The owner looking at their own listing sees its analytics, and is not a renter's interest.
    data = await (await client.get(url, headers=owner["headers"])).json()
    assert data["analytics"]["total_views"] == 3
    assert data["analytics"]["premium_views"] == 1
    assert data["analytics"]["last_viewed"] is not None
    assert sum(data["analytics"]["views_history"].values()) == 3

    assert (await client.get("/api/properties/no-such-listing")).status == 404


async def test_concurrent_views_count_each_viewer_once(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    listing = await create_listing(client, owner)
    url = f"/api/properties/{listing['property_id']}"
    viewers = [await register(client) for _ in range(8)]
    # Twenty anonymous reloads from one address and three at once from each of eight signed-in viewers.
    responses = await asyncio.gather(
        *(client.get(url) for _ in range(20)),
        *(client.get(url, headers=viewer["headers"]) for viewer in viewers for _ in range(3)),
    )
    assert all(r.status == 200 for r in responses)
    analytics = await (await client.get(f"{url}/analytics", headers=owner["headers"])).json()
    assert analytics["total_views"] == 9
    assert sum(analytics["views_history"].values()) == 9


async def test_only_the_owner_updates_and_only_listing_fields(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    stranger = await register(client, user_type="owner")
    listing = await create_listing(client, owner)
    url = f"/api/properties/{listing['property_id']}"

    response = await client.put(url, json={"rent": 1}, headers=stranger["headers"])
    assert response.status == 403
    assert (await client.put(url, json={"rent": 1})).status == 401

    response = await client.put(
        url,
        json={
            "rent": 27500.5,
            "title": "Renovated 2BHK",
            "details": {"furnishing": "fully-furnished", "bathrooms": 2},
            "owner_id": stranger["user"]["user_id"],
            "is_verified": True,
            "verification_tier": "verified",
            "analytics": {"total_views": 1000},
            "images": ["/uploads/properties/x/y.jpg"],
        },
        headers=owner["headers"],
    )
    assert response.status == 200, await response.text()
    updated = await response.json()
    assert updated["rent"] == 27500.5 and updated["title"] == "Renovated 2BHK"
    assert updated["details"]["furnishing"] == "fully-furnished"
    assert updated["owner_id"] == owner["user"]["user_id"]
    assert updated["is_verified"] is False and updated["verification_tier"] == "free"
    assert updated["analytics"]["total_views"] == 0
    assert updated["images"] == []
    assert updated["updated_at"] is not None

    for bad in ({"status": "deleted"}, {"rent": 0}, {"bhk_type": "9BHK"}, {"title": None}):
        response = await client.put(url, json=bad, headers=owner["headers"])
        assert response.status == 422, bad


async def test_owner_takes_a_listing_off_the_market_and_back(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    listing = await create_listing(client, owner, location={"city": "Statusville"})
    url = f"/api/properties/{listing['property_id']}"

    async def found() -> int:
        data = await (await client.get("/api/properties/search", params={"city": "Statusville"})).json()
        return int(data["total_count"])

    assert await found() == 1
    for status, visible in (("rented", 0), ("inactive", 0), ("active", 1)):
        response = await client.put(url, json={"status": status}, headers=owner["headers"])
        assert response.status == 200
        assert (await response.json())["status"] == status
        assert await found() == visible


async def test_moving_a_listing_recomputes_its_lifestyle_data(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    listing = await create_listing(client, owner)
    url = f"/api/properties/{listing['property_id']}"
    moved = {
        **listing_body()["location"],
        "city": "Pune",
        "locality": "Baner",
        "latitude": 18.559,
        "longitude": 73.7868,
    }
    updated = await (await client.put(url, json={"location": moved}, headers=owner["headers"])).json()
    assert updated["location"]["city"] == "Pune"
    assert updated["lifestyle_data"] != listing["lifestyle_data"]
    assert updated["lifestyle_data"]["is_mock"] is True


async def test_soft_delete_is_owner_only_and_hides_the_listing(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    stranger = await register(client, user_type="both")
    listing = await create_listing(client, owner, location={"city": "Deletepur"})
    url = f"/api/properties/{listing['property_id']}"

    assert (await client.delete(url, headers=stranger["headers"])).status == 403
    response = await client.delete(url, headers=owner["headers"])
    assert response.status == 200
    assert (await response.json()) == {"message": "Property deleted successfully"}

    assert (await client.get(url)).status == 404
    data = await (await client.get("/api/properties/search", params={"city": "Deletepur"})).json()
    assert data["total_count"] == 0
    mine = await (await client.get("/api/properties/my-properties", headers=owner["headers"])).json()
    assert mine == []
    assert (await client.delete(url, headers=owner["headers"])).status == 404
    assert (await client.put(url, json={"title": "back"}, headers=owner["headers"])).status == 404


async def test_analytics_are_owner_only(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    renter = await register(client)
    listing = await create_listing(client, owner)
    url = f"/api/properties/{listing['property_id']}/analytics"
    assert (await client.get(url)).status == 401
    assert (await client.get(url, headers=renter["headers"])).status == 403
    response = await client.get(url, headers=owner["headers"])
    assert response.status == 200
    analytics = await response.json()
    assert set(analytics) >= {
        "total_views",
        "premium_views",
        "total_contacts",
        "shortlisted_count",
        "last_viewed",
        "views_history",
    }


async def test_lifestyle_search_is_premium_only(client: TestClient[Any, Any], clock: AdjustableClock) -> None:
    owner = await register(client, user_type="owner")
    renter = await register(client)
    url = "/api/properties/lifestyle-search"
    assert (await client.get(url)).status == 401
    response = await client.get(url, headers=renter["headers"])
    assert response.status == 403
    assert "premium" in (await response.json())["detail"]

    clean = await create_listing(client, owner, location={"city": "Lifestylepur"}, rent=20000)
    smoggy = await create_listing(client, owner, location={"city": "Lifestylepur"}, rent=20000)
    unverified = await create_listing(client, owner, location={"city": "Lifestylepur"})
    await set_listing(
        clean["property_id"],
        is_verified=True,
        **{
            "lifestyle_data.aqi_score": 40,
            "lifestyle_data.walkability_score": 90,
            "lifestyle_data.nearby_parks": 3,
        },
    )
    await set_listing(
        smoggy["property_id"],
        is_verified=True,
        **{
            "lifestyle_data.aqi_score": 180,
            "lifestyle_data.walkability_score": 30,
            "lifestyle_data.nearby_parks": 0,
        },
    )
    await set_listing(unverified["property_id"], **{"lifestyle_data.aqi_score": 10})

    await make_premium(client, renter["user"]["user_id"])
    response = await client.get(url, params={"city": "Lifestylepur"}, headers=renter["headers"])
    assert response.status == 200
    data = await response.json()
    assert {p["property_id"] for p in data["properties"]} == {clean["property_id"], smoggy["property_id"]}
    assert data["total_count"] == 2

    for params in ({"max_aqi": 100}, {"min_walkability": 80}, {"near_parks": "true"}):
        data = await (
            await client.get(url, params={"city": "Lifestylepur", **params}, headers=renter["headers"])
        ).json()
        assert [p["property_id"] for p in data["properties"]] == [clean["property_id"]], params
    data = await (
        await client.get(url, params={"city": "Lifestylepur", "budget": 19999}, headers=renter["headers"])
    ).json()
    assert data["total_count"] == 0
    assert (await client.get(url, params={"max_aqi": "lots"}, headers=renter["headers"])).status == 422

    # Premium lapses by itself when the subscription ends, though the stored tier still says premium.
    await collection_of(User).update_one(
        {"_id": renter["user"]["user_id"]}, {"$set": {"subscription_end": clock.now() - timedelta(minutes=1)}}
    )
    assert (await client.get(url, headers=renter["headers"])).status == 403
