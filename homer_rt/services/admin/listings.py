"""Listings as an admin sees them: the list with the verification file, changes, deletion and a
verification granted without the owner's request."""

from __future__ import annotations

from typing import Any, cast

from documents.property import ListingChanges, Property, PropertyStatus, VerificationTier
from homer_rt.clock import Clock, iso
from homer_rt.errors import Conflict, NotFound
from homer_rt.money import rupees_to_paise
from homer_rt.services.admin.changes import PROPERTY_EDITABLE, PropertyChanges, whitelisted
from homer_rt.services.admin.queries import find_page, listing_filter, page_fields
from homer_rt.services.admin.views import (
    PropertyAdminView,
    PropertyChangedResponse,
    PropertyDeletedResponse,
    PropertyPage,
)
from homer_rt.services.admin_feed import AdminFeed
from homer_rt.services.audit import AdminActor, AuditLog, Outcome
from homer_rt.services.notifications import NotificationService
from homer_rt.services.properties.quota import follow_status_change

# Rupee fields in the API and the paise fields they are stored in.
_MONEY_FIELDS = {
    "rent": "rent_paise",
    "security_deposit": "security_deposit_paise",
    "maintenance_charges": "maintenance_charges_paise",
}


def property_admin_view(prop: Property) -> PropertyAdminView:
    return {
        **prop.api_view(),
        "verification_documents": prop.verification_documents,
        "verification_fee_paid": prop.verification_fee_paid,
        "payment_id": prop.payment_id,
        "verification_submitted_at": iso(prop.verification_submitted_at),
        "verification_reviewed_at": iso(prop.verification_reviewed_at),
        "verification_rejection_reason": prop.verification_rejection_reason,
    }


def _stored_changes(changes: dict[str, Any]) -> ListingChanges:
    """An admin's validated changes (PROPERTY_EDITABLE) in stored form: rupees as paise, enums as text."""
    stored: dict[str, Any] = {}
    for name, value in changes.items():
        if name in _MONEY_FIELDS:
            stored[_MONEY_FIELDS[name]] = None if value is None else rupees_to_paise(value, field=name)
        else:
            stored[name] = value.value if hasattr(value, "value") else value
    return cast(ListingChanges, stored)  # PROPERTY_EDITABLE's fields, each stored as ListingChanges has it


class AdminListings:
    def __init__(
        self, *, clock: Clock, audit: AuditLog, notifications: NotificationService, feed: AdminFeed
    ) -> None:
        self._clock = clock
        self._audit = audit
        self._notifications = notifications
        self._feed = feed

    async def list_properties(
        self,
        *,
        status: str | None,
        verification_status: str | None,
        owner_id: str | None,
        city: str | None,
        page: int,
        limit: int,
    ) -> PropertyPage:
        query = listing_filter(
            status=status, verification_status=verification_status, owner_id=owner_id, city=city
        )
        total, found = await find_page(Property, query, sort="-created_at", page=page, limit=limit)
        return {
            "properties": [property_admin_view(p) for p in found],
            **page_fields(total=total, page=page, limit=limit),
        }

    async def update_property(
        self, *, actor: AdminActor, property_id: str, body: Any
    ) -> PropertyChangedResponse:
        fields = sorted(body) if isinstance(body, dict) else []

        async def work() -> Outcome[PropertyChangedResponse]:
            changes = whitelisted(PropertyChanges, body, PROPERTY_EDITABLE, "property")
            stored = _stored_changes(changes)
            before = await Property.edit_by_admin(property_id, changes=stored, now=self._clock.now())
            if before is None:
                raise NotFound("Property not found", code="property_not_found")
            if "status" in stored:
                await follow_status_change(
                    owner_id=before.owner_id,
                    property_id=property_id,
                    was_active=before.status == PropertyStatus.ACTIVE,
                    now_active=stored["status"] == PropertyStatus.ACTIVE.value,
                )
            after = await Property.get(property_id)
            if after is None:
                raise NotFound("Property not found", code="property_not_found")
            before_view = before.api_view()
            after_view = after.api_view()
            return Outcome(
                result={"message": "Property updated successfully", "property": property_admin_view(after)},
                old_value={name: before_view.get(name) for name in changes},
                new_value={name: after_view.get(name) for name in changes},
            )

        return await self._audit.audited(
            actor=actor,
            action_type="property_update",
            entity_type="property",
            entity_id=property_id,
            details={"fields_updated": fields},
            work=work,
        )

    async def delete_property(self, *, actor: AdminActor, property_id: str) -> PropertyDeletedResponse:
        async def work() -> Outcome[PropertyDeletedResponse]:
            before = await Property.mark_deleted(property_id, now=self._clock.now())
            if before is None:
                if await Property.get(property_id) is None:
                    raise NotFound("Property not found", code="property_not_found")
                raise Conflict("Property already deleted", code="property_already_deleted")
            await follow_status_change(
                owner_id=before.owner_id,
                property_id=property_id,
                was_active=before.status == PropertyStatus.ACTIVE,
                now_active=False,
            )
            return Outcome(
                result={"message": "Property deleted successfully", "property_id": property_id},
                old_value={"status": before.status.value},
                new_value={"status": PropertyStatus.DELETED.value},
                details={"property_title": before.title, "owner_id": before.owner_id},
            )

        return await self._audit.audited(
            actor=actor,
            action_type="property_delete",
            entity_type="property",
            entity_id=property_id,
            details={},
            work=work,
        )

    async def force_verify_property(self, *, actor: AdminActor, property_id: str) -> PropertyChangedResponse:
        async def work() -> Outcome[PropertyChangedResponse]:
            now = self._clock.now()
            before = await Property.force_verify(property_id, now=now)
            if before is None:
                existing = await Property.get(property_id)
                if existing is None:
                    raise NotFound("Property not found", code="property_not_found")
                if existing.status == PropertyStatus.DELETED:
                    raise Conflict("Property is deleted", code="property_deleted")
                raise Conflict("Property is already verified", code="property_already_verified")
            after = await Property.get(property_id)
            if after is None:
                raise NotFound("Property not found", code="property_not_found")
            await self._notifications.notify(
                user_id=after.owner_id,
                type="verification_approved",
                title="Property verified",
                message=f'Your property "{after.title}" is now verified.',
                action_url=f"/property/{property_id}",
            )
            if before.verification_tier == VerificationTier.PENDING:
                await self._feed.publish_counts()
            return Outcome(
                result={"message": "Property force verified", "property": property_admin_view(after)},
                old_value={
                    "is_verified": before.is_verified,
                    "verification_tier": before.verification_tier.value,
                },
                new_value={"is_verified": True, "verification_tier": VerificationTier.VERIFIED.value},
                details={"previous_status": before.is_verified, "new_status": True},
            )

        return await self._audit.audited(
            actor=actor,
            action_type="property_force_verify",
            entity_type="property",
            entity_id=property_id,
            details={},
            work=work,
        )
