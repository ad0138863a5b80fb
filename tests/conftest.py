"""Fixtures only: a fresh app on its own embedded store per test, its clock and client, and Redis when a test
needs one. What tests build their data with is in tests/factories.py; tests import from there (or from the
*_support modules), never from this file."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
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
from tests.factories import ClientFactory, make_settings
from tests.server_support import REDIS_URL


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


@pytest.fixture
async def client(aiohttp_client: ClientFactory, app: web.Application) -> TestClient[Any, Any]:
    return await aiohttp_client(app)


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
