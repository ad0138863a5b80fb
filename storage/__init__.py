"""File storage behind one protocol: local disk (default) or S3 through aiobotocore."""

from __future__ import annotations

from storage.base import (
    FileStorage,
    LocalTarget,
    RedirectTarget,
    ServeTarget,
    StorageError,
    StoredObjectMissing,
)

__all__ = [
    "FileStorage",
    "LocalTarget",
    "RedirectTarget",
    "ServeTarget",
    "StorageError",
    "StoredObjectMissing",
]
