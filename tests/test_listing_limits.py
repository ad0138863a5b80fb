"""Listings stay bounded (issue 14, item 5): short strings in every list a listing holds, at most
MAX_ACTIVE_LISTINGS_PER_OWNER active listings per owner (admins exempt, concurrent creates included), and
every list a route returns is one bounded page."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.property import Property
from documents.shortlist import Shortlist
from documents.transaction import PaymentStatus, Transaction, TransactionType
from documents.user import User
from homer_rt.app import create_app
from homer_rt.appkeys import CLOCK
from homer_rt.clock import AdjustableClock
from homer_rt.demo import DEMO_OWNERS, seed_demo
from homer_rt.security import PasswordHasher
from homer_rt.services.lifestyle import MockLifestyleProvider
from tests.factories import (
    ClientFactory,
    listing_body,
    make_admin,
    make_property,
    make_settings,
    make_transaction,
    register,
)

CREATE = "/api/properties/create"
DEFAULT_CAP = 50


async def create(client: TestClient[Any, Any], owner: dict[str, Any], **overrides: Any) -> Any:
    return await client.post(CREATE, json=listing_body(**overrides), headers=owner["headers"])


async def create_ok(client: TestClient[Any, Any], owner: dict[str, Any], count: int) -> list[str]:
    ids = []
    for n in range(count):
        response = await create(client, owner, title=f"Flat {n}")
        assert response.status == 200, await response.text()
        ids.append((await response.json())["property_id"])
    return ids


async def active_count(owner: dict[str, Any]) -> int:
    return await Property.find({"owner_id": owner["user"]["user_id"], "status": "active"}).count()


async def assert_limit_reached(response: Any, limit: int) -> None:
    assert response.status == 409, await response.text()
    body = await response.json()
    assert body["error"]["code"] == "listing_limit_reached"
    assert body["error"]["limit"] == limit
    assert str(limit) in body["detail"]


@pytest.fixture
def capped_client(
    aiohttp_client: ClientFactory, tmp_path: Path, clock: AdjustableClock
) -> Callable[[int], Awaitable[TestClient[Any, Any]]]:
    """A client of an app whose MAX_ACTIVE_LISTINGS_PER_OWNER is small, for the transition tests."""

    async def make(cap: int) -> TestClient[Any, Any]:
        settings = make_settings(tmp_path, max_active_listings_per_owner=cap)
        return await aiohttp_client(create_app(settings, clock=clock))

    return make


# ---- strings in lists ---------------------------------------------------------------------------------


async def test_oversized_list_items_are_refused(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    huge = "x" * 900_000  # the audit's 0.9 MB amenity
    refused: list[tuple[dict[str, Any], str]] = [
        ({"details": {"amenities": ["lift", huge]}}, "details.amenities.1"),
        ({"details": {"amenities": ["a" * 101]}}, "details.amenities.0"),
        ({"details": {"amenities": ["gym"] * 51}}, "details.amenities"),
        ({"location": {"landmarks": ["b" * 101]}}, "location.landmarks.0"),
        ({"location": {"landmarks": ["park"] * 21}}, "location.landmarks"),
        ({"images": ["/uploads/properties/x/" + "c" * 600]}, "images.0"),
    ]
    for overrides, field in refused:
        response = await create(client, owner, **overrides)
        assert response.status == 422, (field, response.status)
        fields = {f["field"] for f in (await response.json())["error"]["fields"]}
        assert field in fields, (field, fields)
    assert await Property.find_all().count() == 0

    listing = await create(
        client, owner, details={"amenities": ["a" * 100] * 50}, location={"landmarks": ["b" * 100] * 20}
    )
    assert listing.status == 200, await listing.text()
    url = f"/api/properties/{(await listing.json())['property_id']}"
    for changes in (
        {"details": {"amenities": [huge]}},
        {"location": {**listing_body()["location"], "landmarks": [huge]}},
    ):
        response = await client.put(url, json=changes, headers=owner["headers"])
        assert response.status == 422, changes.keys()
    stored = await Property.get((await listing.json())["property_id"])
    assert stored is not None and max(len(a) for a in stored.details.amenities) == 100


# ---- active listings per owner ------------------------------------------------------------------------


async def test_an_owner_has_at_most_50_active_listings(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    ids = await create_ok(client, owner, DEFAULT_CAP)
    await assert_limit_reached(await create(client, owner), DEFAULT_CAP)
    assert await active_count(owner) == DEFAULT_CAP

    # Taking one off the market frees its place; putting it back needs a free place again.
    first = f"/api/properties/{ids[0]}"
    assert (await client.put(first, json={"status": "rented"}, headers=owner["headers"])).status == 200
    assert (await create(client, owner)).status == 200
    await assert_limit_reached(
        await client.put(first, json={"status": "active"}, headers=owner["headers"]), DEFAULT_CAP
    )
    # Deleting an active one frees a place too, and the rented one goes back on the market.
    assert (await client.delete(f"/api/properties/{ids[1]}", headers=owner["headers"])).status == 200
    assert (await client.put(first, json={"status": "active"}, headers=owner["headers"])).status == 200
    # Saving an already active listing with status "active" (a whole-form PUT) is no new listing.
    assert (await client.put(first, json={"status": "active"}, headers=owner["headers"])).status == 200
    assert await active_count(owner) == DEFAULT_CAP

    # The cap is per owner.
    other = await register(client, user_type="owner")
    assert (await create(client, other)).status == 200


async def test_concurrent_creates_at_the_cap_never_pass_it(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    await create_ok(client, owner, DEFAULT_CAP - 1)
    responses: Sequence[Any] = await asyncio.gather(create(client, owner), create(client, owner))
    assert sorted(r.status for r in responses) == [200, 409]
    assert await active_count(owner) == DEFAULT_CAP

    # Three places free, eight creates and two relists racing for them: exactly three win.
    second = await register(client, user_type="owner")
    ids = await create_ok(client, second, DEFAULT_CAP)
    for property_id in ids[:5]:
        response = await client.put(
            f"/api/properties/{property_id}", json={"status": "inactive"}, headers=second["headers"]
        )
        assert response.status == 200
    await create_ok(client, second, 2)
    relist = [
        client.put(f"/api/properties/{pid}", json={"status": "active"}, headers=second["headers"])
        for pid in ids[:2]
    ]
    responses = await asyncio.gather(*(create(client, second) for _ in range(8)), *relist)
    assert sorted(r.status for r in responses) == [200] * 3 + [409] * 7
    assert await active_count(second) == DEFAULT_CAP


async def test_status_changes_by_owners_and_admins_keep_the_count(
    capped_client: Callable[[int], Awaitable[TestClient[Any, Any]]],
) -> None:
    client = await capped_client(2)
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    first, second = await create_ok(client, owner, 2)
    await assert_limit_reached(await create(client, owner), 2)

    # An admin takedown frees the place; relisting is the admin's call and is not capped.
    admin_url = f"/api/admin/properties/{first}"
    assert (await client.put(admin_url, json={"status": "inactive"}, headers=admin["headers"])).status == 200
    third = (await create_ok(client, owner, 1))[0]
    assert (await client.put(admin_url, json={"status": "active"}, headers=admin["headers"])).status == 200
    assert await active_count(owner) == 3
    await assert_limit_reached(await create(client, owner), 2)

    # Each place comes back once: an admin delete, an owner delete, a second delete of the same listing.
    delete = await client.delete(f"/api/admin/properties/{second}", headers=admin["headers"])
    assert delete.status == 200
    await assert_limit_reached(await create(client, owner), 2)  # still 2 active
    assert (await client.delete(f"/api/properties/{third}", headers=owner["headers"])).status == 200
    assert (await client.delete(f"/api/properties/{third}", headers=owner["headers"])).status == 404
    assert (await create(client, owner)).status == 200
    await assert_limit_reached(await create(client, owner), 2)
    # Two concurrent deactivations of one listing free one place, not two.
    responses = await asyncio.gather(
        *(
            client.put(f"/api/properties/{first}", json={"status": s}, headers=owner["headers"])
            for s in ("inactive", "rented")
        )
    )
    assert [r.status for r in responses] == [200, 200]
    assert (await create(client, owner)).status == 200
    await assert_limit_reached(await create(client, owner), 2)


async def test_admins_are_not_capped(
    capped_client: Callable[[int], Awaitable[TestClient[Any, Any]]],
) -> None:
    client = await capped_client(1)
    admin = await make_admin(client)
    await collection_of(User).update_one({"_id": admin["user"]["user_id"]}, {"$set": {"user_type": "both"}})
    for _ in range(3):
        response = await create(client, admin)
        assert response.status == 200, await response.text()


async def test_accounts_stored_before_the_counter_are_counted(
    capped_client: Callable[[int], Awaitable[TestClient[Any, Any]]],
) -> None:
    client = await capped_client(2)
    owner = await register(client, user_type="owner")
    owner_id = owner["user"]["user_id"]
    users = collection_of(User)
    # Listings stored directly and an account without the counter: data from before it existed.
    await users.update_one({"_id": owner_id}, {"$unset": {"active_listings": ""}})
    first = await make_property(owner_id=owner_id)
    await make_property(owner_id=owner_id)
    await assert_limit_reached(await create(client, owner), 2)
    stored = await users.find_one({"_id": owner_id})
    assert stored is not None and stored["active_listings"] == 2

    await users.update_one({"_id": owner_id}, {"$unset": {"active_listings": ""}})
    response = await client.put(
        f"/api/properties/{first.id}", json={"status": "inactive"}, headers=owner["headers"]
    )
    assert response.status == 200
    assert (await create(client, owner)).status == 200
    await assert_limit_reached(await create(client, owner), 2)


async def test_an_admin_relisting_a_listing_of_an_older_account_counts_it_once(
    capped_client: Callable[[int], Awaitable[TestClient[Any, Any]]],
) -> None:
    client = await capped_client(5)
    admin = await make_admin(client)
    owner = await register(client, user_type="owner")
    owner_id = owner["user"]["user_id"]
    users = collection_of(User)
    await make_property(owner_id=owner_id)
    await make_property(owner_id=owner_id)
    paused = await make_property(owner_id=owner_id)
    await collection_of(Property).update_one({"_id": paused.id}, {"$set": {"status": "inactive"}})
    await users.update_one({"_id": owner_id}, {"$unset": {"active_listings": ""}})  # stored before counters
    relisted = await client.put(
        f"/api/admin/properties/{paused.id}", json={"status": "active"}, headers=admin["headers"]
    )
    assert relisted.status == 200, await relisted.text()
    stored = await users.find_one({"_id": owner_id})
    assert stored is not None and stored["active_listings"] == 3


async def test_demo_seed_counts_its_listings(client: TestClient[Any, Any]) -> None:
    async def seed(properties: int) -> None:
        await seed_demo(
            clock=client.app[CLOCK],
            hasher=PasswordHasher(rounds=4),
            properties=properties,
            lifestyle=MockLifestyleProvider(),
        )

    await seed(24)
    await seed(30)  # idempotent: the first 24 are not counted again
    for account in DEMO_OWNERS:
        active = await Property.find({"owner_id": account.user_id, "status": "active"}).count()
        stored = await collection_of(User).find_one({"_id": account.user_id})
        assert stored is not None and stored["active_listings"] == active == 5


# ---- bounded list responses ---------------------------------------------------------------------------


async def test_my_properties_and_shortlists_answer_bounded_pages(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    renter = await register(client)
    owner_id, renter_id = owner["user"]["user_id"], renter["user"]["user_id"]
    start = client.app[CLOCK].now()
    listings = [
        await make_property(owner_id=owner_id, title=f"Flat {n}", created_at=start + timedelta(seconds=n))
        for n in range(105)
    ]
    for n, listing in enumerate(listings):
        await Shortlist(
            user_id=renter_id, property_id=listing.id, created_at=start + timedelta(seconds=n)
        ).insert()

    mine = await (await client.get("/api/properties/my-properties", headers=owner["headers"])).json()
    assert len(mine) == 100 and mine[0]["title"] == "Flat 104"
    rest = await client.get("/api/properties/my-properties", params={"page": 2}, headers=owner["headers"])
    assert [p["title"] for p in await rest.json()] == [f"Flat {n}" for n in range(4, -1, -1)]

    saved = await (await client.get("/api/shortlists", headers=renter["headers"])).json()
    assert len(saved["shortlists"]) == 100
    assert saved["total_count"] == 105 and saved["has_more"] is True
    tail = await client.get("/api/shortlists", params={"page": 2, "limit": 10}, headers=renter["headers"])
    body = await tail.json()
    assert len(body["shortlists"]) == 10 and body["page"] == 2 and body["has_more"] is True


LIST_ROUTES = [
    "/api/properties/my-properties",
    "/api/shortlists",
    "/api/chats",
    "/api/payments/history",
    "/api/verification/admin/pending",
    "/api/admin/verifications/pending",
]


async def test_every_plain_list_route_has_a_maximum_page(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    for url in LIST_ROUTES:
        response = await client.get(url, params={"limit": 101}, headers=admin["headers"])
        assert response.status == 422, (url, response.status)
        assert (await client.get(url, params={"limit": 100}, headers=admin["headers"])).status == 200, url


async def test_the_chat_list_is_paged(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner")
    renter = await register(client)
    for n in range(3):
        listing = await make_property(owner_id=owner["user"]["user_id"], title=f"Flat {n}")
        started = await client.post(
            "/api/chats/initiate",
            json={"property_id": listing.id, "initial_message": "Is it available?"},
            headers=renter["headers"],
        )
        assert started.status == 200, await started.text()
    first = await (await client.get("/api/chats", params={"limit": 2}, headers=renter["headers"])).json()
    second = await (
        await client.get("/api/chats", params={"limit": 2, "page": 2}, headers=renter["headers"])
    ).json()
    assert len(first) == 2 and len(second) == 1
    assert len({chat["chat_id"] for chat in first + second}) == 3


async def test_payment_history_is_paged(client: TestClient[Any, Any]) -> None:
    renter = await register(client)
    now = client.app[CLOCK].now()
    for n in range(3):
        await make_transaction(
            user_id=renter["user"]["user_id"],
            transaction_type=TransactionType.RENTER_SUBSCRIPTION,
            amount_paise=75_000,
            order_id=f"mock_order_{n}",
            payment_status=PaymentStatus.SUCCESS,
            created_at=now + timedelta(seconds=n),
        )
    url = "/api/payments/history"
    first = await (await client.get(url, params={"limit": 2}, headers=renter["headers"])).json()
    second = await (await client.get(url, params={"limit": 2, "page": 2}, headers=renter["headers"])).json()
    assert len(first) == 2 and len(second) == 1
    assert {t["transaction_id"] for t in first + second} == {
        t.id for t in await Transaction.find({"user_id": renter["user"]["user_id"]}).to_list()
    }
