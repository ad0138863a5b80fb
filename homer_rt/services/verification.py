"""Verification: renters, owners and properties submit documents they uploaded; admins decide.

Every state change is one atomic update guarded on the state it leaves, so a request is decided once:
a second approve or reject finds it no longer pending and gets a 409. The admin routes here and the
/api/admin/verifications routes call the same approve/reject, so a decision has one code path.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

import aiohttp
from pymongo import ReturnDocument

from documents.base import collection_of
from documents.property import Property, PropertyStatus, VerificationTier
from documents.stored_file import StoredFile
from documents.user import User, VerificationStatus
from homer_rt.clock import Clock, iso
from homer_rt.errors import BadRequest, Conflict, Forbidden, NotFound
from homer_rt.services.admin_feed import AdminFeed
from homer_rt.services.audit import AdminActor, AuditLog, Outcome
from homer_rt.services.notifications import NotificationService
from homer_rt.services.payments import PaymentService
from homer_rt.services.uploads import VERIFICATION_AREA, UploadService
from homer_rt.services.verification_grants import grant_owner_verification

log = logging.getLogger(__name__)

VERIFICATION_TYPES = ("renter", "owner", "property")
PENDING = VerificationStatus.PENDING.value
# A request may be (re)submitted from these states: never while one waits for a decision or once verified.
_SUBMITTABLE = [VerificationStatus.NONE.value, VerificationStatus.REJECTED.value]


def parse_verification_id(verification_id: str) -> tuple[str, str]:
    """``renter_<id>``, ``owner_<id>``, ``property_<id>``: split at the FIRST underscore only."""
    kind, sep, entity_id = verification_id.partition("_")
    if not sep or kind not in VERIFICATION_TYPES or not entity_id:
        raise BadRequest(
            "verification_id must look like renter_<id>, owner_<id> or property_<id>",
            code="invalid_verification_id",
        )
    return kind, entity_id


def _user_fields(kind: str) -> dict[str, str]:
    return {
        "status": f"{kind}_verification_status",
        "documents": f"{kind}_verification_documents",
        "submitted_at": f"{kind}_verification_submitted_at",
        "reviewed_at": f"{kind}_verification_reviewed_at",
        "rejection_reason": f"{kind}_verification_rejection_reason",
        "is_verified": f"is_verified_{kind}",
    }


class VerificationService:
    def __init__(
        self,
        *,
        clock: Clock,
        uploads: UploadService,
        payments: PaymentService,
        notifications: NotificationService,
        audit: AuditLog,
        feed: AdminFeed | None = None,
    ) -> None:
        self._clock = clock
        self._uploads = uploads
        self._payments = payments
        self._notifications = notifications
        self._audit = audit
        self._feed = feed

    # ------------------------------------------------------------------ documents

    async def upload_document(self, *, user_id: str, part: aiohttp.BodyPartReader) -> StoredFile:
        """Stored privately under verification/<user_id>: readable by the uploader and admins only. Removed
        by the cleanup unless a submission references it in time."""
        return await self._uploads.save(
            area=VERIFICATION_AREA,
            owner_segment=user_id,
            uploader_id=user_id,
            part=part,
            kind="document",
            referenced=False,
        )

    async def discard_upload(self, file: StoredFile) -> None:
        await self._uploads.discard(file)

    async def _own_documents(self, *, user_id: str, documents: Mapping[str, str]) -> dict[str, Any]:
        """The submitted document URLs resolved to this user's own verification uploads.

        What is stored comes from our upload records (name, size, type), not from the client's copy. Each
        is marked referenced as it is resolved, before the submission is stored, so the cleanup of unused
        uploads cannot remove a document a submission points at.
        """
        if not documents:
            raise BadRequest("At least one document is required", code="documents_required")
        resolved: dict[str, Any] = {}
        for document_type, url in documents.items():
            stored = await self._uploads.reference(url=url, uploader_id=user_id, area=VERIFICATION_AREA)
            if stored is None:
                raise Forbidden(
                    f"{document_type}: {url} is not a verification document you uploaded",
                    code="document_not_owned",
                )
            resolved[document_type] = stored.api_view()
        return resolved

    # ------------------------------------------------------------------ submissions

    async def submit_renter(
        self, *, user_id: str, documents: Mapping[str, str], employment_details: dict[str, Any]
    ) -> dict[str, Any]:
        resolved = await self._own_documents(user_id=user_id, documents=documents)
        await self._submit_user(
            kind="renter", user_id=user_id, documents=resolved, extra={"employment_info": employment_details}
        )
        return {
            "success": True,
            "message": "Verification request submitted successfully",
            "verification_id": f"renter_{user_id}",
            "status": PENDING,
        }

    async def submit_owner(self, *, user_id: str, documents: Mapping[str, str]) -> dict[str, Any]:
        resolved = await self._own_documents(user_id=user_id, documents=documents)
        await self._submit_user(kind="owner", user_id=user_id, documents=resolved, extra={})
        return {
            "success": True,
            "message": "Verification request submitted successfully",
            "verification_id": f"owner_{user_id}",
            "status": PENDING,
        }

    async def _submit_user(
        self, *, kind: str, user_id: str, documents: dict[str, Any], extra: dict[str, Any]
    ) -> None:
        fields = _user_fields(kind)
        raw = await collection_of(User).find_one_and_update(
            {"_id": user_id, fields["status"]: {"$in": _SUBMITTABLE}},
            {
                "$set": {
                    fields["status"]: PENDING,
                    fields["documents"]: documents,
                    fields["submitted_at"]: self._clock.now(),
                    fields["reviewed_at"]: None,
                    fields["rejection_reason"]: None,
                    **extra,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            user = await User.get(user_id)
            if user is None:
                raise NotFound("User not found", code="user_not_found")
            status = getattr(user, fields["status"])
            if status == VerificationStatus.VERIFIED:
                raise Conflict(f"You are already a verified {kind}", code="already_verified")
            raise Conflict(f"Your {kind} verification is already waiting for review", code="already_pending")
        await self._publish_counts()

    async def submit_property(
        self, *, user_id: str, property_id: str, documents: Mapping[str, str]
    ) -> dict[str, Any]:
        prop = await self._own_property(user_id=user_id, property_id=property_id)
        # The fee is proven by our own successful transaction, never by the request's word.
        paid = await self._payments.paid_verification(property_id=property_id, user_id=user_id)
        if paid is None:
            raise BadRequest(
                "Pay the property verification fee before submitting documents",
                code="verification_fee_unpaid",
            )
        if prop.verification_tier == VerificationTier.VERIFIED:
            raise Conflict("This property is already verified", code="already_verified")
        resolved = await self._own_documents(user_id=user_id, documents=documents)
        now = self._clock.now()
        raw = await collection_of(Property).find_one_and_update(
            {"_id": property_id, "owner_id": user_id, "verification_tier": VerificationTier.FREE.value},
            {
                "$set": {
                    "verification_tier": VerificationTier.PENDING.value,
                    "verification_documents": resolved,
                    "verification_fee_paid": True,
                    "payment_id": paid.payment_id,
                    "verification_submitted_at": now,
                    "verification_reviewed_at": None,
                    "verification_rejection_reason": None,
                    "updated_at": now,
                }
            },
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            current = await Property.get(property_id)
            if current is not None and current.verification_tier == VerificationTier.VERIFIED:
                raise Conflict("This property is already verified", code="already_verified")
            raise Conflict(
                "This property's verification is already waiting for review", code="already_pending"
            )
        await self._publish_counts()
        return {
            "success": True,
            "message": "Property verification request submitted successfully",
            "verification_id": f"property_{property_id}",
            "status": PENDING,
        }

    async def _own_property(self, *, user_id: str, property_id: str) -> Property:
        prop = await Property.get(property_id)
        if prop is None or prop.status == PropertyStatus.DELETED:
            raise NotFound("Property not found", code="property_not_found")
        if prop.owner_id != user_id:
            raise Forbidden("Not authorized for this property", code="not_property_owner")
        return prop

    # ------------------------------------------------------------------ status

    async def my_status(self, *, user: User, type: str, property_id: str | None = None) -> dict[str, Any]:
        if type == "property":
            if not property_id:
                raise BadRequest("property_id is required for type=property", code="property_id_required")
            return self._property_status(await self._own_property(user_id=user.id, property_id=property_id))
        if type not in ("renter", "owner"):
            raise BadRequest("type must be renter, owner or property", code="invalid_verification_type")
        fresh = await User.get(user.id) or user
        fields = _user_fields(type)
        status: VerificationStatus = getattr(fresh, fields["status"])
        verification: dict[str, Any] | None = None
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

    def _property_status(self, prop: Property) -> dict[str, Any]:
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

    async def pending(self, *, page: int, limit: int) -> list[dict[str, Any]]:
        """Requests waiting for a decision, oldest first within each kind (the spec's shape): one page of
        each kind, so the answer stays bounded however long the queue grows."""
        items: list[dict[str, Any]] = []
        skip = (page - 1) * limit
        renters = (
            await User.find({"renter_verification_status": PENDING})
            .sort("+renter_verification_submitted_at")
            .skip(skip)
            .limit(limit)
            .to_list()
        )
        for user in renters:
            items.append(
                {
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
            )
        owners = (
            await User.find({"owner_verification_status": PENDING})
            .sort("+owner_verification_submitted_at")
            .skip(skip)
            .limit(limit)
            .to_list()
        )
        for user in owners:
            items.append(
                {
                    "verification_id": f"owner_{user.id}",
                    "verification_type": "owner",
                    "user_id": user.id,
                    "user_name": user.full_name,
                    "user_email": user.email,
                    "documents": user.owner_verification_documents,
                    "submitted_at": iso(user.owner_verification_submitted_at),
                    "status": PENDING,
                }
            )
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
            items.append(
                {
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
            )
        return items

    async def approve(self, *, verification_type: str, entity_id: str, actor: AdminActor) -> dict[str, Any]:
        return await self._decide(
            decision="approve",
            verification_type=verification_type,
            entity_id=entity_id,
            reason=None,
            actor=actor,
        )

    async def reject(
        self, *, verification_type: str, entity_id: str, reason: str, actor: AdminActor
    ) -> dict[str, Any]:
        reason = reason.strip()
        if not reason:
            raise BadRequest("A rejection reason is required", code="reason_required")
        return await self._decide(
            decision="reject",
            verification_type=verification_type,
            entity_id=entity_id,
            reason=reason,
            actor=actor,
        )

    async def _decide(
        self, *, decision: str, verification_type: str, entity_id: str, reason: str | None, actor: AdminActor
    ) -> dict[str, Any]:
        async def work() -> Outcome[str]:
            if verification_type not in VERIFICATION_TYPES:
                raise BadRequest(
                    "verification_type must be renter, owner or property", code="invalid_verification_type"
                )
            if verification_type == "property":
                user_id, old, new = await self._decide_property(decision, entity_id, reason)
            else:
                user_id, old, new = await self._decide_user(decision, verification_type, entity_id, reason)
            return Outcome(
                user_id,
                details={"verification_id": f"{verification_type}_{entity_id}"},
                old_value=old,
                new_value=new,
            )

        user_id = await self._audit.audited(
            actor=actor,
            action_type=f"verification_{decision}",
            entity_type=verification_type,
            entity_id=entity_id,
            details={"verification_type": verification_type, "reason": reason},
            work=work,
        )
        await self._notify_decision(decision, verification_type, user_id, entity_id, reason)
        await self._publish_counts()
        approved = decision == "approve"
        return {
            "success": True,
            "message": "Verification approved successfully" if approved else "Verification rejected",
            "verification_id": f"{verification_type}_{entity_id}",
            "verification_type": verification_type,
            "status": VerificationStatus.VERIFIED.value if approved else VerificationStatus.REJECTED.value,
            "reason": reason,
        }

    async def _decide_user(
        self, decision: str, kind: str, user_id: str, reason: str | None
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        fields = _user_fields(kind)
        approved = decision == "approve"
        status = VerificationStatus.VERIFIED if approved else VerificationStatus.REJECTED
        changes = {
            fields["status"]: status.value,
            fields["is_verified"]: approved,
            fields["reviewed_at"]: self._clock.now(),
            fields["rejection_reason"]: reason,
        }
        raw = await collection_of(User).find_one_and_update(
            {"_id": user_id, fields["status"]: PENDING},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            user = await User.get(user_id)
            if user is None:
                raise NotFound("User not found", code="user_not_found")
            current: VerificationStatus = getattr(user, fields["status"])
            raise Conflict(
                f"This {kind} verification is not pending (it is {current.value})", code="not_pending"
            )
        return (
            user_id,
            {fields["status"]: PENDING},
            {
                fields["status"]: status.value,
                fields["is_verified"]: approved,
                fields["rejection_reason"]: reason,
            },
        )

    async def _decide_property(
        self, decision: str, property_id: str, reason: str | None
    ) -> tuple[str, dict[str, Any], dict[str, Any]]:
        now = self._clock.now()
        approved = decision == "approve"
        changes: dict[str, Any] = {
            "is_verified": approved,
            "verification_tier": (VerificationTier.VERIFIED if approved else VerificationTier.FREE).value,
            "verification_reviewed_at": now,
            "verification_rejection_reason": reason,
            "updated_at": now,
        }
        if approved:
            changes["verification_date"] = now
        raw = await collection_of(Property).find_one_and_update(
            {"_id": property_id, "verification_tier": VerificationTier.PENDING.value},
            {"$set": changes},
            return_document=ReturnDocument.AFTER,
        )
        if raw is None:
            prop = await Property.get(property_id)
            if prop is None:
                raise NotFound("Property not found", code="property_not_found")
            raise Conflict(
                f"This property verification is not pending (it is {prop.verification_tier.value})",
                code="not_pending",
            )
        decided: Property = Property.model_validate(raw)
        if approved:
            # As the spec: a verified property verifies its owner too (and a refund of its fee takes it back).
            await grant_owner_verification(owner_id=decided.owner_id, property_id=property_id, now=now)
        return (
            decided.owner_id,
            {"verification_tier": VerificationTier.PENDING.value, "is_verified": False},
            {
                "verification_tier": changes["verification_tier"],
                "is_verified": approved,
                "verification_rejection_reason": reason,
                "owner_verified": approved,
            },
        )

    async def _notify_decision(
        self, decision: str, kind: str, user_id: str, entity_id: str, reason: str | None
    ) -> None:
        subject = {"renter": "renter", "owner": "owner", "property": "property"}[kind]
        if decision == "approve":
            title = "Property verified" if kind == "property" else "You're verified"
            message = (
                "Your property is now verified and shows the verified badge."
                if kind == "property"
                else f"Your {subject} verification was approved."
            )
            type_ = "verification_approved"
        else:
            title = "Verification rejected"
            message = f"Your {subject} verification was rejected: {reason}. You can fix it and submit again."
            type_ = "verification_rejected"
        action_url = f"/properties/{entity_id}" if kind == "property" else "/verification"
        await self._notifications.notify(
            user_id=user_id, type=type_, title=title, message=message, action_url=action_url
        )

    async def _publish_counts(self) -> None:
        if self._feed is None:
            return
        try:
            await self._feed.publish_counts()
        except Exception:  # the live dashboard count is best effort; the decision is already stored
            log.exception("publishing admin counts failed")
