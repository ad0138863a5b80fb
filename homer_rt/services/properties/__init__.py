"""Listings: create, search, view (counted once per viewer per day), owner edits, images and analytics.

Every change to a listing is one atomic single-document update guarded by owner and status, so two
owners' tabs, a concurrent view and an image upload never overwrite each other.

PropertyService is assembled from one class per behaviour, each in its own module: core (dependencies,
finding a listing its caller may see or change), listings (an owner's create, edit, delete and list),
search (public and lifestyle search), analytics (counted views, the owner's analytics) and images. The
request models and their limits are in models; the per-owner active-listing count is in quota.
"""

from __future__ import annotations

from homer_rt.services.properties.models import (
    LIFESTYLE_RESULTS_MAX,
    MAX_IMAGES_PER_LISTING,
    MAX_RUPEES,
    DetailsIn,
    LifestyleQuery,
    LocationIn,
    PropertyCreate,
    PropertyUpdate,
    SearchPage,
    SearchQuery,
)
from homer_rt.services.properties.service import PropertyService

__all__ = [
    "LIFESTYLE_RESULTS_MAX",
    "MAX_IMAGES_PER_LISTING",
    "MAX_RUPEES",
    "DetailsIn",
    "LifestyleQuery",
    "LocationIn",
    "PropertyCreate",
    "PropertyService",
    "PropertyUpdate",
    "SearchPage",
    "SearchQuery",
]
