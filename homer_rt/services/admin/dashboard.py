"""The dashboard: counts of users, listings, pending verifications and open reports, revenue kept, and
the latest sign-ups and listings."""

from __future__ import annotations

from datetime import datetime

from documents.base import collection_of
from documents.property import Property, PropertyStatus
from documents.transaction import PaymentStatus, Transaction, TransactionType
from documents.user import SubscriptionTier, User, UserType
from homer_rt.clock import Clock, iso
from homer_rt.money import paise_to_rupees
from homer_rt.services.admin.views import (
    ListingCounts,
    PendingVerificationTotals,
    RecentActivity,
    RevenueView,
    StatsResponse,
    UserCounts,
)
from homer_rt.services.admin_feed import open_report_count, pending_verification_counts, total_pending

RECENT_LIMIT = 5
NOT_DELETED = {"$ne": PropertyStatus.DELETED.value}


class AdminDashboard:
    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock

    async def stats(self) -> StatsResponse:
        pending = await pending_verification_counts()
        verifications: PendingVerificationTotals = {
            "pending_renters": pending["pending_renter_verifications"],
            "pending_owners": pending["pending_owner_verifications"],
            "pending_properties": pending["pending_property_verifications"],
            "total_pending": total_pending(pending),
        }
        return {
            "users": await _user_counts(self._clock.now()),
            "properties": await _listing_counts(),
            "verifications": verifications,
            "revenue": await _revenue(),
            "reports": {"open": await open_report_count()},
            "recent_activity": await _recent_activity(),
        }


async def _user_counts(now: datetime) -> UserCounts:
    users = collection_of(User)
    renter_types = [UserType.RENTER.value, UserType.BOTH.value]
    owner_types = [UserType.OWNER.value, UserType.BOTH.value]
    return {
        "total": await users.count_documents({}),
        "renters": await users.count_documents({"user_type": {"$in": renter_types}}),
        "owners": await users.count_documents({"user_type": {"$in": owner_types}}),
        "premium": await users.count_documents(
            {"subscription_tier": SubscriptionTier.PREMIUM.value, "subscription_end": {"$gt": now}}
        ),
        "active": await users.count_documents({"is_active": True}),
    }


async def _listing_counts() -> ListingCounts:
    properties = collection_of(Property)
    return {
        "total": await properties.count_documents({"status": NOT_DELETED}),
        "active": await properties.count_documents({"status": PropertyStatus.ACTIVE.value}),
        "verified": await properties.count_documents({"is_verified": True, "status": NOT_DELETED}),
    }


async def _revenue() -> RevenueView:
    """Money actually kept: successful payments not refunded, summed exactly in paise."""
    by_type = {t.value: 0 for t in TransactionType}
    cursor = collection_of(Transaction).find(
        {"payment_status": PaymentStatus.SUCCESS.value, "refunded_at": None},
        {"transaction_type": 1, "amount_paise": 1},
    )
    async for row in cursor:
        kind = str(row.get("transaction_type"))
        by_type[kind] = by_type.get(kind, 0) + int(row.get("amount_paise") or 0)
    return {
        "total": paise_to_rupees(sum(by_type.values())),
        "currency": "INR",
        "by_type": {kind: paise_to_rupees(paise) for kind, paise in by_type.items()},
    }


async def _recent_activity() -> RecentActivity:
    recent_users = await User.find({}).sort("-created_at").limit(RECENT_LIMIT).to_list()
    recent_properties = (
        await Property.find({"status": NOT_DELETED}).sort("-created_at").limit(RECENT_LIMIT).to_list()
    )
    return {
        "users": [
            {"user_id": u.id, "name": u.full_name, "user_type": u.user_type, "created_at": iso(u.created_at)}
            for u in recent_users
        ],
        "properties": [
            {
                "property_id": p.id,
                "title": p.title,
                "city": p.location.city,
                "status": p.status,
                "created_at": iso(p.created_at),
            }
            for p in recent_properties
        ],
    }
