"""Demo data: deterministic, idempotent, realistic enough to search at once, and the seed-demo command."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from bson import json_util

from documents.property import Property
from documents.user import User
from homer_rt.app import create_app
from homer_rt.appkeys import CHATS, CLOCK, STORE
from homer_rt.cli import main
from homer_rt.demo import (
    CITIES,
    DEMO_OWNERS,
    DEMO_PASSWORD,
    DEMO_RENTERS,
    PREMIUM_RENTER,
    demo_id,
    demo_owner,
    enable_demo_data,
    seed_demo,
)
from homer_rt.security import PasswordHasher
from homer_rt.services.lifestyle import MockLifestyleProvider
from tests.factories import make_settings


async def seed(client: TestClient[Any, Any], properties: int = 24) -> Any:
    return await seed_demo(
        clock=client.app[CLOCK],
        hasher=PasswordHasher(rounds=4),
        properties=properties,
        lifestyle=MockLifestyleProvider(),
    )


async def login(client: TestClient[Any, Any], email: str) -> dict[str, str]:
    response = await client.post("/api/auth/login", json={"email": email, "password": DEMO_PASSWORD})
    assert response.status == 200, await response.text()
    return {"Authorization": f"Bearer {(await response.json())['token']}"}


async def test_seeding_is_idempotent(client: TestClient[Any, Any]) -> None:
    first = await seed(client)
    accounts = len(DEMO_OWNERS) + len(DEMO_RENTERS)
    assert (first.created["users"], first.created["properties"]) == (accounts, 24)
    again = await seed(client)
    assert set(again.created.values()) == {0}  # later steps (the demo chat) are idempotent too
    assert again.users == accounts and again.properties == 24
    assert await User.find_all().count() == accounts
    assert await Property.find_all().count() == 24
    more = await seed(client, properties=30)
    assert more.created["properties"] == 6


async def snapshot(client: TestClient[Any, Any]) -> dict[str, Any]:
    dump = json.loads(await client.app[STORE].snapshot())
    for user in dump["users"]:
        user.pop("password_hash")  # bcrypt salts differ; every hash still verifies DEMO_PASSWORD
    return {"users": dump["users"], "properties": dump["properties"]}


async def test_two_stores_seeded_separately_hold_the_same_data(aiohttp_client: Any, tmp_path: Path) -> None:
    # One after the other: Beanie binds its document classes to the store opened last.
    one = await aiohttp_client(create_app(make_settings(tmp_path / "one")))
    await seed(one, 12)
    first = await snapshot(one)
    two = await aiohttp_client(create_app(make_settings(tmp_path / "two")))
    await seed(two, 12)
    second = await snapshot(two)
    assert len(first["properties"]) == 12
    assert first == second
    assert {u["_id"]["$uuid"] if isinstance(u["_id"], dict) else u["_id"] for u in first["users"]} >= {
        demo_id("user:owner1"),
        demo_id("user:renter1"),
    }


async def test_demo_accounts_and_listings_work(client: TestClient[Any, Any]) -> None:
    await seed(client, 42)
    owner = await login(client, "owner1@demo.homer.in")
    mine = await (await client.get("/api/properties/my-properties", headers=owner)).json()
    assert len(mine) == 7 and all(p["owner_id"] == demo_id("user:owner1") for p in mine)

    data = await (await client.get("/api/properties/search", params={"limit": 100})).json()
    assert data["total_count"] == 42
    listings = data["properties"]
    assert {p["location"]["city"] for p in listings} == {city.name for city in CITIES}
    assert any(p["is_verified"] for p in listings) and not all(p["is_verified"] for p in listings)
    for listing in listings:
        assert listing["rent"] > 0 and listing["security_deposit"] >= listing["rent"]
        assert listing["lifestyle_data"]["is_mock"] is True
        assert listing["location"]["pincode"] and listing["location"]["latitude"]
        assert listing["details"]["amenities"] and listing["title"]
    mumbai = [p["rent"] for p in listings if p["location"]["city"] == "Mumbai"]
    assert min(mumbai) >= 10000

    premium = await login(client, PREMIUM_RENTER.email)
    me = await (await client.get("/api/users/me", headers=premium)).json()
    assert me["subscription_tier"] == "premium"
    response = await client.get("/api/properties/lifestyle-search", headers=premium)
    assert response.status == 200
    assert (await response.json())["total_count"] == 14  # every third listing is verified

    free = await login(client, "renter3@demo.homer.in")
    assert (await client.get("/api/properties/lifestyle-search", headers=free)).status == 403
    response = await client.post("/api/shortlists", json={"property_id": demo_id("property:5")}, headers=free)
    assert response.status == 201


async def test_serve_demo_seeds_at_startup(aiohttp_client: Any, tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    enable_demo_data(app, properties=9)
    client = await aiohttp_client(app)
    data = await (await client.get("/api/properties/search", params={"city": "bengaluru"})).json()
    assert data["total_count"] == 2
    await login(client, "renter2@demo.homer.in")


def test_seed_demo_command(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    for name in ("MONGODB_URL", "EMBEDDED_DATA_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")

    assert main(["seed-demo"]) == 2
    assert "in-memory store" in capsys.readouterr().err

    data_file = tmp_path / "homer-data.json"
    monkeypatch.setenv("EMBEDDED_DATA_FILE", str(data_file))
    assert main(["seed-demo", "--properties", "5"]) == 0
    out = capsys.readouterr().out
    assert "owner1@demo.homer.in" in out and DEMO_PASSWORD in out
    saved = json.loads(data_file.read_text())
    assert len(saved["properties"]) == 5 and len(saved["users"]) == len(DEMO_OWNERS) + len(DEMO_RENTERS)

    assert main(["seed-demo", "--properties", "5"]) == 0
    assert "'properties': 0" in capsys.readouterr().out
    assert len(json.loads(data_file.read_text())["properties"]) == 5


def test_seed_demo_command_goes_past_a_thousand_listings_with_a_chat_history(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MONGODB_URL", raising=False)
    monkeypatch.setenv("APP_ENV", "test")
    monkeypatch.setenv("BCRYPT_ROUNDS", "4")
    data_file = tmp_path / "homer-data.json"
    monkeypatch.setenv("EMBEDDED_DATA_FILE", str(data_file))

    assert main(["seed-demo", "--properties", "1200", "--messages", "250"]) == 0
    assert "'properties': 1200" in capsys.readouterr().out
    saved = json_util.loads(data_file.read_text())
    assert len(saved["properties"]) == 1200
    assert {p["_id"] for p in saved["properties"]} == {demo_id(f"property:{i}") for i in range(1200)}
    # 250 history messages in 3 chats, beside the demo chat's 3.
    assert len(saved["chats"]) == 4 and len(saved["chat_messages"]) == 253

    assert main(["seed-demo", "--properties", "1200", "--messages", "250"]) == 0
    assert "'properties': 0, 'chats': 0, 'messages': 0" in capsys.readouterr().out
    again = json_util.loads(data_file.read_text())
    assert len(again["properties"]) == 1200 and len(again["chat_messages"]) == 253

    assert main(["seed-demo", "--properties", "-1"]) == 2
    assert "cannot be negative" in capsys.readouterr().err
    assert main(["seed-demo", "--properties", "1", "--messages", "10"]) == 2
    assert "at least 2 demo listings" in capsys.readouterr().err


async def test_serve_demo_seeds_a_chat_history_the_api_serves(aiohttp_client: Any, tmp_path: Path) -> None:
    app = create_app(make_settings(tmp_path))
    enable_demo_data(app, properties=1100, messages=250)
    client = await aiohttp_client(app)
    everything = await (await client.get("/api/properties/search", params={"limit": 1})).json()
    assert everything["total_count"] == 1100

    headers = await login(client, PREMIUM_RENTER.email)
    # The first history chat: renter1 and the owner of listing 1, under the id a live chat of theirs has.
    chat_id = client.app[CHATS].chat_id_for(
        property_id=demo_id("property:1"), renter_id=PREMIUM_RENTER.user_id
    )
    chats = await (await client.get("/api/chats", headers=headers)).json()
    assert [chat["chat_id"] for chat in chats] == [chat_id]
    assert chats[0]["last_seq"] == 84 and chats[0]["unread_count"] == 1
    unread = await (await client.get("/api/chats/unread-count", headers=headers)).json()
    assert unread == {"unread_count": 1, "chats": {chat_id: 1}}

    page = await (await client.get(f"/api/chats/{chat_id}", headers=headers, params={"limit": 60})).json()
    assert [m["seq"] for m in page["messages"]] == list(range(25, 85))
    older = await (
        await client.get(f"/api/chats/{chat_id}", headers=headers, params={"before_seq": 25, "limit": 50})
    ).json()
    assert [m["seq"] for m in older["messages"]] == list(range(1, 25))
    owner_headers = await login(client, demo_owner(1).email)
    reply = await client.post(
        f"/api/chats/{chat_id}/messages", json={"message": "Still free?"}, headers=owner_headers
    )
    assert reply.status == 200 and (await reply.json())["seq"] == 85
