"""The admin dashboard's figures, checked against a data set whose every number is known."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.chat import ChatReport, ReportStatus
from documents.property import Property, PropertyStatus, VerificationTier
from documents.transaction import PaymentStatus, TransactionType
from documents.user import User
from tests.admin_support import assert_no_secrets, pay_subscription
from tests.factories import make_admin, make_property, make_transaction, register


async def test_stats_refuses_anonymous_and_non_admins(client: TestClient[Any, Any]) -> None:
    user = await register(client)
    assert (await client.get("/api/admin/stats")).status == 401
    assert (await client.get("/api/admin/stats", headers=user["headers"])).status == 403


async def test_stats_report_real_figures(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)  # a renter-type admin: counted among users and renters
    premium = await register(client, full_name="Paying Renter")
    expired = await register(client, full_name="Lapsed Renter")
    owner = await register(client, user_type="owner", full_name="Owner One")
    both = await register(client, user_type="both", full_name="Both Ways")

    await pay_subscription(client, premium)  # a successful 750 subscription through the payments API
    await collection_of(User).update_one(
        {"_id": expired["user_id"]},
        {
            "$set": {
                "subscription_tier": "premium",
                "subscription_end": datetime.now(UTC) - timedelta(days=1),
                "renter_verification_status": "pending",
            }
        },
    )
    await collection_of(User).update_one(
        {"_id": owner["user_id"]}, {"$set": {"owner_verification_status": "pending"}}
    )

    start = datetime.now(UTC) - timedelta(hours=1)
    verified = await make_property(owner_id=owner["user_id"], title="Verified flat", created_at=start)
    await collection_of(Property).update_one(
        {"_id": verified.id}, {"$set": {"is_verified": True, "verification_tier": "verified"}}
    )
    await make_property(
        owner_id=owner["user_id"],
        title="Waiting flat",
        verification_tier=VerificationTier.PENDING,
        created_at=start + timedelta(minutes=1),
    )
    inactive = await make_property(
        owner_id=both["user_id"], title="Paused flat", created_at=start + timedelta(minutes=2)
    )
    gone = await make_property(
        owner_id=both["user_id"], title="Removed flat", created_at=start + timedelta(minutes=3)
    )
    await collection_of(Property).update_one(
        {"_id": inactive.id}, {"$set": {"status": PropertyStatus.INACTIVE.value}}
    )
    await collection_of(Property).update_one(
        {"_id": gone.id}, {"$set": {"status": PropertyStatus.DELETED.value}}
    )

    sub, fee = TransactionType.RENTER_SUBSCRIPTION, TransactionType.PROPERTY_VERIFICATION
    for user, kind, paise, status in (
        (both, sub, 19_999, PaymentStatus.SUCCESS),  # ₹199.99, exact
        (owner, fee, 200_000, PaymentStatus.SUCCESS),  # ₹2000
        (owner, fee, 200_000, PaymentStatus.REFUNDED),
        (both, sub, 75_000, PaymentStatus.FAILED),
        (both, sub, 75_000, PaymentStatus.PENDING),
    ):
        refunded_at = datetime.now(UTC) if status is PaymentStatus.REFUNDED else None
        await make_transaction(
            user_id=user["user_id"],
            transaction_type=kind,
            amount_paise=paise,
            payment_status=status,
            is_mock=True,
            refunded_at=refunded_at,
        )

    now = datetime.now(UTC)
    await ChatReport(chat_id="c1", reporter_id=premium["user_id"], reported_user_id=owner["user_id"],
                     reason="spam", created_at=now).insert()  # fmt: skip
    await ChatReport(chat_id="c2", reporter_id=premium["user_id"], reported_user_id=owner["user_id"],
                     reason="old", status=ReportStatus.RESOLVED, created_at=now).insert()  # fmt: skip

    response = await client.get("/api/admin/stats", headers=admin["headers"])
    assert response.status == 200, await response.text()
    stats = await response.json()
    assert stats["users"] == {"total": 5, "renters": 4, "owners": 2, "premium": 1, "active": 5}
    assert stats["properties"] == {"total": 3, "active": 2, "verified": 1}
    assert stats["verifications"] == {
        "pending_renters": 1,
        "pending_owners": 1,
        "pending_properties": 1,
        "total_pending": 3,
    }
    assert stats["revenue"] == {
        "total": 2949.99,
        "currency": "INR",
        "by_type": {"renter_subscription": 949.99, "property_verification": 2000},
    }
    assert stats["reports"] == {"open": 1}

    recent_users = stats["recent_activity"]["users"]
    assert len(recent_users) == 5
    assert {u["name"] for u in recent_users} >= {"Paying Renter", "Owner One", "Both Ways"}
    assert set(recent_users[0]) == {"user_id", "name", "user_type", "created_at"}
    recent_titles = [p["title"] for p in stats["recent_activity"]["properties"]]
    # Newest first, and a deleted listing is not "recent activity".
    assert recent_titles == ["Paused flat", "Waiting flat", "Verified flat"]
    assert_no_secrets(stats)
    for row in recent_users:
        assert "email" not in row and "phone" not in row


async def test_stats_revenue_drops_when_a_payment_is_refunded(client: TestClient[Any, Any]) -> None:
    admin = await make_admin(client)
    renter = await register(client)
    transaction_id = await pay_subscription(client, renter)
    before = await (await client.get("/api/admin/stats", headers=admin["headers"])).json()
    assert before["revenue"]["total"] == 750 and before["users"]["premium"] == 1
    refund = await client.post(f"/api/admin/transactions/{transaction_id}/refund", headers=admin["headers"])
    assert refund.status == 200, await refund.text()
    after = await (await client.get("/api/admin/stats", headers=admin["headers"])).json()
    assert after["revenue"]["total"] == 0
    assert after["users"]["premium"] == 0
