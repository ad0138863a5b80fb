"""What tests build their worlds from: settings, users, listings, chats and transactions.

Every factory takes keyword arguments whose defaults make a valid, ordinary thing, so a test names only what
it is about. Users, listings created over HTTP and chats go through the API as a client would (``register``,
``make_admin``, ``create_listing``, ``make_chat``); ``make_property`` and ``make_transaction`` store a
document directly, for tests about something else (payments, admin lists) that need one in place.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.property import BHKType, Location, Property, PropertyType, VerificationTier
from documents.transaction import PaymentStatus, Transaction, TransactionType
from documents.user import User
from homer_rt.appkeys import CLOCK, USERS
from homer_rt.settings import Settings

TEST_JWT_SECRET = "test-secret-that-is-long-enough-for-hs256-0123456789"
PASSWORD = "correct-horse-battery"

# pytest-aiohttp's ``aiohttp_client`` fixture: an app (or server) in, a started TestClient out.
ClientFactory = Callable[..., Awaitable[TestClient[Any, Any]]]

_numbers = itertools.count(1)


# ---------------------------------------------------------------------------------------------- settings


def make_settings(tmp_path: Path, **overrides: Any) -> Settings:
    """Settings for a test app: fast hashing, uploads under ``tmp_path``, short socket pings, and no
    registration limits (every test registers from 127.0.0.1; the tests of those limits set their own)."""
    values: dict[str, Any] = {
        "app_env": "test",
        "jwt_secret": TEST_JWT_SECRET,
        "bcrypt_rounds": 4,
        "upload_dir": tmp_path / "uploads",
        "socketio_ping_interval": 1,
        "socketio_ping_timeout": 2,
        "cors_origins": ["http://localhost:3000"],
        "registrations_per_address_per_hour": 100_000,
        "registrations_per_minute": 100_000,
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


# ---------------------------------------------------------------------------------------------- users


def unique_identity() -> tuple[str, str]:
    """An email and a phone number no other user of this test run has."""
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
    """Register a fresh user; returns the spec's response plus ``headers`` for authenticated calls and the
    ``email`` and ``phone`` it registered with."""
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
    """An admin created through the same service `homer-rt create-admin` and ADMIN_* use, logged in: the
    login response plus ``headers``."""
    email, phone = unique_identity()
    await client.app[USERS].ensure_admin(email=email, phone=phone, password=PASSWORD)
    response = await client.post("/api/auth/login", json={"email": email, "password": PASSWORD})
    assert response.status == 200, await response.text()
    data: dict[str, Any] = await response.json()
    data["headers"] = {"Authorization": f"Bearer {data['token']}"}
    return data


async def make_premium(client: TestClient[Any, Any], user_id: str, *, days: int = 90) -> None:
    """Premium from now for ``days`` (stored directly, as a paid subscription would leave it)."""
    now = client.app[CLOCK].now()
    await collection_of(User).update_one(
        {"_id": user_id},
        {
            "$set": {
                "subscription_tier": "premium",
                "subscription_start": now,
                "subscription_end": now + timedelta(days=days),
            }
        },
    )


# ---------------------------------------------------------------------------------------------- listings


def listing_body(**overrides: Any) -> dict[str, Any]:
    """A valid body for ``POST /api/properties/create``; ``location`` and ``details`` overrides are merged
    into the defaults, anything else replaces its field."""
    body: dict[str, Any] = {
        "title": "Sunny 2BHK near the metro",
        "description": "Second floor, good light",
        "property_type": "apartment",
        "bhk_type": "2BHK",
        "rent": 25000,
        "security_deposit": 100000,
        "maintenance_charges": 2500,
        "location": {
            "address": "12, 3rd Cross, Koramangala",
            "city": "Bengaluru",
            "state": "Karnataka",
            "pincode": "560034",
            "latitude": 12.9352,
            "longitude": 77.6245,
            "locality": "Koramangala",
            "landmarks": ["Forum Mall"],
        },
        "details": {
            "carpet_area": 1050,
            "furnishing": "semi-furnished",
            "bathrooms": 2,
            "amenities": ["lift", "power_backup"],
            "available_from": "2026-12-01",
        },
    }
    for key, value in overrides.items():
        if key in ("location", "details") and isinstance(value, dict):
            body[key] = {**body[key], **value}
        else:
            body[key] = value
    return body


async def create_listing(
    client: TestClient[Any, Any], owner: dict[str, Any], **overrides: Any
) -> dict[str, Any]:
    """A listing ``owner`` (a ``register`` result) creates over HTTP from ``listing_body(**overrides)``: the
    response's ``property``."""
    response = await client.post(
        "/api/properties/create", json=listing_body(**overrides), headers=owner["headers"]
    )
    assert response.status == 200, await response.text()
    data: dict[str, Any] = await response.json()
    listing: dict[str, Any] = data["property"]
    return listing


