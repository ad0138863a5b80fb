"""PropertyService: every listing behaviour in one object, the one the handlers call."""

from __future__ import annotations

from homer_rt.services.properties.analytics import PropertyViews
from homer_rt.services.properties.images import PropertyImages
from homer_rt.services.properties.listings import PropertyListings
from homer_rt.services.properties.search import PropertySearch


class PropertyService(PropertyListings, PropertySearch, PropertyViews, PropertyImages):
    """Listings (see the package's docstring for its invariants)."""
