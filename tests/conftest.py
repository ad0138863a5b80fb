"""Shared fixtures: a fresh app on its own embedded store per test, and helpers to make users."""

from __future__ import annotations

import itertools
import logging
import os
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as aioredis
from aiohttp import web
from aiohttp.test_utils import TestClient

from homer_rt.app import create_app
from homer_rt.clock import AdjustableClock
from homer_rt.logs import LIBRARY_LOG_FLOORS
from homer_rt.settings import Settings

TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
# The real Redis of the multi-process tests (their own db number; each test uses its own key prefix).
REDIS_URL = os.environ.get("HOMER_TEST_REDIS_URL", "redis://127.0.0.1:6379/7")
PASSWORD = "correct-horse-battery"

_numbers = itertools.count(1)


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "app_env": "test",
        "jwt_secret": TEST_JWT_SECRET,
        "bcrypt_rounds": 4,
        "upload_dir": tmp_path / "uploads",
        "socketio_ping_interval": 1,
        "socketio_ping_timeout": 2,
        "cors_origins": ["http://localhost:3000"],
        # Every test registers its users from 127.0.0.1; tests of the registration limits set their own.
        "registrations_per_address_per_hour": 100_000,
        "registrations_per_minute": 100_000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


@pytest.fixture(autouse=True)
def _logging_left_as_found() -> Iterator[None]:
    """A test that runs the CLI (which configures logging for its process) leaves no handler or level
    behind for the tests after it."""
    root = logging.getLogger()
    handlers = list(root.handlers)
    levels = {name: logging.getLogger(name).level for name in ["", *LIBRARY_LOG_FLOORS]}
    yield
    for handler in [h for h in root.handlers if h not in handlers]:
        root.removeHandler(handler)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return make_settings(tmp_path)


@pytest.fixture
def clock() -> AdjustableClock:
    return AdjustableClock()


@pytest.fixture
def app(settings: Settings, clock: AdjustableClock) -> web.Application:
    return create_app(settings, clock=clock)


ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]


@pytest.fixture
async def client(aiohttp_client: ClientFactory, app: web.Application) -> TestClient[Any, Any]:
    return await aiohttp_client(app)


def unique_identity() -> tuple[str, str]:
    n = next(_numbers)
    return f"user{n}@example.com", f"+9198{n:08d}"


async def register(
    client: TestClient[Any, Any],
    *,
    user_type: str = "renter",
    full_name: str = "Test User",
    headers: dict[str, str] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Register a fresh user; returns the spec's response plus ``headers`` for authenticated calls."""
    email, phone = unique_identity()
    body = {
        "email": email,
        "phone": phone,
        "password": PASSWORD,
        "user_type": user_type,
        "full_name": full_name,
    }
    body.update(extra)
    response = await client.post("/api/auth/register", json=body, headers=headers or {})
    assert response.status == 200, await response.text()
    data: dict[str, Any] = await response.json()
    data["headers"] = {"Authorization": f"Bearer {data['token']}"}
    data["email"], data["phone"] = body["email"], body["phone"]
    return data


async def make_admin(client: TestClient[Any, Any]) -> dict[str, Any]:
    """An admin created through the same service `homer-rt create-admin` and ADMIN_* use."""
    from homer_rt.appkeys import USERS

    email, phone = unique_identity()
    await client.app[USERS].ensure_admin(email=email, phone=phone, password=PASSWORD)
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status == 200, await response.text()
    data: dict[str, Any] = await response.json()
    data["headers"] = {"Authorization": f"Bearer {data['token']}"}
    return data


async def _redis_answers() -> bool:
    redis = aioredis.Redis.from_url(REDIS_URL, socket_connect_timeout=1)
    try:
        return bool(await redis.ping())
    except Exception:
        return False
    finally:
        await redis.aclose()


@pytest.fixture
async def redis_available() -> None:
    """Skips a test that needs Redis when none answers, unless HOMER_REQUIRE_REDIS=1 (set by .ci/run) makes
    that a failure."""
    if await _redis_answers():
        return
    reason = f"no Redis answers at {REDIS_URL}"
    if os.environ.get("HOMER_REQUIRE_REDIS") == "1":
        pytest.fail(f"{reason}, and HOMER_REQUIRE_REDIS=1 requires the multi-process tests to run")
    pytest.skip(f"{reason} (start one, or set HOMER_TEST_REDIS_URL)")