async def make_property(
    *,
    owner_id: str,
    title: str = "Sunny 2BHK",
    city: str = "Bengaluru",
    locality: str = "Indiranagar",
    rent_paise: int = 2_500_000,
    verification_tier: VerificationTier = VerificationTier.FREE,
    created_at: datetime | None = None,
    **fields: Any,
) -> Property:
    """A listing of ``owner_id``'s stored directly (no listing quota taken, no validation of the create
    route): for tests about what happens to or around a listing. ``fields`` sets any other Property field
    (``status``, ``images``, ``location``...)."""
    values: dict[str, Any] = {
        "owner_id": owner_id,
        "title": title,
        "property_type": PropertyType.APARTMENT,
        "bhk_type": BHKType.TWO_BHK,
        "rent_paise": rent_paise,
        "location": Location(address="12 MG Road", city=city, locality=locality),
        "verification_tier": verification_tier,
        "created_at": created_at or datetime.now(UTC),
    }
    values.update(fields)
    prop = Property(**values)
    await prop.insert()
    return prop


# ---------------------------------------------------------------------------------------------- chats

# make_chat's listing has images, so a chat list row shows one.
LISTING_IMAGES = ["/uploads/properties/p/first.jpg", "/uploads/properties/p/second.jpg"]


async def make_chat(
    client: TestClient[Any, Any], *, text: str = "Hello, is it available?"
) -> tuple[dict[str, Any], dict[str, Any], Property, str]:
    """(renter, owner, property, chat_id): a fresh renter initiated a chat with ``text`` about a fresh
    owner's listing."""
    owner = await register(client, user_type="owner", full_name="Olivia Owner")
    renter = await register(client, user_type="renter", full_name="Ravi Renter")
    prop = await make_property(owner_id=owner["user"]["user_id"], images=LISTING_IMAGES)
    response = await client.post(
        "/api/chats/initiate",
        json={"property_id": prop.id, "initial_message": text},
        headers=renter["headers"],
    )
    assert response.status == 200, await response.text()
    chat_id: str = (await response.json())["chat_id"]
    return renter, owner, prop, chat_id


# ---------------------------------------------------------------------------------------------- payments


async def make_transaction(
    *,
    user_id: str,
    transaction_type: TransactionType = TransactionType.RENTER_SUBSCRIPTION,
    amount_paise: int = 75_000,
    payment_status: PaymentStatus = PaymentStatus.PENDING,
    order_id: str | None = None,
    created_at: datetime | None = None,
    **fields: Any,
) -> Transaction:
    """A payment order of ``user_id``'s stored directly, as if the server had created it (``order_id`` is
    unique unless given; ``updated_at`` is ``created_at`` unless given). ``fields`` sets any other
    Transaction field."""
    at = created_at or datetime.now(UTC)
    values: dict[str, Any] = {
        "user_id": user_id,
        "transaction_type": transaction_type,
        "amount_paise": amount_paise,
        "order_id": order_id or f"order_test_{next(_numbers)}",
        "payment_status": payment_status,
        "created_at": at,
        "updated_at": at,
    }
    values.update(fields)
    transaction = Transaction(**values)
    await transaction.insert()
    return transaction
