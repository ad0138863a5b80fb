"""Search: the public filters and sorts over active listings, and premium renters' lifestyle search."""

from __future__ import annotations

import re
from typing import Any

from documents.property import Property, PropertyStatus
from documents.user import User
from homer_rt.errors import Forbidden
from homer_rt.money import rupees_to_paise
from homer_rt.services.properties.core import PropertyCore
from homer_rt.services.properties.models import LifestyleQuery, SearchPage, SearchQuery


def _contains(text: str) -> dict[str, str]:
    """Case-insensitive substring match with every regex metacharacter taken literally."""
    return {"$regex": re.escape(text), "$options": "i"}


class PropertySearch(PropertyCore):
    async def search(self, *, query: SearchQuery) -> SearchPage:
        match: dict[str, Any] = {"status": PropertyStatus.ACTIVE.value}
        if query.city:
            match["location.city"] = _contains(query.city)
        if query.location:
            match["location.locality"] = _contains(query.location)
        price: dict[str, int] = {}
        if query.min_price is not None:
            price["$gte"] = rupees_to_paise(query.min_price, field="min_price")
        if query.max_price is not None:
            price["$lte"] = rupees_to_paise(query.max_price, field="max_price")
        if price:
            match["rent_paise"] = price
        if query.bhk_type is not None:
            match["bhk_type"] = query.bhk_type.value
        if query.property_type is not None:
            match["property_type"] = query.property_type.value
        if query.furnishing is not None:
            match["details.furnishing"] = query.furnishing
        if query.verified_only:
            match["is_verified"] = True

        # _id last: a stable order, so pages never repeat or skip a listing with an equal sort key.
        sort: list[tuple[str, int]] = {
            "price_low": [("rent_paise", 1), ("created_at", -1)],
            "price_high": [("rent_paise", -1), ("created_at", -1)],
            "recent": [("created_at", -1)],
            "default": [("is_verified", -1), ("created_at", -1)],
        }[query.sort_by] + [("_id", 1)]

        collection = self._collection()
        total = await collection.count_documents(match)
        offset = (query.page - 1) * query.limit
        cursor = collection.find(match).sort(sort).skip(offset).limit(query.limit)
        listings = [Property.model_validate(doc) async for doc in cursor]
        return SearchPage(
            properties=listings, total_count=total, page=query.page, has_more=offset + query.limit < total
        )

    async def lifestyle_search(self, *, user: User, query: LifestyleQuery) -> tuple[list[Property], int]:
        if not user.is_premium(self._clock.now()):
            raise Forbidden("Lifestyle search is only available for premium users", code="premium_required")
        match: dict[str, Any] = {
            "status": PropertyStatus.ACTIVE.value,
            "is_verified": True,
            "lifestyle_data": {"$ne": None},
        }
        if query.max_aqi is not None:
            match["lifestyle_data.aqi_score"] = {"$lte": query.max_aqi}
        if query.max_noise is not None:
            match["lifestyle_data.noise_level"] = {"$lte": query.max_noise}
        if query.min_walkability is not None:
            match["lifestyle_data.walkability_score"] = {"$gte": query.min_walkability}
        if query.near_parks:
            match["lifestyle_data.nearby_parks"] = {"$gte": 1}
        if query.budget is not None:
            match["rent_paise"] = {"$lte": rupees_to_paise(query.budget, field="budget")}
        if query.bhk is not None:
            match["bhk_type"] = query.bhk.value
        if query.city:
            match["location.city"] = _contains(query.city)
        collection = self._collection()
        total = await collection.count_documents(match)
        cursor = (
            collection.find(match)
            .sort([("lifestyle_data.aqi_score", 1), ("created_at", -1), ("_id", 1)])
            .limit(query.limit)
        )
        return [Property.model_validate(doc) async for doc in cursor], total
