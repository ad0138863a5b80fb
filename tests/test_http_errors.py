"""No request, however malformed, gets a 500: every failure is JSON with a ``detail``."""

from __future__ import annotations

import io
from typing import Any

from aiohttp.test_utils import TestClient

from tests.factories import register


async def test_malformed_json_is_400(client: TestClient[Any, Any]) -> None:
    for raw in (b"{not json", b"\xff\xfe\x00", b'{"email": '):
        response = await client.post(
            "/api/auth/register", data=raw, headers={"Content-Type": "application/json"}
        )
        assert response.status == 400
        assert (await response.json())["detail"] == "Request body is not valid JSON"


async def test_wrong_types_and_missing_fields_are_422_naming_the_fields(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/api/auth/register", json={"email": 5, "password": ["x"], "user_type": "landlord"}
    )
    assert response.status == 422
    body = await response.json()
    assert {f["field"] for f in body["error"]["fields"]} == {"email", "phone", "password", "user_type"}
    assert "phone" in body["detail"]


async def test_json_that_is_not_an_object_is_422(client: TestClient[Any, Any]) -> None:
    response = await client.post("/api/auth/login", json=[1, 2, 3])
    assert response.status == 422


async def test_oversized_body_is_413(client: TestClient[Any, Any]) -> None:
    response = await client.post(
        "/api/auth/register",
        data=io.BytesIO(b"{" + b" " * (2 * 1024 * 1024) + b"}"),
        headers={"Content-Type": "application/json"},
    )
    assert response.status == 413
    assert "detail" in await response.json()


async def test_unknown_route_and_wrong_method_are_json(client: TestClient[Any, Any]) -> None:
    missing = await client.get("/api/nothing-here")
    assert missing.status == 404
    assert (await missing.json())["detail"] == "Not found"
    wrong = await client.delete("/api/auth/login")
    assert wrong.status == 405
    assert "detail" in await wrong.json()


async def test_hostile_values_are_refused_cleanly(client: TestClient[Any, Any]) -> None:
    hostile = [
        {"email": {"$gt": ""}, "password": "whatever1"},
        {"email": "a@b.co" * 1000, "password": "whatever1"},
        {"email": "\u0000@x.io", "password": "\u0000" * 10},
    ]
    for body in hostile:
        response = await client.post("/api/auth/login", json=body)
        assert 400 <= response.status < 500, body
        assert "detail" in await response.json()


async def test_health_reports_the_store(client: TestClient[Any, Any]) -> None:
    response = await client.get("/api/health")
    assert response.status == 200
    body = await response.json()
    assert body["status"] == "ok"
    assert body["store"] == {"ok": True, "embedded": True}
    root = await client.get("/")
    assert await root.json() == {"message": "Homer API is running", "status": "healthy"}


async def test_cors_allows_only_configured_origins(client: TestClient[Any, Any]) -> None:
    allowed = await client.options(
        "/api/auth/login",
        headers={"Origin": "http://localhost:3000", "Access-Control-Request-Method": "POST"},
    )
    assert allowed.status == 204
    assert allowed.headers["Access-Control-Allow-Origin"] == "http://localhost:3000"
    denied = await client.options(
        "/api/auth/login", headers={"Origin": "http://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert denied.status == 403
    user = await register(client)
    simple = await client.get("/api/auth/me", headers={**user["headers"], "Origin": "http://evil.example"})
    assert "Access-Control-Allow-Origin" not in simple.headers
