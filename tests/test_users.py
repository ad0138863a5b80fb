"""Profiles: the user's own, editable only in its whitelisted fields, and the public view of others."""

from __future__ import annotations

from typing import Any

from aiohttp.test_utils import TestClient

from tests.admin_support import upload_document
from tests.factories import register
from tests.listing_support import files_form, png_bytes


async def test_profile_update_writes_only_whitelisted_fields(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    response = await client.put(
        "/api/users/me",
        headers=user["headers"],
        json={
            "full_name": "Renamed",
            "gender": "female",
            "date_of_birth": "1994-05-17",
            "renter_preferences": {"cities": ["Pune"], "max_rent": 25000},
            "profile_visibility": False,
            # Forbidden: each of these must be ignored.
            "is_admin": True,
            "subscription_tier": "premium",
            "contacts_used": -100,
            "email": "stolen@example.com",
            "password_hash": "x",
            "is_verified_renter": True,
            "token_version": 99,
        },
    )
    assert response.status == 200, await response.text()
    profile = await response.json()
    assert profile["full_name"] == "Renamed"
    assert profile["date_of_birth"] == "1994-05-17"
    assert profile["renter_preferences"] == {"cities": ["Pune"], "max_rent": 25000}
    assert profile["profile_visibility"] is False

    me = await (await client.get("/api/users/me", headers=user["headers"])).json()
    assert me["is_admin"] is False
    assert me["subscription_tier"] == "free"
    assert me["contacts_used"] == 0
    assert me["email"] == user["email"]
    assert me["is_verified_renter"] is False
    # The token still works: token_version was not touched.
    assert (await client.get("/api/auth/me", headers=user["headers"])).status == 200


async def test_profile_update_rejects_wrong_types(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    response = await client.put(
        "/api/users/me",
        headers=user["headers"],
        json={"date_of_birth": "yesterday", "profile_visibility": "maybe"},
    )
    assert response.status == 422
    body = await response.json()
    assert {f["field"] for f in body["error"]["fields"]} == {"date_of_birth", "profile_visibility"}


async def test_profile_photo_must_be_one_of_our_uploads(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    response = await client.put(
        "/api/users/me", headers=user["headers"], json={"profile_photo_url": "https://evil.example/x.png"}
    )
    assert response.status == 422


async def upload_photo(client: TestClient[Any, Any], user: dict[str, Any]) -> str:
    response = await client.post(
        "/api/users/me/photo",
        data=files_form(("me.png", png_bytes()), field="photo"),
        headers=user["headers"],
    )
    assert response.status == 200, await response.text()
    return str((await response.json())["profile_photo_url"])


async def test_profile_photo_is_only_ever_the_callers_own_upload(client: TestClient[Any, Any]) -> None:
    user, other = await register(client), await register(client)
    mine, theirs = await upload_photo(client, user), await upload_photo(client, other)
    document = await upload_document(client, user)
    me = user["user"]["user_id"]

    async def put_photo(url: str | None) -> Any:
        return await client.put("/api/users/me", headers=user["headers"], json={"profile_photo_url": url})

    # Paths that only start like a profile photo: dot segments, extra or missing segments.
    for url in (
        f"/uploads/profiles/../verification/{me}/x.pdf",
        f"/uploads/profiles/{me}/../../verification/{document.rsplit('/', 1)[1]}",
        f"/uploads/profiles/{me}/..",
        f"/uploads/profiles/{me}/sub/name.png",
        "/uploads/profiles/x.jpg",
    ):
        response = await put_photo(url)
        assert response.status == 422, (url, await response.text())
        assert (await response.json())["error"]["fields"][0]["field"] == "profile_photo_url"
    # Well-formed, but not a profile photo this user uploaded: someone else's, made up, or a document.
    for url in (
        theirs,
        f"/uploads/profiles/{me}/made-up.png",
        document.replace("/verification/", "/profiles/"),
    ):
        response = await put_photo(url)
        assert response.status == 403, (url, await response.text())
        body = await response.json()
        assert body["error"]["code"] == "photo_not_owned" and "you uploaded" in body["detail"]
    profile = await (await client.get("/api/users/me", headers=user["headers"])).json()
    assert profile["profile_photo_url"] == mine

    # Removing the photo and setting one's own upload again are fine.
    assert (await put_photo(None)).status == 200
    restored = await put_photo(mine)
    assert restored.status == 200 and (await restored.json())["profile_photo_url"] == mine


async def test_public_profile_hides_private_fields(client: TestClient[Any, Any]) -> None:
    owner = await register(client, user_type="owner", full_name="Owner Name")
    viewer = await register(client)
    response = await client.get(f"/api/users/{owner['user_id']}", headers=viewer["headers"])
    assert response.status == 200
    profile = await response.json()
    assert profile["full_name"] == "Owner Name"
    assert profile["user_type"] == "owner"
    assert {"is_verified_owner", "is_verified_renter", "profile_photo_url"} <= set(profile)
    for private in ("email", "phone", "renter_verification_documents", "employment_info", "password_hash"):
        assert private not in profile


async def test_public_profile_of_unknown_user_is_404(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/users/does-not-exist")
    assert response.status == 404
    assert (await response.json())["detail"] == "User not found"
