"""The shortlists collection, as the spec's shortlists model: one row per (renter, property)."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import IndexModel, ReturnDocument

from documents.base import collection_of, new_id


class Shortlist(Document):
    id: str = Field(default_factory=new_id)  # type: ignore[assignment]
    user_id: str
    property_id: str
    notes: str | None = None
    created_at: datetime

    class Settings:
        name = "shortlists"
        indexes = [
            # Makes "shortlist this property" idempotent and the shortlisted_count guard exact.
            IndexModel([("user_id", 1), ("property_id", 1)], unique=True),
            IndexModel([("user_id", 1), ("created_at", -1)]),
            IndexModel("property_id"),
        ]

    @property
    def shortlist_id(self) -> str:
        return self.id

    @classmethod
    async def set_notes(cls, *, user_id: str, property_id: str, notes: str | None) -> Shortlist | None:
        """The renter's notes on a shortlisted listing; the row after it, None when it is not shortlisted.

        Guard: the renter's row for that listing.
        """
        raw = await collection_of(cls).find_one_and_update(
            {"user_id": user_id, "property_id": property_id},
            {"$set": {"notes": notes}},
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def remove(cls, *, user_id: str, property_id: str) -> bool:
        """Take the listing off the renter's shortlist; False when it was not on it.

        Guard: the renter's row for that listing; of concurrent removals one deletes it (and only that one
        counts it off the listing's shortlisted_count).
        """
        result = await collection_of(cls).delete_one({"user_id": user_id, "property_id": property_id})
        return result.deleted_count == 1
