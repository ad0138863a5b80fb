"""The dashboard: counts of users, listings, pending verifications and open reports, revenue kept, and
the latest sign-ups and listings."""

from __future__ import annotations

from typing import Any

from documents.base import collection_of
from documents.property import Property, PropertyStatus
from documents.transaction import PaymentStatus, Transaction, TransactionType
from documents.user import SubscriptionTier, User, UserType
from homer_rt.clock import Clock, iso
from homer_rt.money import paise_to_rupees
from homer_rt.services.admin_feed import open_report_count, pending_verification_counts

RECENT_LIMIT = 5


class AdminDashboard:
    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock

    async def stats(self) -> dict[str, Any]:
        now = self._clock.now()
        users = collection_of(User)
        properties = collection_of(Property)
        renter_types = [UserType.RENTER.value, UserType.BOTH.value]
        owner_types = [UserType.OWNER.value, UserType.BOTH.value]
        pending = await pending_verification_counts()
        revenue = await self._revenue()
        recent_users = await User.find({}).sort("-created_at").limit(RECENT_LIMIT).to_list()
        recent_properties = (
            await Property.find({"status": {"$ne": PropertyStatus.DELETED.value}})
            .sort("-created_at")
            .limit(RECENT_LIMIT)
            .to_list()
        )
        return {
            "users": {
                "total": await users.count_documents({}),
                "renters": await users.count_documents({"user_type": {"$in": renter_types}}),
                "owners": await users.count_documents({"user_type": {"$in": owner_types}}),
                "premium": await users.count_documents(
                    {"subscription_tier": SubscriptionTier.PREMIUM.value, "subscription_end": {"$gt": now}}
                ),
                "active": await users.count_documents({"is_active": True}),
            },
            "properties": {
                "total": await properties.count_documents({"status": {"$ne": PropertyStatus.DELETED.value}}),
                "active": await properties.count_documents({"status": PropertyStatus.ACTIVE.value}),
                "verified": await properties.count_documents(
                    {"is_verified": True, "status": {"$ne": PropertyStatus.DELETED.value}}
                ),
            },
            "verifications": {
                "pending_renters": pending["pending_renter_verifications"],
                "pending_owners": pending["pending_owner_verifications"],
                "pending_properties": pending["pending_property_verifications"],
                "total_pending": sum(pending.values()),
            },
            "revenue": revenue,
            "reports": {"open": await open_report_count()},
            "recent_activity": {
                "users": [
                    {
                        "user_id": u.id,
                        "name": u.full_name,
                        "user_type": u.user_type.value,
                        "created_at": iso(u.created_at),
                    }
                    for u in recent_users
                ],
                "properties": [
                    {
                        "property_id": p.id,
                        "title": p.title,
                        "city": p.location.city,
                        "status": p.status.value,
                        "created_at": iso(p.created_at),
                    }
                    for p in recent_properties
                ],
            },
        }

    async def _revenue(self) -> dict[str, Any]:
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
