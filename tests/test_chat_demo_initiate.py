"""The demo's chat is the one its renter reaches by initiating again: a renter has one chat per listing,
found by the pair, though the demo's has a fixed id rather than the one the store's key derives (so that
separately seeded stores hold the same chat)."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from documents.chat import Chat
from homer_rt.appkeys import CHATS, CLOCK
from homer_rt.demo import DEMO_PASSWORD, DEMO_RENTERS, demo_id, seed_demo
from homer_rt.security import PasswordHasher
from homer_rt.services.lifestyle import MockLifestyleProvider


async def test_initiating_the_demo_chats_listing_again_finds_the_demo_chat(
    client: TestClient[Any, Any],
) -> None:
    await seed_demo(
        clock=client.app[CLOCK],
        hasher=PasswordHasher(rounds=4),
        properties=2,
        lifestyle=MockLifestyleProvider(),
    )
    renter = DEMO_RENTERS[1]  # the demo chat is between renter2 and the owner of listing 0
    login = await client.post("/api/auth/login", json={"email": renter.email, "password": DEMO_PASSWORD})
    assert login.status == 200, await login.text()
    headers = {"Authorization": f"Bearer {(await login.json())['token']}"}
    listing = demo_id("property:0")
    assert client.app[CHATS].chat_id_for(property_id=listing, renter_id=renter.user_id) != demo_id("chat:0")

    again = await client.post(
        "/api/chats/initiate",
        json={"property_id": listing, "initial_message": "Hello again"},
        headers=headers,
    )
    assert again.status == 200, await again.text()
    assert await again.json() == {"chat_id": demo_id("chat:0"), "created": False}
    assert await Chat.find({"renter_id": renter.user_id, "property_id": listing}).count() == 1
