"""Shortlists: a renter's saved listings, with notes.

The unique (user_id, property_id) index makes adding idempotent, and the property's
analytics.shortlisted_count moves only when an insert really created a row (+1) or a delete really
removed one (-1), so the count stays exact under concurrent and repeated requests.
"""

from __future__ import annotations

from pymongo.errors import DuplicateKeyError
from typing_extensions import TypedDict

from documents.base import collection_of
from documents.property import Property, PropertySummaryView
from documents.shortlist import Shortlist
from documents.user import User
from homer_rt.clock import Clock, iso
from homer_rt.errors import NotFound

MAX_NOTES_CHARS = 2000


class ShortlistView(TypedDict):
    """A shortlist row with its listing's card (null when the listing is gone entirely)."""

    shortlist_id: str
    user_id: str
    property_id: str
    notes: str | None
    created_at: str
    property: PropertySummaryView | None


class ShortlistAddResponse(ShortlistView):
    created: bool  # false when the listing was already in the shortlist (the answer is then a 200, not 201)
    message: str


class ShortlistPage(TypedDict):
    shortlists: list[ShortlistView]
    total_count: int
    page: int
    has_more: bool


class ShortlistRemovedResponse(TypedDict):
    message: str


class ShortlistService:
    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock

    async def add(self, *, user: User, property_id: str, notes: str | None) -> tuple[Shortlist, bool]:
        """The shortlist row and whether this call created it. A listing the user may not see (deleted, off
        the market, taken down) is the same 404 as a missing one."""
        user_id = user.id
        listing = await Property.get(property_id)
        if listing is None or not listing.visible_to(user):
            raise NotFound("Property not found", code="property_not_found")
        entry = Shortlist(user_id=user_id, property_id=property_id, notes=notes, created_at=self._clock.now())
        try:
            await entry.insert()
        except DuplicateKeyError:
            existing = await Shortlist.find_one({"user_id": user_id, "property_id": property_id})
            if existing is None:  # removed between our insert and this read: treat as a fresh add
                return await self.add(user=user, property_id=property_id, notes=notes)
            if notes is not None and notes != existing.notes:
                existing = await self.update_notes(user_id=user_id, property_id=property_id, notes=notes)
            return existing, False
        await Property.record_shortlisted(property_id)
        return entry, True

    async def update_notes(self, *, user_id: str, property_id: str, notes: str | None) -> Shortlist:
        entry = await Shortlist.set_notes(user_id=user_id, property_id=property_id, notes=notes)
        if entry is None:
            raise NotFound("This property is not in your shortlist", code="shortlist_not_found")
        return entry

    async def remove(self, *, user_id: str, property_id: str) -> None:
        if not await Shortlist.remove(user_id=user_id, property_id=property_id):
            raise NotFound("This property is not in your shortlist", code="shortlist_not_found")
        await Property.record_unshortlisted(property_id)

    async def list_for(self, *, user_id: str, page: int, limit: int) -> tuple[list[ShortlistView], int]:
        """One page, newest first, each with its listing's summary (None if the listing is gone entirely),
        and how many the user has in all."""
        collection = collection_of(Shortlist)
        total: int = await collection.count_documents({"user_id": user_id})
        cursor = (
            collection.find({"user_id": user_id})
            .sort([("created_at", -1), ("_id", 1)])
            .skip((page - 1) * limit)
            .limit(limit)
        )
        entries = [Shortlist.model_validate(doc) async for doc in cursor]
        ids = list({entry.property_id for entry in entries})
        listings: dict[str, Property] = {}
        if ids:
            async for doc in collection_of(Property).find({"_id": {"$in": ids}}):
                listing = Property.model_validate(doc)
                listings[listing.id] = listing
        return [self.view(entry, listings.get(entry.property_id)) for entry in entries], total

    @staticmethod
    def view(entry: Shortlist, listing: Property | None) -> ShortlistView:
        return {
            "shortlist_id": entry.id,
            "user_id": entry.user_id,
            "property_id": entry.property_id,
            "notes": entry.notes,
            "created_at": iso(entry.created_at),
            "property": listing.summary_view() if listing is not None else None,
        }

    async def view_one(self, entry: Shortlist) -> ShortlistView:
        return self.view(entry, await Property.get(entry.property_id))
