"""The property_views collection: one mark per (listing, viewer, UTC day).

A listing's view counters move only for the request whose mark insert succeeded, so a viewer counts once a
day however often they reload, and concurrent reloads cannot count twice. Marks expire through a TTL index:
MongoDB drops each one soon after ``expires_at``. The embedded store (mongomock) ignores TTL indexes and
keeps its marks; it is for trying the server and tests, not for running one for months.
"""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import IndexModel


class PropertyView(Document):
    # A hash of (listing, viewer, day): fixed length, and no client address stored in the clear.
    id: str = Field()  # type: ignore[assignment]
    expires_at: datetime

    class Settings:
        name = "property_views"
        indexes = [IndexModel("expires_at", expireAfterSeconds=0)]
