"""What every part of the listing service shares: its dependencies, and finding a listing its caller may see
or change."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from documents.base import collection_of
from documents.property import Property, PropertyStatus
from documents.user import User
from homer_rt.clock import Clock
from homer_rt.errors import Forbidden, NotFound
from homer_rt.money import rupees_to_paise
from homer_rt.services.lifestyle import LifestyleProvider
from homer_rt.services.uploads import UploadService


def _paise(value: Decimal | None, field: str) -> int | None:
    return None if value is None else rupees_to_paise(value, field=field)


def _not_found() -> NotFound:
    return NotFound("Property not found", code="property_not_found")


async def owned_listing(*, property_id: str, owner_id: str) -> Property:
    """A listing for something its owner pays for or submits (a verification fee, its documents)."""
    listing = await Property.get(property_id)
    if listing is None or listing.status == PropertyStatus.DELETED:
        raise _not_found()
    if listing.owner_id != owner_id:
        raise Forbidden("Not authorized for this property", code="not_property_owner")
    return listing


class PropertyCore:
    def __init__(
        self,
        *,
        clock: Clock,
        uploads: UploadService,
        lifestyle: LifestyleProvider,
        max_active_listings_per_owner: int,
    ) -> None:
        self._clock = clock
        self._uploads = uploads
        self._lifestyle = lifestyle
        self._max_active_listings = max_active_listings_per_owner

    def _slot_limit(self, user: User) -> int | None:
        return None if user.is_admin else self._max_active_listings

    @staticmethod
    def _collection() -> Any:
        return collection_of(Property)

    async def get(self, property_id: str) -> Property:
        listing = await Property.get(property_id)
        if listing is None or listing.status == PropertyStatus.DELETED:
            raise _not_found()
        return listing

    async def _owned(self, *, property_id: str, user: User) -> Property:
        listing = await self.get(property_id)
        if listing.owner_id != user.id:
            raise Forbidden("Not authorized: you do not own this property", code="not_property_owner")
        return listing

    async def _editable(self, *, property_id: str, user: User) -> Property:
        """The owner's listing, unless an admin took it down: then its owner still sees it but cannot change
        it (or relist it) until an admin does."""
        listing = await self._owned(property_id=property_id, user=user)
        if listing.held_by_admin:
            raise Forbidden(
                "This listing was taken down by an admin and cannot be changed; contact support",
                code="listing_held_by_admin",
            )
        return listing
