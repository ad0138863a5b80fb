"""What the admin routes answer: typed views of the JSON the admin console reads, money in rupees."""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import TypedDict

from documents.audit_log import AuditLogView
from documents.chat import ChatReportView
from documents.property import PropertyOwnerView, PropertyStatus
from documents.transaction import TransactionView
from documents.user import AdminUserView, UserType
from homer_rt.services.verification.views import (
    PendingOwnerVerification,
    PendingPropertyVerification,
    PendingRenterVerification,
)


class PageFields(TypedDict):
    """Every admin list is one page of its rows: where it is and whether more follow."""

    total_count: int
    page: int
    limit: int
    has_more: bool


# ---- dashboard -----------------------------------------------------------------------------------------


class UserCounts(TypedDict):
    total: int
    renters: int  # renters and those who are both
    owners: int  # owners and those who are both
    premium: int  # premium now (not lapsed)
    active: int


class ListingCounts(TypedDict):
    total: int  # every listing not deleted
    active: int
    verified: int


class PendingVerificationTotals(TypedDict):
    pending_renters: int
    pending_owners: int
    pending_properties: int
    total_pending: int


class RevenueView(TypedDict):
    """Money kept: successful payments not refunded, in rupees."""

    total: int | float
    currency: Literal["INR"]
    by_type: dict[str, int | float]  # every transaction type, 0 when none


class ReportCounts(TypedDict):
    open: int


class RecentUser(TypedDict):
    user_id: str
    name: str | None
    user_type: UserType
    created_at: str


class RecentListing(TypedDict):
    property_id: str
    title: str
    city: str
    status: PropertyStatus
    created_at: str


class RecentActivity(TypedDict):
    users: list[RecentUser]
    properties: list[RecentListing]


class StatsResponse(TypedDict):
    users: UserCounts
    properties: ListingCounts
    verifications: PendingVerificationTotals
    revenue: RevenueView
    reports: ReportCounts
    recent_activity: RecentActivity


# ---- users ---------------------------------------------------------------------------------------------


class UserPage(PageFields):
    users: list[AdminUserView]


class UserListingCounts(TypedDict):
    total: int
    active: int


class UserDetailView(AdminUserView):
    """One user in full: the admin view, their listings' counts and their latest transactions."""

    listings: UserListingCounts
    recent_transactions: list[TransactionView]


class UserUpdatedResponse(TypedDict):
    message: str
    user: AdminUserView


class UserDeletedResponse(TypedDict):
    message: str
    user_id: str
    listings_removed: int
    files_removed: int


# ---- listings ------------------------------------------------------------------------------------------


class PropertyAdminView(PropertyOwnerView):
    """The owner's view of a listing and its verification file."""

    verification_documents: dict[str, Any] | None  # document name -> its upload URL
    verification_fee_paid: bool
    payment_id: str | None
    verification_submitted_at: str | None
    verification_reviewed_at: str | None
    verification_rejection_reason: str | None


class PropertyPage(PageFields):
    properties: list[PropertyAdminView]


class PropertyChangedResponse(TypedDict):
    """A listing an admin changed or verified, as it now stands."""

    message: str
    property: PropertyAdminView


class PropertyDeletedResponse(TypedDict):
    message: str
    property_id: str


# ---- verifications -------------------------------------------------------------------------------------


class PendingVerificationsResponse(TypedDict):
    """One page of each kind of request waiting for a decision, and how many wait in all."""

    pending_renter_verifications: list[PendingRenterVerification]
    pending_owner_verifications: list[PendingOwnerVerification]
    pending_property_verifications: list[PendingPropertyVerification]
    total_pending: int


# ---- transactions --------------------------------------------------------------------------------------


class TransactionPage(PageFields):
    transactions: list[TransactionView]


class RefundResponse(TypedDict):
    message: str
    transaction: TransactionView


# ---- chat reports --------------------------------------------------------------------------------------


class ReportAdminView(ChatReportView):
    """A report with the names of who reported and who was reported."""

    reporter_name: str | None
    reported_user_name: str | None


class ReportPage(PageFields):
    reports: list[ReportAdminView]


class ReportResolvedResponse(TypedDict):
    message: str
    report: ChatReportView


# ---- audit log -----------------------------------------------------------------------------------------


class AuditLogPage(PageFields):
    logs: list[AuditLogView]
