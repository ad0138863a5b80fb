"""Where requests stand: a user's own status, and the admins' queue of pending requests."""

from __future__ import annotations

from documents.property import Property, VerificationTier
from documents.user import User, VerificationStatus, verification_fields
from homer_rt.clock import iso
from homer_rt.errors import BadRequest
from homer_rt.services.properties.core import owned_listing
from homer_rt.services.verification.core import PENDING, VerificationCore
from homer_rt.services.verification.views import (
    PendingOwnerVerification,
    PendingPropertyVerification,
    PendingRenterVerification,
    PendingVerification,
    PropertyVerificationStatus,
    UserVerificationRecord,
    VerificationStatusName,
    VerificationStatusResponse,
)


class VerificationQueries(VerificationCore):
    # ------------------------------------------------------------------ status

    async def my_status(
        self, *, user: User, type: str, property_id: str | None = None
    ) -> VerificationStatusResponse:
        if type == "property":
            if not property_id:
                raise BadRequest("property_id is required for type=property", code="property_id_required")
            return self._property_status(await owned_listing(property_id=property_id, owner_id=user.id))
        if type not in ("renter", "owner"):
            raise BadRequest("type must be renter, owner or property", code="invalid_verification_type")
        fresh = await User.get(user.id) or user
        fields = verification_fields(type)
        status: VerificationStatus = getattr(fresh, fields["status"])
        verification: UserVerificationRecord | None = None
        if status != VerificationStatus.NONE:
            verification = {
                "documents": getattr(fresh, fields["documents"]),
                "submitted_at": iso(getattr(fresh, fields["submitted_at"])),
                "reviewed_at": iso(getattr(fresh, fields["reviewed_at"])),
                "rejection_reason": getattr(fresh, fields["rejection_reason"]),
            }
            if type == "renter":
                verification["employment_details"] = fresh.employment_info
        return {
            "status": status.value,
            "is_verified": bool(getattr(fresh, fields["is_verified"])),
            "verification": verification,
        }

    def _property_status(self, prop: Property) -> PropertyVerificationStatus:
        status: VerificationStatusName
        if prop.is_verified or prop.verification_tier == VerificationTier.VERIFIED:
            status = VerificationStatus.VERIFIED.value
        elif prop.verification_tier == VerificationTier.PENDING:
            status = PENDING
        elif prop.verification_rejection_reason:
            status = VerificationStatus.REJECTED.value
        else:
            status = VerificationStatus.NONE.value
        submitted = prop.verification_submitted_at is not None
        return {
            "status": status,
            "is_verified": prop.is_verified,
            "property_id": prop.id,
            "verification_tier": prop.verification_tier.value,
            "verification_fee_paid": prop.verification_fee_paid,
            "verification": {
                "documents": prop.verification_documents,
                "submitted_at": iso(prop.verification_submitted_at),
                "reviewed_at": iso(prop.verification_reviewed_at),
                "rejection_reason": prop.verification_rejection_reason,
                "verification_date": iso(prop.verification_date),
            }
            if submitted
            else None,
        }

    # ------------------------------------------------------------------ admin

    async def pending(self, *, page: int, limit: int) -> list[PendingVerification]:
        """Requests waiting for a decision, oldest first within each kind (the spec's shape): one page of
        each kind, so the answer stays bounded however long the queue grows."""
        items: list[PendingVerification] = []
        skip = (page - 1) * limit
        renters = (
            await User.find({"renter_verification_status": PENDING})
            .sort("+renter_verification_submitted_at")
            .skip(skip)
            .limit(limit)
            .to_list()
        )
        for user in renters:
            renter: PendingRenterVerification = {
                "verification_id": f"renter_{user.id}",
                "verification_type": "renter",
                "user_id": user.id,
                "user_name": user.full_name,
                "user_email": user.email,
                "documents": user.renter_verification_documents,
                "employment_details": user.employment_info,
                "submitted_at": iso(user.renter_verification_submitted_at),
                "status": PENDING,
            }
            items.append(renter)
        owners = (
            await User.find({"owner_verification_status": PENDING})
            .sort("+owner_verification_submitted_at")
            .skip(skip)
            .limit(limit)
            .to_list()
        )
        for user in owners:
            owner_request: PendingOwnerVerification = {
                "verification_id": f"owner_{user.id}",
                "verification_type": "owner",
                "user_id": user.id,
                "user_name": user.full_name,
                "user_email": user.email,
                "documents": user.owner_verification_documents,
                "submitted_at": iso(user.owner_verification_submitted_at),
                "status": PENDING,
            }
            items.append(owner_request)
        properties = (
            await Property.find({"verification_tier": VerificationTier.PENDING.value})
            .sort("+verification_submitted_at")
            .skip(skip)
            .limit(limit)
            .to_list()
        )
        owner_ids = list({prop.owner_id for prop in properties})
        owners_by_id = {u.id: u for u in await User.find({"_id": {"$in": owner_ids}}).to_list()}
        for prop in properties:
            owner = owners_by_id.get(prop.owner_id)
            listing: PendingPropertyVerification = {
                "verification_id": f"property_{prop.id}",
                "verification_type": "property",
                "property_id": prop.id,
                "property_title": prop.title,
                "owner_id": prop.owner_id,
                "owner_name": owner.full_name if owner else None,
                "owner_email": owner.email if owner else None,
                "documents": prop.verification_documents,
                "payment_status": "success" if prop.verification_fee_paid else "pending",
                "submitted_at": iso(prop.verification_submitted_at),
                "status": PENDING,
            }
            items.append(listing)
        return items
