"""Auth as the frontend uses it: register, login (email or phone), me, logout, change-password."""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import timedelta
from typing import Any

import jwt
from aiohttp.test_utils import TestClient

from documents.base import collection_of
from homer_rt.clock import AdjustableClock
from tests.factories import PASSWORD, TEST_JWT_SECRET, register, unique_identity


async def test_register_returns_the_spec_shape_and_a_working_token(client: TestClient[Any, Any]) -> None:
    data = await register(client, user_type="owner", full_name="Asha Rao")
    assert set(data) >= {"user_id", "token", "user_type", "user"}
    assert data["user_type"] == "owner"
    assert data["user"]["full_name"] == "Asha Rao"
    assert "password_hash" not in data["user"] and "token_version" not in data["user"]

    me = await client.get("/api/auth/me", headers=data["headers"])
    assert me.status == 200
    assert (await me.json())["user_id"] == data["user_id"]


async def test_token_claims_follow_the_spec(client: TestClient[Any, Any]) -> None:
    data = await register(client)
    claims = jwt.decode(data["token"], TEST_JWT_SECRET, algorithms=["HS256"])
    assert claims["sub"] == claims["user_id"] == data["user_id"]
    assert claims["user_type"] == "renter"
    assert claims["exp"] > claims["iat"]


async def test_email_is_normalised_and_ten_digit_phone_gets_india_code(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/api/auth/register",
        json={"email": "  Mixed.Case@Example.COM ", "phone": "98765 43210", "password": PASSWORD},
    )
    assert response.status == 200, await response.text()
    user = (await response.json())["user"]
    assert user["email"] == "mixed.case@example.com"
    assert user["phone"] == "+919876543210"

    by_phone = await client.post("/api/auth/login", json={"email": "9876543210", "password": PASSWORD})
    assert by_phone.status == 200
    by_email = await client.post(
        "/api/auth/login", json={"email": "MIXED.case@example.com", "password": PASSWORD}
    )
    assert by_email.status == 200
    by_phone_field = await client.post(
        "/api/auth/login", json={"phone": "+919876543210", "password": PASSWORD}
    )
    assert by_phone_field.status == 200


async def test_duplicate_email_or_phone_is_refused(client: TestClient[Any, Any]) -> None:
    first = await register(client)
    _, other_phone = unique_identity()
    other_email, _ = unique_identity()
    same_email = await client.post(
        "/api/auth/register",
        json={"email": first["email"].upper(), "phone": other_phone, "password": PASSWORD},
    )
    same_phone = await client.post(
        "/api/auth/register", json={"email": other_email, "phone": first["phone"], "password": PASSWORD}
    )
    for response in (same_email, same_phone):
        assert response.status == 409
        assert (await response.json())["detail"] == "Email or phone already registered"


async def test_concurrent_registrations_of_one_email_create_one_user(client: TestClient[Any, Any]) -> None:
    email, _ = unique_identity()
    phones = [unique_identity()[1] for _ in range(5)]
    responses = await asyncio.gather(
        *(
            client.post("/api/auth/register", json={"email": email, "phone": p, "password": PASSWORD})
            for p in phones
        )
    )
    assert sorted(r.status for r in responses) == [200, 409, 409, 409, 409]


async def test_password_length_rules(client: TestClient[Any, Any]) -> None:
    for password in ("short", "x" * 73, "é" * 37):  # 74 bytes in UTF-8
        email, phone = unique_identity()
        response = await client.post(
            "/api/auth/register", json={"email": email, "phone": phone, "password": password}
        )
        assert response.status == 400
        assert "between 8 and 72 bytes" in (await response.json())["detail"]


