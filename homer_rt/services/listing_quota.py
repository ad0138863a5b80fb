"""Moved to homer_rt.services.properties.quota; kept while the admin service and the demo seeding import
it from here."""

from homer_rt.services.properties.quota import (
    follow_status_change,
    give_back_listing_slot,
    take_listing_slot,
)

__all__ = ["follow_status_change", "give_back_listing_slot", "take_listing_slot"]
