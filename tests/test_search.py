"""GET /api/properties/search on a seeded set: every filter, sort and page, and hostile search text."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from tests.factories import create_listing, register
from tests.listing_support import set_listing

# (title, city, locality, bhk, type, rent, furnishing, verified)
LISTINGS = [
    ("a", "Bengaluru", "Koramangala", "1BHK", "apartment", 15000, "unfurnished", False),
    ("b", "Bengaluru", "Indiranagar", "2BHK", "apartment", 30000, "semi-furnished", True),
    ("c", "Bengaluru", "HSR Layout", "3BHK", "independent_house", 45000, "fully-furnished", False),
    ("d", "Mumbai", "Andheri West", "2BHK", "apartment", 55000, "fully-furnished", True),
    ("e", "Mumbai", "Powai", "4BHK+", "villa", 150000, "semi-furnished", False),
    ("f", "Navi Mumbai (West)", "Vashi", "1BHK", "pg", 9000, "fully-furnished", False),
    ("g", "Pune", "Koregaon Park", "2BHK", "apartment", 28000, "unfurnished", True),
    ("h", "Pune", "Baner", "3BHK", "apartment", 38000, "semi-furnished", False),
]


@pytest.fixture
async def seeded(client: TestClient[Any, Any]) -> dict[str, str]:
    """Eight listings created a minute apart (a first), plus an inactive and a deleted one."""
    owner = await register(client, user_type="owner")
    ids: dict[str, str] = {}
    from homer_rt.appkeys import CLOCK

    for title, city, locality, bhk, kind, rent, furnishing, verified in LISTINGS:
        client.app[CLOCK].advance(timedelta(minutes=1))
        listing = await create_listing(
            client,
            owner,
            title=title,
            bhk_type=bhk,
            property_type=kind,
            rent=rent,
            location={"city": city, "locality": locality},
            details={"furnishing": furnishing},
        )
        ids[title] = listing["property_id"]
        if verified:
            await set_listing(listing["property_id"], is_verified=True, verification_tier="verified")
    hidden = await create_listing(client, owner, title="inactive", location={"city": "Bengaluru"})
    await client.put(
        f"/api/properties/{hidden['property_id']}", json={"status": "inactive"}, headers=owner["headers"]
    )
    gone = await create_listing(client, owner, title="deleted", location={"city": "Bengaluru"})
    await client.delete(f"/api/properties/{gone['property_id']}", headers=owner["headers"])
    return ids


async def titles(client: TestClient[Any, Any], **params: Any) -> list[str]:
    response = await client.get("/api/properties/search", params={k: str(v) for k, v in params.items()})
    assert response.status == 200, await response.text()
    data = await response.json()
    assert data["total_count"] >= len(data["properties"])
    return [p["title"] for p in data["properties"]]


async def test_only_active_listings_default_sort_verified_then_newest(
    client: TestClient[Any, Any], seeded: dict[str, str]
) -> None:
    response = await client.get("/api/properties/search")
    data = await response.json()
    assert data["total_count"] == 8 and data["page"] == 1 and data["has_more"] is False
    assert [p["title"] for p in data["properties"]] == ["g", "d", "b", "h", "f", "e", "c", "a"]
    assert isinstance(data["properties"][0]["rent"], int)


async def test_filters(client: TestClient[Any, Any], seeded: dict[str, str]) -> None:
    assert sorted(await titles(client, city="bengaluru")) == ["a", "b", "c"]
    assert sorted(await titles(client, city="MUMBAI")) == ["d", "e", "f"]  # substring: Navi Mumbai too
    assert sorted(await titles(client, city="umba")) == ["d", "e", "f"]
    assert await titles(client, location="koregaon") == ["g"]
    assert sorted(await titles(client, min_price=30000, max_price=55000)) == ["b", "c", "d", "h"]
    assert sorted(await titles(client, max_price=15000)) == ["a", "f"]
    assert sorted(await titles(client, bhk_type="2BHK")) == ["b", "d", "g"]
    assert await titles(client, bhk_type="4BHK+") == ["e"]
    assert sorted(await titles(client, property_type="apartment", city="pune")) == ["g", "h"]
    assert sorted(await titles(client, furnishing="fully-furnished")) == ["c", "d", "f"]
    assert sorted(await titles(client, verified_only="true")) == ["b", "d", "g"]
    assert await titles(client, city="Bengaluru", bhk_type="3BHK", max_price=50000) == ["c"]


async def test_plus_in_a_raw_query_string_still_means_4bhk_plus(
    client: TestClient[Any, Any], seeded: dict[str, str]
) -> None:
    # A browser form writes 4BHK+ as 4BHK%2B, but a hand-written URL sends a bare '+' (a space).
    for raw in ("4BHK%2B", "4BHK+", "4bhk"):
        data = await (await client.get(f"/api/properties/search?bhk_type={raw}")).json()
        assert [p["title"] for p in data["properties"]] == ["e"], raw


async def test_sorts(client: TestClient[Any, Any], seeded: dict[str, str]) -> None:
    assert await titles(client, sort_by="price_low") == ["f", "a", "g", "b", "h", "c", "d", "e"]
    assert await titles(client, sort_by="price_high") == ["e", "d", "c", "h", "b", "g", "a", "f"]
    assert await titles(client, sort_by="recent") == ["h", "g", "f", "e", "d", "c", "b", "a"]
    assert await titles(client, sort_by="default") == ["g", "d", "b", "h", "f", "e", "c", "a"]


async def test_pagination(client: TestClient[Any, Any], seeded: dict[str, str]) -> None:
    seen: list[str] = []
    for page, more in ((1, True), (2, True), (3, False)):
        response = await client.get(
            "/api/properties/search", params={"sort_by": "price_low", "limit": 3, "page": page}
        )
        data = await response.json()
        assert data["page"] == page and data["has_more"] is more and data["total_count"] == 8
        seen += [p["title"] for p in data["properties"]]
    assert seen == ["f", "a", "g", "b", "h", "c", "d", "e"]
    data = await (await client.get("/api/properties/search", params={"page": 9})).json()
    assert data["properties"] == [] and data["has_more"] is False


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"page": "0"},
        {"min_price": "cheap"},
        {"min_price": "-1"},
        {"min_price": "5000", "max_price": "1000"},
        {"sort_by": "random"},
        {"bhk_type": "10BHK"},
        {"furnishing": "palatial"},
        {"verified_only": "perhaps"},
    ],
)
async def test_bad_parameters_are_422(client: TestClient[Any, Any], params: dict[str, str]) -> None:
    response = await client.get("/api/properties/search", params=params)
    assert response.status == 422
    assert (await response.json())["detail"]


async def test_limit_bounds_are_accepted(client: TestClient[Any, Any], seeded: dict[str, str]) -> None:
    assert len(await titles(client, limit=1)) == 1
    assert len(await titles(client, limit=100)) == 8


@pytest.mark.parametrize(
    "text",
    [".*", ".", "(", ")", "[", "a|b", "^B", "\\", "$where", '{"$ne": null}', "Bengaluru.*", "*", "+", "?"],
)
async def test_regex_metacharacters_are_literal(
    client: TestClient[Any, Any], seeded: dict[str, str], text: str
) -> None:
    # Each text matches exactly the listings that contain it literally (none, or "Navi Mumbai (West)").
    for field, column in (("city", 1), ("location", 2)):
        expected = sorted(row[0] for row in LISTINGS if text.lower() in str(row[column]).lower())
        response = await client.get("/api/properties/search", params={field: text})
        assert response.status == 200, (field, text, await response.text())
        assert sorted(p["title"] for p in (await response.json())["properties"]) == expected, (field, text)


async def test_metacharacters_match_themselves(client: TestClient[Any, Any], seeded: dict[str, str]) -> None:
    assert await titles(client, city="(West)") == ["f"]
    assert await titles(client, city="navi mumbai (w") == ["f"]


async def test_operator_shaped_parameters_are_not_operators(
    client: TestClient[Any, Any], seeded: dict[str, str]
) -> None:
    # Bracket keys are just unknown parameter names; they never become query operators.
    data = await (await client.get("/api/properties/search?city[$ne]=Nowhere&rent[$gt]=0")).json()
    assert data["total_count"] == 8
    response = await client.get("/api/properties/search?min_price[$gt]=0")
    assert response.status == 200
