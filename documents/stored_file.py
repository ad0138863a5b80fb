"""The stored_files collection: one record per uploaded file, whichever storage backend holds the bytes."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import IndexModel, ReturnDocument
from typing_extensions import TypedDict

from documents.base import collection_of, new_id
from homer_rt.clock import iso


class StoredFileView(TypedDict):
    """The spec's save_file metadata shape (``StoredFile.api_view``)."""

    file_name: str
    file_url: str
    file_size: int
    file_type: str
    uploaded_at: str


class StoredFile(Document):
    id: str = Field(default_factory=new_id)  # type: ignore[assignment]
    url: str  # /uploads/<area>/<owner_segment>/<generated name>
    area: str
    owner_segment: str
    uploader_id: str
    file_name: str  # the name the client sent; shown back, never used as a path
    content_type: str  # from the file's first bytes, not from the client
    size: int
    storage_key: str  # <area>/<owner_segment>/<generated name>
    created_at: datetime
    # Bytes this file holds in its uploader's quota (upload_usage), given back when it is removed. Records
    # stored before quotas existed hold none.
    quota_bytes: int = 0
    # Set when a door stores a file that something must still point at (a chat attachment until a message
    # carries it, a verification document until a submission does); cleared by that reference. The cleanup
    # removes files unreferenced for UNREFERENCED_UPLOAD_TTL_HOURS. Files stored by a request that also puts
    # them in use (listing images, profile photos), and records from before this field, never carry it.
    unreferenced_since: datetime | None = None

    class Settings:
        name = "stored_files"
        indexes = [
            IndexModel("url", unique=True),
            IndexModel("uploader_id"),
            IndexModel("unreferenced_since"),
        ]

    def api_view(self) -> StoredFileView:
        """The spec's save_file metadata shape."""
        return {
            "file_name": self.file_name,
            "file_url": self.url,
            "file_size": self.size,
            "file_type": self.content_type,
            "uploaded_at": iso(self.created_at),
        }

    # ------------------------------------------------------------------ guarded operations

    @classmethod
    async def mark_referenced(cls, url: str, *, uploader_id: str, area: str) -> StoredFile | None:
        """The uploader's file at ``url`` in ``area`` is in use, so the cleanup leaves it; the record after
        it, None when there is no such file (or the cleanup removed it first).

        Guard: the uploader's, in that area. Idempotent: marking it again changes nothing.
        """
        raw = await collection_of(cls).find_one_and_update(
            {"url": url, "uploader_id": uploader_id, "area": area},
            {"$set": {"unreferenced_since": None}},
            return_document=ReturnDocument.AFTER,
        )
        return None if raw is None else cls.model_validate(raw)

    @classmethod
    async def mark_all_referenced(
        cls, urls: Collection[str], *, uploader_id: str, area: str, owner_segment: str
    ) -> int:
        """Mark the uploader's files at ``urls`` (one area and owner folder) in use; how many it found.

        Guard: the uploader's, in that area and folder; a file the cleanup removed first is not found.
        """
        marked = await collection_of(cls).update_many(
            {
                "url": {"$in": list(urls)},
                "uploader_id": uploader_id,
                "area": area,
                "owner_segment": owner_segment,
            },
            {"$set": {"unreferenced_since": None}},
        )
        return marked.matched_count

    @classmethod
    async def remove_record(
        cls, file_id: str, *, still_matching: Mapping[str, Any] | None = None
    ) -> StoredFile | None:
        """Delete the file's record (its bytes and quota are the caller's to give back); the record, None when
        it was not there or no longer matches.

        Guard: the id and ``still_matching``, the query that selected the file (unreferenced since the
        cutoff, say), so a file that stopped matching meanwhile (referenced by a request) stays; and one
        atomic delete, so of concurrent removals exactly one gets the record and gives back its quota.
        """
        raw = await collection_of(cls).find_one_and_delete({**(still_matching or {}), "_id": file_id})
        return None if raw is None else cls.model_validate(raw)
