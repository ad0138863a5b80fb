"""Typed views the admin console shows but does not own, standing in until their owners' types are merged.

In issue 16 each document's view gets its TypedDict beside the document (documents/user.py, audit_log.py,
property.py) and the verification service types its own answers, each written by the helper who
owns those files, in the same wave as this package. Until those land on main, the names below describe the
same JSON (copied from those branches where they exist, from the documents' ``*_view`` methods otherwise),
and each function is the document's view method typed. Merging replaces this module: every name here
becomes an import of the owner's type, and every function a call of the owner's typed method.
"""

from __future__ import annotations

from typing import Any, Literal, cast

from typing_extensions import TypedDict

from documents.property import BHKType, Property, PropertyStatus, PropertyType, VerificationTier

# ---- documents/property.py: the owner's view of a listing (Property.api_view) ---------------------------


class PropertyOwnerView(TypedDict):
    """The spec's convert_property_to_dict shape with the owner-only analytics; rupees as numbers."""

    property_id: str
    owner_id: str
    title: str
    description: str | None
    property_type: PropertyType
    bhk_type: BHKType
    rent: int | float
    security_deposit: int | float | None
    maintenance_charges: int | float
    # The embedded models' dumps (Location, PropertyDetails, LifestyleData, Analytics), typed with them.
    location: dict[str, Any]
    details: dict[str, Any]
    images: list[str]
    video_url: str | None
    virtual_tour_url: str | None
    is_verified: bool
    verification_tier: VerificationTier
    verification_date: str | None
    lifestyle_data: dict[str, Any] | None
    status: PropertyStatus
    held_by_admin: bool
    created_at: str
    updated_at: str | None
    analytics: dict[str, Any]


def property_owner_view(prop: Property) -> PropertyOwnerView:
    return cast(PropertyOwnerView, prop.api_view())


# ---- homer_rt/services/verification.py: the review queue and decisions ----------------------------------


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


def pending_verification_views(items: list[dict[str, Any]]) -> list[PendingVerification]:
    return cast(list[PendingVerification], items)


class VerificationDecisionResponse(TypedDict):
    success: Literal[True]
    message: str
    verification_id: str
    verification_type: Literal["renter", "owner", "property"]
    status: Literal["verified", "rejected"]
    reason: str | None
