"""The stored_files collection: one record per uploaded file, whichever storage backend holds the bytes."""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo import IndexModel
from typing_extensions import TypedDict

from documents.base import new_id
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
