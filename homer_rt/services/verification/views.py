"""What the verification routes answer: typed views of the spec's JSON.

Submitted documents are shown as stored: each the upload's metadata (``StoredFileView``) when it was
submitted, kept free-form here because a record keeps whatever shape it was stored in.
"""

from __future__ import annotations

from typing import Any, Literal, NotRequired

from typing_extensions import TypedDict

from documents.property import VerificationTierName
from documents.stored_file import StoredFileView

VerificationKind = Literal["renter", "owner", "property"]
VerificationStatusName = Literal["none", "pending", "verified", "rejected"]


class UploadedDocumentView(StoredFileView):
    document_type: str


class UploadedDocumentResponse(TypedDict):
    """Step 1: the document is stored privately; its ``file_url`` goes into a submission."""

    success: Literal[True]
    data: UploadedDocumentView


class SubmissionResponse(TypedDict):
    """A renter's, owner's or listing's request is waiting for an admin."""

    success: Literal[True]
    message: str
    verification_id: str
    status: Literal["pending"]


class UserVerificationRecord(TypedDict):
    documents: dict[str, Any] | None
    submitted_at: str | None
    reviewed_at: str | None
    rejection_reason: str | None
    employment_details: NotRequired[dict[str, Any] | None]  # renters only


class UserVerificationStatus(TypedDict):
    """``type=renter`` or ``owner``: ``verification`` is null until something was submitted."""

    status: VerificationStatusName
    is_verified: bool
    verification: UserVerificationRecord | None


class PropertyVerificationRecord(TypedDict):
    documents: dict[str, Any] | None
    submitted_at: str | None
    reviewed_at: str | None
    rejection_reason: str | None
    verification_date: str | None


class PropertyVerificationStatus(TypedDict):
    """``type=property``: ``verification`` is null until documents were submitted."""

    status: VerificationStatusName
    is_verified: bool
    property_id: str
    verification_tier: VerificationTierName
    verification_fee_paid: bool
    verification: PropertyVerificationRecord | None


VerificationStatusResponse = UserVerificationStatus | PropertyVerificationStatus


class PendingRenterVerification(TypedDict):
    verification_id: str
    verification_type: Literal["renter"]
    user_id: str
    user_name: str | None
    user_email: str
    documents: dict[str, Any] | None
    employment_details: dict[str, Any] | None
    submitted_at: str | None
    status: Literal["pending"]


class PendingOwnerVerification(TypedDict):
    verification_id: str
    verification_type: Literal["owner"]
    user_id: str
    user_name: str | None
    user_email: str
    documents: dict[str, Any] | None
    submitted_at: str | None
    status: Literal["pending"]


class PendingPropertyVerification(TypedDict):
    verification_id: str
    verification_type: Literal["property"]
    property_id: str
    property_title: str
    owner_id: str
    owner_name: str | None
    owner_email: str | None
    documents: dict[str, Any] | None
    payment_status: Literal["success", "pending"]
    submitted_at: str | None
    status: Literal["pending"]


PendingVerification = PendingRenterVerification | PendingOwnerVerification | PendingPropertyVerification


class VerificationDecisionResponse(TypedDict):
    success: Literal[True]
    message: str
    verification_id: str
    verification_type: VerificationKind
    status: Literal["verified", "rejected"]
    reason: str | None
