"""Settings refuse unsafe production configs; the embedded store survives a restart through its file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import ValidationError

from homer_rt.app import create_app
from homer_rt.clock import AdjustableClock
from homer_rt.settings import Settings
from tests.conftest import PASSWORD, TEST_JWT_SECRET, make_settings, register


def test_production_refuses_default_or_short_secret_and_missing_mongodb() -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(_env_file=None, app_env="production", mongodb_url="mongodb://db:27017")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="JWT_SECRET"):
        Settings(  # type: ignore[call-arg]
            _env_file=None, app_env="production", jwt_secret="short", mongodb_url="mongodb://db:27017"
        )
    with pytest.raises(ValidationError, match="MONGODB_URL"):
        Settings(_env_file=None, app_env="production", jwt_secret=TEST_JWT_SECRET)  # type: ignore[call-arg]
    ok = Settings(  # type: ignore[call-arg]
        _env_file=None, app_env="production", jwt_secret=TEST_JWT_SECRET, mongodb_url="mongodb://db:27017"
    )
    assert not ok.uses_embedded_store


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9100")
    monkeypatch.setenv("CORS_ORIGINS", "https://homer.in, https://admin.homer.in")
    monkeypatch.setenv("S3_BUCKET", "homer-files")
    settings = Settings(_env_file=None)  # type: ignore[call-arg]
    assert settings.port == 9100
    assert settings.cors_origins == ["https://homer.in", "https://admin.homer.in"]
    assert settings.bucket == "homer-files"


async def test_embedded_data_file_survives_a_restart(tmp_path: Path) -> None:
    data_file = tmp_path / "store" / "homer.json"
    settings = make_settings(tmp_path, embedded_data_file=data_file, embedded_save_interval_seconds=60)

    async with TestClient(TestServer(create_app(settings, clock=AdjustableClock()))) as client:
        user = await register(client, full_name="Persisted Person")
    # Leaving the block is a clean shutdown, which writes the file (the periodic save has not run yet).
    assert data_file.exists()
    assert not list(data_file.parent.glob(".homer.json.*")), "temp files must be renamed or removed"

    async with TestClient(TestServer(create_app(settings, clock=AdjustableClock()))) as client:
        login = await client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
        assert login.status == 200
        assert (await login.json())["user"]["full_name"] == "Persisted Person"
        # The unique indexes are rebuilt over the loaded data.
        duplicate = await client.post(
            "/api/auth/register",
            json={"email": user["email"], "phone": "+919000000001", "password": PASSWORD},
        )
        assert duplicate.status == 409


async def test_embedded_store_is_saved_periodically_after_a_change(
    tmp_path: Path, aiohttp_client: Any
) -> None:
    import asyncio

    data_file = tmp_path / "homer.json"
    settings = make_settings(tmp_path, embedded_data_file=data_file, embedded_save_interval_seconds=0.05)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings, clock=AdjustableClock()))
    user = await register(client)
    for _ in range(100):
        if data_file.exists() and user["user_id"] in data_file.read_text():
            break
        await asyncio.sleep(0.05)
    assert user["user_id"] in data_file.read_text()


async def test_admin_from_environment_exists_at_start(tmp_path: Path, aiohttp_client: Any) -> None:
    settings = make_settings(
        tmp_path, admin_email="Admin@Homer.in", admin_phone="9000000000", admin_password="admin-password-1"
    )
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings, clock=AdjustableClock()))
    login = await client.post(
        "/api/auth/login", json={"email": "admin@homer.in", "password": "admin-password-1"}
    )
    assert login.status == 200
    assert (await login.json())["user"]["is_admin"] is True
