"""The stored_files collection: one record per uploaded file, whichever storage backend holds the bytes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import IndexModel

from documents.base import new_id
from homer_rt.clock import iso


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

    class Settings:
        name = "stored_files"
        indexes = [
            IndexModel("url", unique=True),
            IndexModel("uploader_id"),
        ]

    def api_view(self) -> dict[str, Any]:
        """The spec's save_file metadata shape."""
        return {
            "file_name": self.file_name,
            "file_url": self.url,
            "file_size": self.size,
            "file_type": self.content_type,
            "uploaded_at": iso(self.created_at),
        }
