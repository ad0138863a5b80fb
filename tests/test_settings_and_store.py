"""Settings: safe defaults, and unsafe production configs refused; the embedded store survives a restart
through its file."""

from __future__ import annotations

import logging
import secrets
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient, TestServer
from pydantic import ValidationError

from homer_rt.app import create_app
from homer_rt.clock import AdjustableClock
from homer_rt.security import TokenCodec
from homer_rt.settings import Settings, weak_secret_reason
from tests.factories import PASSWORD, TEST_JWT_SECRET, make_admin, make_settings, register

# Random-looking: what `openssl rand -base64 30` gives. (TEST_JWT_SECRET says "secret": fine for tests only.)
PRODUCTION_JWT_SECRET = "q7Vt0xPz3LmA9sKd2RfW8nYb5HcJ4eGu1ZiTo6Qv"
# The default every install had before: published in the source, so anyone could sign an admin's token.
OLD_PUBLIC_JWT_SECRET = "your-jwt-secret-here-change-in-production"
PRODUCTION: dict[str, Any] = {"_env_file": None, "app_env": "production", "mongodb_url": "mongodb://db:27017"}


@pytest.fixture
def clean_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read the process environment: a developer's own JWT_SECRET or HOST must not leak in."""
    for name in ("JWT_SECRET", "HOST", "APP_ENV", "CORS_ORIGINS", "MONGODB_URL"):
        monkeypatch.delenv(name, raising=False)


def test_production_refuses_a_missing_or_weak_secret_and_missing_mongodb(clean_environment: None) -> None:
    with pytest.raises(ValidationError, match="JWT_SECRET must be set"):
        Settings(**PRODUCTION)
    weak = {
        OLD_PUBLIC_JWT_SECRET: "placeholder word 'secret'",
        "short": "shorter than 32",
        "changeme" * 4: "placeholder word 'changeme'",
        "Change-Me-" * 4: "placeholder word 'changeme'",
        TEST_JWT_SECRET: "placeholder word 'secret'",
        "x" * 64: "repeats a sequence of 1",
        "h0mer!" * 8: "repeats a sequence of 6",
        "0123456789" * 4: "repeats a sequence of 10",
        "a" * 40 + "bcdefgh": "bits, under 64",
    }
    for secret, reason in weak.items():
        with pytest.raises(ValidationError, match=f"JWT_SECRET is too weak: it.*{reason}"):
            Settings(**PRODUCTION, jwt_secret=secret)
    with pytest.raises(ValidationError, match="MONGODB_URL"):
        Settings(_env_file=None, app_env="production", jwt_secret=PRODUCTION_JWT_SECRET)
    ok = Settings(**PRODUCTION, jwt_secret=PRODUCTION_JWT_SECRET)
    assert not ok.uses_embedded_store
    assert ok.jwt_secret == PRODUCTION_JWT_SECRET and not ok.jwt_secret_generated
    # What the error message recommends passes: 32 random bytes as hex, or as URL-safe text.
    for _ in range(200):
        Settings(**PRODUCTION, jwt_secret=secrets.token_hex(32))
        Settings(**PRODUCTION, jwt_secret=secrets.token_hex(16))
        Settings(**PRODUCTION, jwt_secret=secrets.token_urlsafe(32))


def test_production_refuses_null_or_wildcard_cors_origins(clean_environment: None) -> None:
    for origins in (["https://homer.in", "null"], ["*"], "https://homer.in,null"):
        with pytest.raises(ValidationError, match="CORS_ORIGINS must list real origins"):
            Settings(**PRODUCTION, jwt_secret=PRODUCTION_JWT_SECRET, cors_origins=origins)
    ok = Settings(**PRODUCTION, jwt_secret=PRODUCTION_JWT_SECRET, cors_origins="https://homer.in")
    assert ok.cors_origins == ["https://homer.in"]


def test_default_settings_listen_on_loopback_with_a_secret_of_their_own(
    clean_environment: None, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    first = Settings(_env_file=None)
    second = Settings(_env_file=None)
    assert first.host == "127.0.0.1"
    assert first.app_env == "development"
    assert first.jwt_secret_generated and second.jwt_secret_generated
    assert first.jwt_secret != second.jwt_secret
    assert weak_secret_reason(first.jwt_secret) is None
    # A copy is the same process's settings: it keeps the secret, never makes another.
    assert first.model_copy(update={"port": 9000}).jwt_secret == first.jwt_secret

    with caplog.at_level(logging.WARNING, logger="homer_rt.app"):
        create_app(first.model_copy(update={"upload_dir": tmp_path / "uploads"}))
    warnings = [r.getMessage() for r in caplog.records if r.name == "homer_rt.app"]
    assert any("JWT_SECRET is not set" in message and "restart" in message for message in warnings)

    caplog.clear()
    explicit = make_settings(tmp_path)
    assert explicit.jwt_secret == TEST_JWT_SECRET and not explicit.jwt_secret_generated
    with caplog.at_level(logging.WARNING, logger="homer_rt.app"):
        create_app(explicit)
    assert not [r for r in caplog.records if "JWT_SECRET" in r.getMessage()]


async def test_a_token_forged_with_the_old_public_secret_is_refused(
    clean_environment: None, tmp_path: Path, aiohttp_client: Any
) -> None:
    clock = AdjustableClock()
    settings = Settings(_env_file=None, upload_dir=tmp_path / "uploads", bcrypt_rounds=4)
    client: TestClient[Any, Any] = await aiohttp_client(create_app(settings, clock=clock))
    admin = await make_admin(client)
    assert (await client.get("/api/admin/stats", headers=admin["headers"])).status == 200

    # The attacker knows the admin's id and signs every claim a real token has, with the old default.
    real = TokenCodec(secret=settings.jwt_secret, algorithm="HS256", expiry=timedelta(hours=1))
    claims = real.decode(admin["token"], now=clock.now())
    attacker = TokenCodec(secret=OLD_PUBLIC_JWT_SECRET, algorithm="HS256", expiry=timedelta(hours=1))
    forged = attacker.issue(
        user_id=claims.user_id,
        user_type=claims.user_type,
        token_version=claims.token_version,
        now=clock.now(),
    )
    response = await client.get("/api/admin/stats", headers={"Authorization": f"Bearer {forged}"})
    assert response.status == 401
    assert (await response.json())["error"]["code"] == "invalid_token"


def test_settings_read_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PORT", "9100")
    monkeypatch.setenv("CORS_ORIGINS", "https://homer.in, https://admin.homer.in")
    monkeypatch.setenv("S3_BUCKET", "homer-files")
    settings = Settings(_env_file=None)
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


def test_raw_collections_are_reached_through_one_helper() -> None:
    """The move from motor to PyMongo's async API must stay one change (README, Dependencies)."""
    repo = Path(__file__).resolve().parent.parent
    sources = [
        path
        for package in ("homer_rt", "handlers", "documents", "storage")
        for path in (repo / package).rglob("*.py")
    ]
    naming_motor = [
        str(path.relative_to(repo))
        for path in sources
        if "get_motor_collection" in path.read_text() and path != repo / "documents" / "base.py"
    ]
    assert naming_motor == []
