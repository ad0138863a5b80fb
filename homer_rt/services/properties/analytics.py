"""Viewing a listing (counted once per viewer per UTC day) and its owner's analytics."""

from __future__ import annotations

import hashlib
from datetime import UTC, date, datetime, time, timedelta

from pymongo.errors import DuplicateKeyError

from documents.property import AnalyticsView, Property
from documents.property_view import PropertyView
from documents.user import User
from homer_rt.services.properties.core import PropertyCore, _not_found

# A view mark is needed only during its UTC day; two days from that midnight cover clock skew between
# processes, and the TTL index removes it after that.
VIEW_MARK_KEPT = timedelta(days=2)


def _view_mark_id(property_id: str, viewer_key: str, day: date) -> str:
    return hashlib.sha256(f"{property_id}\n{viewer_key}\n{day.isoformat()}".encode()).hexdigest()


class PropertyViews(PropertyCore):
    async def view(self, *, property_id: str, viewer: User | None, viewer_address: str) -> Property:
        """The listing for GET /api/properties/{id}: a 404 to anyone it is not visible to, exactly as for a
        missing id. A public listing counts the view of anyone but its owner, once per viewer per UTC day
        (a signed-in viewer by account, an anonymous one by client address)."""
        listing = await self.get(property_id)
        if not listing.visible_to(viewer):
            raise _not_found()
        if listing.is_public and (viewer is None or viewer.id != listing.owner_id):
            await self._count_view(listing=listing, viewer=viewer, viewer_address=viewer_address)
        return listing

    async def _count_view(self, *, listing: Property, viewer: User | None, viewer_address: str) -> None:
        now = self._clock.now()
        day = now.date()
        viewer_key = f"user:{viewer.id}" if viewer is not None else f"address:{viewer_address}"
        midnight = datetime.combine(day, time.min, tzinfo=UTC)
        mark = PropertyView(
            id=_view_mark_id(listing.id, viewer_key, day), expires_at=midnight + VIEW_MARK_KEPT
        )
        try:
            await mark.insert()
        except DuplicateKeyError:
            return  # this viewer was counted today: only the request that stored the mark counts
        await Property.record_view(listing.id, premium=viewer is not None and viewer.is_premium(now), now=now)

    async def analytics(self, *, property_id: str, user: User) -> AnalyticsView:
        listing = await self._owned(property_id=property_id, user=user)
        return listing.analytics.view()
