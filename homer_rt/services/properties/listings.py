"""An owner's listings: create, edit (status changes keep the active-listing count right), delete, and the
owner's own list."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from typing import Any

from documents.property import ListingChanges, Location, Property, PropertyDetails, PropertyStatus
from documents.user import User
from homer_rt.errors import Conflict, Forbidden
from homer_rt.money import rupees_to_paise
from homer_rt.services.properties.core import PropertyCore, _not_found, _paise
from homer_rt.services.properties.models import DetailsIn, PropertyCreate, PropertyUpdate
from homer_rt.services.properties.quota import give_back_listing_slot, take_listing_slot

# An owner's edit retries when the listing's status changed under it (another tab); more is a real fight.
CHANGE_ATTEMPTS = 3


def _storable(value: Any) -> Any:
    """BSON has no date type: a calendar date is stored as its midnight UTC, as Beanie's insert does."""
    if isinstance(value, dict):
        return {k: _storable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_storable(v) for v in value]
    if isinstance(value, date) and not isinstance(value, datetime):
        return datetime.combine(value, time.min, tzinfo=UTC)
    return value


class PropertyListings(PropertyCore):
    async def create(self, *, owner: User, data: PropertyCreate) -> Property:
        if not owner.is_owner:
            raise Forbidden("Only owners can create properties", code="owner_required")
        now = self._clock.now()
        location = Location(**data.location.model_dump())
        listing = Property(
            owner_id=owner.id,
            title=data.title,
            description=data.description,
            property_type=data.property_type,
            bhk_type=data.bhk_type,
            rent_paise=rupees_to_paise(data.rent, field="rent"),
            security_deposit_paise=_paise(data.security_deposit, "security_deposit"),
            maintenance_charges_paise=rupees_to_paise(data.maintenance_charges, field="maintenance_charges"),
            location=location,
            details=PropertyDetails(**data.details.model_dump()),
            video_url=data.video_url,
            virtual_tour_url=data.virtual_tour_url,
            lifestyle_data=await self._lifestyle.lifestyle_for(location=location, now=now),
            created_at=now,
        )
        # The slot first: concurrent creates at the cap cannot both pass (User.take_listing_slots).
        await take_listing_slot(owner_id=owner.id, limit=self._slot_limit(owner))
        try:
            await listing.insert()
        except BaseException:
            await give_back_listing_slot(owner_id=owner.id)
            raise
        return listing

    async def my_properties(self, *, owner_id: str, page: int, limit: int) -> list[Property]:
        cursor = (
            self._collection()
            .find({"owner_id": owner_id, "status": {"$ne": PropertyStatus.DELETED.value}})
            .sort([("created_at", -1), ("_id", 1)])
            .skip((page - 1) * limit)
            .limit(limit)
        )
        return [Property.model_validate(doc) async for doc in cursor]

    async def _change_owned(
        self, *, property_id: str, user: User, changes: ListingChanges, now: datetime
    ) -> Property:
        """Apply an owner's changes to their listing, keeping their active-listing count right when the
        status changes. Each update is conditional on the status the listing has now, so one request alone
        sees each active <-> off-market transition and moves the counter once for it."""
        target = changes.get("status")
        for _ in range(CHANGE_ATTEMPTS):
            changed = await Property.edit_by_owner(
                property_id, owner_id=user.id, currently_active=True, changes=changes, now=now
            )
            if changed is not None:
                if target is not None and target != PropertyStatus.ACTIVE.value:
                    await give_back_listing_slot(owner_id=user.id)
                return changed
            activating = target == PropertyStatus.ACTIVE.value
            if activating:  # the slot before the listing goes live, as for a new listing
                await take_listing_slot(owner_id=user.id, limit=self._slot_limit(user))
            try:
                changed = await Property.edit_by_owner(
                    property_id, owner_id=user.id, currently_active=False, changes=changes, now=now
                )
            except BaseException:
                if activating:
                    await give_back_listing_slot(owner_id=user.id)
                raise
            if changed is not None:
                return changed
            if activating:
                await give_back_listing_slot(owner_id=user.id)
            await self._editable(property_id=property_id, user=user)  # gone, not theirs or held: says so
            # Otherwise its status changed between the two updates (another tab): try again from the new one.
        raise Conflict("The listing changed while it was being updated; try again", code="listing_changed")

    async def update(self, *, property_id: str, user: User, changes: PropertyUpdate) -> Property:
        await self._editable(property_id=property_id, user=user)
        now = self._clock.now()
        values: ListingChanges = {}
        given = changes.model_fields_set
        # The update model refuses null for the fields a listing must have (title, rent, status, ...).
        if "title" in given and changes.title is not None:
            values["title"] = changes.title
        if "description" in given:
            values["description"] = changes.description
        if "video_url" in given:
            values["video_url"] = changes.video_url
        if "virtual_tour_url" in given:
            values["virtual_tour_url"] = changes.virtual_tour_url
        if "property_type" in given and changes.property_type is not None:
            values["property_type"] = changes.property_type.value
        if "bhk_type" in given and changes.bhk_type is not None:
            values["bhk_type"] = changes.bhk_type.value
        if "status" in given and changes.status is not None:
            values["status"] = changes.status
        if "rent" in given and changes.rent is not None:
            values["rent_paise"] = rupees_to_paise(changes.rent, field="rent")
        if "security_deposit" in given:
            values["security_deposit_paise"] = _paise(changes.security_deposit, "security_deposit")
        if "maintenance_charges" in given and changes.maintenance_charges is not None:
            values["maintenance_charges_paise"] = rupees_to_paise(
                changes.maintenance_charges, field="maintenance_charges"
            )
        if "details" in given:
            details = changes.details or DetailsIn()
            values["details"] = _storable(details.model_dump())
        if changes.location is not None:
            location = Location(**changes.location.model_dump())
            values["location"] = location.model_dump()
            lifestyle = await self._lifestyle.lifestyle_for(location=location, now=now)
            values["lifestyle_data"] = lifestyle.model_dump()
        return await self._change_owned(property_id=property_id, user=user, changes=values, now=now)

    async def delete(self, *, property_id: str, user: User) -> None:
        """Soft delete; allowed on a listing an admin took down (its owner may remove it)."""
        before = await Property.mark_deleted(property_id, owner_id=user.id, now=self._clock.now())
        if before is None:
            await self._owned(property_id=property_id, user=user)  # raises the right 404 / 403
            raise _not_found()
        if before.status == PropertyStatus.ACTIVE:
            await give_back_listing_slot(owner_id=user.id)