async def test_wrong_password_and_unknown_account_look_the_same(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    wrong = await client.post(
        "/api/auth/login", json={"email": user["email"], "password": "not-the-password"}
    )
    unknown = await client.post("/api/auth/login", json={"email": "nobody@example.com", "password": PASSWORD})
    assert wrong.status == unknown.status == 401
    assert (await wrong.json())["detail"] == (await unknown.json())["detail"] == "Invalid credentials"


def _forge(payload: dict[str, Any], header: dict[str, Any]) -> str:
    def b64(part: dict[str, Any]) -> str:
        return base64.urlsafe_b64encode(json.dumps(part).encode()).rstrip(b"=").decode()

    return f"{b64(header)}.{b64(payload)}."


async def test_tampered_unsigned_and_foreign_tokens_are_refused(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    claims = jwt.decode(user["token"], TEST_JWT_SECRET, algorithms=["HS256"])
    head, _, signature = user["token"].split(".")
    tampered_claims = {**claims, "user_type": "owner"}
    tampered_body = base64.urlsafe_b64encode(json.dumps(tampered_claims).encode()).rstrip(b"=").decode()
    tokens = {
        "tampered": f"{head}.{tampered_body}.{signature}",
        "alg none": _forge(claims, {"alg": "none", "typ": "JWT"}),
        "other secret": jwt.encode(claims, "some-other-secret-of-sufficient-length!!", algorithm="HS256"),
        "garbage": "not-a-jwt",
        "no exp": jwt.encode(
            {k: v for k, v in claims.items() if k != "exp"}, TEST_JWT_SECRET, algorithm="HS256"
        ),
    }
    for name, token in tokens.items():
        response = await client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert response.status == 401, name
        assert "detail" in await response.json()


async def test_expired_token_is_refused(client: TestClient[Any, Any], clock: AdjustableClock) -> None:
    user = await register(client)
    clock.advance(timedelta(hours=25))
    response = await client.get("/api/auth/me", headers=user["headers"])
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "token_expired"


async def test_missing_token_is_401(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/auth/me")
    assert response.status == 401
    assert (await response.json())["detail"] == "Not authenticated"


async def test_logout_revokes_that_token_only(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    second = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    other_headers = {"Authorization": f"Bearer {(await second.json())['token']}"}

    response = await client.post("/api/auth/logout", headers=user["headers"])
    assert response.status == 200
    assert (await response.json()) == {"message": "Logged out successfully"}
    assert (await client.get("/api/auth/me", headers=user["headers"])).status == 401
    assert (await client.get("/api/auth/me", headers=other_headers)).status == 200


async def test_change_password_invalidates_every_earlier_token(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    second = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    second_headers = {"Authorization": f"Bearer {(await second.json())['token']}"}

    wrong = await client.post(
        "/api/auth/change-password",
        headers=user["headers"],
        json={"old_password": "wrong-password", "new_password": "a-new-password"},
    )
    assert wrong.status == 400

    changed = await client.post(
        "/api/auth/change-password",
        headers=user["headers"],
        json={"old_password": PASSWORD, "new_password": "a-new-password"},
    )
    assert changed.status == 200
    new_headers = {"Authorization": f"Bearer {(await changed.json())['token']}"}
    assert (await client.get("/api/auth/me", headers=user["headers"])).status == 401
    assert (await client.get("/api/auth/me", headers=second_headers)).status == 401
    assert (await client.get("/api/auth/me", headers=new_headers)).status == 200

    old_login = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert old_login.status == 401
    new_login = await client.post(
        "/api/auth/login", json={"email": user["email"], "password": "a-new-password"}
    )
    assert new_login.status == 200


async def test_login_is_rate_limited_per_account(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    user = await register(client)
    for _ in range(5):
        response = await client.post(
            "/api/auth/login", json={"email": user["email"], "password": "wrong-pass"}
        )
        assert response.status == 401
    limited = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert limited.status == 429
    assert int(limited.headers["Retry-After"]) > 0
    assert "Too many login attempts" in (await limited.json())["detail"]

    clock.advance(timedelta(minutes=6))
    assert (
        await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    ).status == 200


async def test_inactive_user_gets_403(client: TestClient[Any, Any]) -> None:
    from documents.user import User

    user = await register(client)
    await collection_of(User).update_one({"_id": user["user_id"]}, {"$set": {"is_active": False}})
    assert (await client.get("/api/auth/me", headers=user["headers"])).status == 403
    login = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert login.status == 403
    assert (await login.json())["detail"] == "User account is inactive"


async def test_tokens_follow_the_server_clock(client: TestClient[Any, Any], clock: AdjustableClock) -> None:
    # A login after the clock moved forward must work: token times are judged by the server's clock.
    user = await register(client)
    clock.advance(timedelta(days=40))
    login = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
    assert login.status == 200
    headers = {"Authorization": f"Bearer {(await login.json())['token']}"}
    assert (await client.get("/api/auth/me", headers=headers)).status == 200
