"""Shortlists: idempotent adds, notes, removal, and an exact shortlisted_count under concurrency."""

from __future__ import annotations

import asyncio
from typing import Any

from aiohttp.test_utils import TestClient

from tests.factories import create_listing, register


async def shortlisted_count(client: TestClient[Any, Any], owner: dict[str, Any], property_id: str) -> int:
    response = await client.get(f"/api/properties/{property_id}/analytics", headers=owner["headers"])
    return int((await response.json())["shortlisted_count"])


async def test_add_list_update_remove(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    renter = await register(client)
    listing = await create_listing(client, owner, title="Lake view 2BHK")
    pid = listing["property_id"]

    response = await client.post(
        "/api/shortlists", json={"property_id": pid, "notes": "call after 6"}, headers=renter["headers"]
    )
    assert response.status == 201, await response.text()
    added = await response.json()
    assert added["created"] is True and added["property_id"] == pid and added["notes"] == "call after 6"
    assert added["property"]["title"] == "Lake view 2BHK" and added["property"]["rent"] == 25000

    response = await client.get("/api/shortlists", headers=renter["headers"])
    data = await response.json()
    assert data["total_count"] == 1
    entry = data["shortlists"][0]
    assert entry["shortlist_id"] == added["shortlist_id"]
    assert entry["property"]["property_id"] == pid and entry["property"]["city"] == "Bengaluru"

    response = await client.put(
        f"/api/shortlists/{pid}", json={"notes": "visited, liked it"}, headers=renter["headers"]
    )
    assert response.status == 200
    assert (await response.json())["notes"] == "visited, liked it"

    assert await shortlisted_count(client, owner, pid) == 1
    response = await client.delete(f"/api/shortlists/{pid}", headers=renter["headers"])
    assert response.status == 200
    assert await shortlisted_count(client, owner, pid) == 0
    assert (await client.delete(f"/api/shortlists/{pid}", headers=renter["headers"])).status == 404
    assert await shortlisted_count(client, owner, pid) == 0
    assert (await (await client.get("/api/shortlists", headers=renter["headers"])).json())["shortlists"] == []
    assert (
        await client.put(f"/api/shortlists/{pid}", json={"notes": "x"}, headers=renter["headers"])
    ).status == 404


async def test_adding_twice_is_one_shortlist(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    renter = await register(client)
    pid = (await create_listing(client, owner))["property_id"]
    first = await client.post("/api/shortlists", json={"property_id": pid}, headers=renter["headers"])
    second = await client.post(
        "/api/shortlists", json={"property_id": pid, "notes": "n"}, headers=renter["headers"]
    )
    assert first.status == 201 and second.status == 200
    again = await second.json()
    assert again["created"] is False
    assert again["shortlist_id"] == (await first.json())["shortlist_id"]
    assert again["notes"] == "n"
    assert await shortlisted_count(client, owner, pid) == 1
    data = await (await client.get("/api/shortlists", headers=renter["headers"])).json()
    assert data["total_count"] == 1


async def test_shortlists_are_per_user(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    alice = await register(client)
    bob = await register(client)
    pid = (await create_listing(client, owner))["property_id"]
    await client.post("/api/shortlists", json={"property_id": pid}, headers=alice["headers"])
    assert (await (await client.get("/api/shortlists", headers=bob["headers"])).json())["total_count"] == 0
    # Bob cannot remove or annotate Alice's shortlist: he has none for this listing.
    assert (await client.delete(f"/api/shortlists/{pid}", headers=bob["headers"])).status == 404
    assert (
        await client.put(f"/api/shortlists/{pid}", json={"notes": "x"}, headers=bob["headers"])
    ).status == 404
    assert await shortlisted_count(client, owner, pid) == 1


async def test_bad_requests(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    assert (await client.get("/api/shortlists")).status == 401
    assert (await client.post("/api/shortlists", json={"property_id": "x"})).status == 401
    response = await client.post(
        "/api/shortlists", json={"property_id": "no-such"}, headers=renter["headers"]
    )
    assert response.status == 404
    assert (await client.post("/api/shortlists", json={}, headers=renter["headers"])).status == 422
    response = await client.post(
        "/api/shortlists", json={"property_id": {"$ne": None}}, headers=renter["headers"]
    )
    assert response.status == 422
    response = await client.post("/api/shortlists", data="{not json", headers=renter["headers"])
    assert response.status == 400


async def test_deleted_listings_cannot_be_shortlisted_but_stay_visible(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    renter = await register(client)
    kept = (await create_listing(client, owner))["property_id"]
    await client.post("/api/shortlists", json={"property_id": kept}, headers=renter["headers"])
    await client.delete(f"/api/properties/{kept}", headers=owner["headers"])
    entries = (await (await client.get("/api/shortlists", headers=renter["headers"])).json())["shortlists"]
    assert entries[0]["property"]["status"] == "deleted"
    response = await client.post("/api/shortlists", json={"property_id": kept}, headers=renter["headers"])
    assert response.status == 404


async def test_concurrent_adds_and_removes_keep_the_count_exact(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    renters = [await register(client) for _ in range(8)]
    pid = (await create_listing(client, owner))["property_id"]

    def add(renter: dict[str, Any]) -> Any:
        return client.post("/api/shortlists", json={"property_id": pid}, headers=renter["headers"])

    def remove(renter: dict[str, Any]) -> Any:
        return client.delete(f"/api/shortlists/{pid}", headers=renter["headers"])

    # Every renter adds three times at once: eight shortlists, not twenty-four.
    responses = await asyncio.gather(*(add(r) for r in renters for _ in range(3)))
    assert sorted(r.status for r in responses) == [200] * 16 + [201] * 8
    assert await shortlisted_count(client, owner, pid) == 8

    # Half remove twice at once while the other half add again: exactly four remain.
    responses = await asyncio.gather(
        *(remove(r) for r in renters[:4] for _ in range(2)), *(add(r) for r in renters[4:])
    )
    assert sorted(r.status for r in responses[:8]) == [200] * 4 + [404] * 4
    assert await shortlisted_count(client, owner, pid) == 4
