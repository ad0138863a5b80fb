"""Live counts for the admin dashboard, pushed on /admin so it never has to poll."""

from __future__ import annotations

from typing_extensions import TypedDict

from documents.chat import ChatReport, ReportStatus
from documents.property import Property, VerificationTier
from documents.user import User, VerificationStatus
from homer_rt.realtime import ADMIN_NAMESPACE, ADMINS_ROOM, RealtimeEmitter

PENDING = VerificationStatus.PENDING.value


class PendingCountsView(TypedDict):
    pending_renter_verifications: int
    pending_owner_verifications: int
    pending_property_verifications: int


class AdminCountsView(PendingCountsView):
    """The ``counts`` event on /admin: what waits for an admin."""

    open_reports: int


def total_pending(counts: PendingCountsView) -> int:
    return (
        counts["pending_renter_verifications"]
        + counts["pending_owner_verifications"]
        + counts["pending_property_verifications"]
    )


async def pending_verification_counts() -> PendingCountsView:
    """Pending requests of each kind, from the same fields the verification flow sets."""
    return {
        "pending_renter_verifications": await User.find({"renter_verification_status": PENDING}).count(),
        "pending_owner_verifications": await User.find({"owner_verification_status": PENDING}).count(),
        "pending_property_verifications": await Property.find(
            {"verification_tier": VerificationTier.PENDING.value, "is_verified": False}
        ).count(),
    }


async def open_report_count() -> int:
    return await ChatReport.find({"status": ReportStatus.OPEN.value}).count()


class AdminFeed:
    def __init__(self, *, emitter: RealtimeEmitter) -> None:
        self._emitter = emitter

    async def counts(self) -> AdminCountsView:
        return {**await pending_verification_counts(), "open_reports": await open_report_count()}

    async def publish_counts(self) -> AdminCountsView:
        """Recompute and push to every connected admin; callers await it after the change is stored."""
        counts = await self.counts()
        await self._emitter.to_room(ADMINS_ROOM, "counts", counts, namespace=ADMIN_NAMESPACE)
        return counts

    async def send_counts(self, *, sid: str) -> None:
        await self._emitter.to_room(sid, "counts", await self.counts(), namespace=ADMIN_NAMESPACE)
