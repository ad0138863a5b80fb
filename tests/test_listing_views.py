"""The typed views say exactly what the JSON holds: every key, no other, each value of its declared type,
after the same JSON encoding the routes use. (Tests that build documents take ``client`` for the store it
starts: Beanie builds a document only once its collection is initialised.)"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from typing import Any

from aiohttp import web
from aiohttp.test_utils import TestClient
from pydantic import TypeAdapter

from documents.property import (
    Analytics,
    BHKType,
    LifestyleData,
    Location,
    Property,
    PropertyDetails,
    PropertyOwnerView,
    PropertyPublicView,
    PropertySummaryView,
    PropertyType,
    VerificationTier,
)
from documents.stored_file import StoredFile, StoredFileView
from homer_rt import jsoncodec
from tests.shape_support import shape_errors


def assert_shaped(view: Any, hint: Any) -> None:
    sent = json.loads(jsoncodec.dumps(view))  # what a client receives
    assert shape_errors(sent, hint) == []
    TypeAdapter(hint).validate_python(sent, strict=True)


def full_listing() -> Property:
    """A listing with every optional part filled, so each nested view is checked with values in it."""
    now = datetime(2026, 12, 4, 18, 30, tzinfo=UTC)
    return Property(
        owner_id="owner-1",
        title="Sunny 2BHK",
        description="Second floor",
        property_type=PropertyType.APARTMENT,
        bhk_type=BHKType.FOUR_PLUS_BHK,
        rent_paise=2_500_050,
        security_deposit_paise=10_000_000,
        location=Location(
            address="12 MG Road",
            city="Bengaluru",
            pincode="560001",
            latitude=12.97,
            longitude=77.6,
            landmarks=["Park"],
        ),
        details=PropertyDetails(
            carpet_area=1050.5, furnishing="semi-furnished", available_from=date(2026, 12, 1)
        ),
        images=["/uploads/properties/p/a.jpg"],
        is_verified=True,
        verification_tier=VerificationTier.VERIFIED,
        verification_date=now,
        lifestyle_data=LifestyleData(aqi_score=80, calculated_at=now),
        analytics=Analytics(total_views=3, last_viewed=now, views_history={"2026-12-04": 3}),
        created_at=now,
        updated_at=now,
    )


async def test_a_listings_views_match_their_types(client: TestClient[Any, Any]) -> None:
    listing = full_listing()
    assert_shaped(listing.api_view(), PropertyOwnerView)
    assert_shaped(listing.public_view(), PropertyPublicView)
    assert "analytics" not in listing.public_view()
    assert_shaped(listing.summary_view(), PropertySummaryView)


async def test_a_bare_listings_views_match_their_types(client: TestClient[Any, Any]) -> None:
    listing = Property(
        owner_id="owner-1",
        title="Room",
        property_type=PropertyType.PG,
        bhk_type=BHKType.ONE_BHK,
        rent_paise=500_000,
        location=Location(address="1 Main Road", city="Pune"),
        created_at=datetime(2026, 12, 4, tzinfo=UTC),
    )
    assert_shaped(listing.api_view(), PropertyOwnerView)
    assert_shaped(listing.summary_view(), PropertySummaryView)


async def test_a_stored_files_view_matches_its_type(client: TestClient[Any, Any]) -> None:
    record = StoredFile(
        url="/uploads/verification/u1/a.pdf",
        area="verification",
        owner_segment="u1",
        uploader_id="u1",
        file_name="id.pdf",
        content_type="application/pdf",
        size=120,
        storage_key="verification/u1/a.pdf",
        created_at=datetime(2026, 12, 4, tzinfo=UTC),
    )
    assert_shaped(record.api_view(), StoredFileView)


async def test_the_checker_finds_an_undeclared_or_missing_key(client: TestClient[Any, Any]) -> None:
    view: dict[str, Any] = dict(full_listing().summary_view())
    view["extra"] = 1
    del view["title"]
    assert sorted(shape_errors(view, PropertySummaryView)) == ["$.extra: not declared", "$.title: missing"]


async def test_the_routes_answers_match_their_declared_types(client: TestClient[Any, Any]) -> None:
    """Every JSON route of listings, verification and shortlists answers what its declaration says, for the
    answers a renter and an owner get on an ordinary path through them."""
    from handlers import properties, shortlists, verification
    from handlers.contract import declared_operation

    declared = {
        (route.method, route.path): declared_operation(route.handler)
        for table in (properties.routes, shortlists.routes, verification.routes)
        for route in table
        if isinstance(route, web.RouteDef)
    }

    async def call(method: str, template: str, path: str, headers: dict[str, str], **kwargs: Any) -> Any:
        response = await client.request(method, path, headers=headers, **kwargs)
        assert response.status < 300, await response.text()
        operation = declared[(method, template)]
        assert operation is not None and operation.status in (response.status, 201)
        body = await response.json()
        assert_shaped(body, operation.response)
        return body

    async def sign_up(user_type: str, n: int) -> dict[str, str]:
        response = await client.post(
            "/api/auth/register",
            json={
                "email": f"views{n}@example.com",
                "phone": f"+9197{n:08d}",
                "password": "correct-horse-battery",
                "user_type": user_type,
                "full_name": "View Tester",
            },
        )
        assert response.status == 200, await response.text()
        return {"Authorization": f"Bearer {(await response.json())['token']}"}

    owner, renter = await sign_up("owner", 1), await sign_up("renter", 2)
    body = {
        "title": "Sunny 2BHK",
        "property_type": "apartment",
        "bhk_type": "2BHK",
        "rent": 25000.5,
        "location": {"address": "12 MG Road", "city": "Bengaluru", "locality": "Indiranagar"},
        "details": {"available_from": "2026-12-01"},
    }
    created = await call("POST", "/api/properties/create", "/api/properties/create", owner, json=body)
    listing_id = created["property_id"]
    listing_path = f"/api/properties/{listing_id}"
    await call("GET", "/api/properties/search", "/api/properties/search?city=beng", renter)
    await call("GET", "/api/properties/my-properties", "/api/properties/my-properties", owner)
    await call("GET", "/api/properties/{property_id}", listing_path, renter)
    await call("GET", "/api/properties/{property_id}", listing_path, owner)
    await call("PUT", "/api/properties/{property_id}", listing_path, owner, json={"description": "Lifts"})
    await call("GET", "/api/properties/{property_id}/analytics", f"{listing_path}/analytics", owner)

    await call("POST", "/api/shortlists", "/api/shortlists", renter, json={"property_id": listing_id})
    await call("POST", "/api/shortlists", "/api/shortlists", renter, json={"property_id": listing_id})
    await call("GET", "/api/shortlists", "/api/shortlists", renter)
    await call(
        "PUT", "/api/shortlists/{property_id}", f"/api/shortlists/{listing_id}", renter, json={"notes": "ok"}
    )
    await call("DELETE", "/api/shortlists/{property_id}", f"/api/shortlists/{listing_id}", renter)

    for kind in ("renter", "owner"):
        await call("GET", "/api/verification/my-status", f"/api/verification/my-status?type={kind}", renter)
    await call(
        "GET",
        "/api/verification/my-status",
        f"/api/verification/my-status?type=property&property_id={listing_id}",
        owner,
    )
    await call("DELETE", "/api/properties/{property_id}", listing_path, owner)
