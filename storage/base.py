"""The storage protocol every backend implements.

Keys are ``<area>/<owner_segment>/<generated name>``: made by the upload service from validated
segments, never from a client's file name. Backends enforce nothing about size or type: the upload
service does that while it feeds them chunks, and a backend removes whatever it wrote when the chunk
iterator raises.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import quote


class StorageError(Exception):
    """The backend could not store, read or delete an object (disk full, S3 unreachable...)."""


class StoredObjectMissing(StorageError):
    """No object under that key."""


def attachment_disposition(file_name: str) -> str:
    """A ``Content-Disposition`` that makes a browser download the file as ``file_name``, never display it.

    RFC 6266: an ASCII ``filename`` for old clients and the exact name as UTF-8 in ``filename*``; both parts
    are plain ASCII whatever the name, so the value is safe in a header and in an S3 presigned URL.
    """
    fallback = "".join(ch if " " <= ch <= "~" and ch not in '"\\' else "_" for ch in file_name) or "download"
    return f"attachment; filename=\"{fallback}\"; filename*=UTF-8''{quote(file_name, safe='')}"


@dataclass(frozen=True, slots=True)
class LocalTarget:
    """Serve this file from disk (web.FileResponse streams it without blocking the loop), with this
    ``Content-Disposition`` when the caller asked for one."""

    path: Path
    content_disposition: str | None = None


@dataclass(frozen=True, slots=True)
class RedirectTarget:
    """Redirect the client to this short-lived URL (an S3 presigned GET)."""

    url: str


ServeTarget = LocalTarget | RedirectTarget


class FileStorage(Protocol):
    name: str

    async def put(self, key: str, chunks: AsyncIterator[bytes], *, content_type: str) -> int:
        """Store the chunks under key and return the number of bytes stored.

        If the iterator raises, nothing is left under key (or in temporary space) and the error propagates.
        """

    async def read(self, key: str) -> bytes:
        """The whole object (callers only read objects they know are bounded by the upload cap)."""

    async def open(self, key: str, *, content_disposition: str | None = None) -> ServeTarget:
        """Where the bytes can be served from; StoredObjectMissing when there is no such object.

        With ``content_disposition``, the bytes are served with that header wherever they are served from.
        """

    async def delete(self, key: str) -> None:
        """Remove the object; deleting a missing key is not an error."""

    async def presigned_url(self, key: str) -> str | None:
        """A short-lived direct GET URL, or None when the backend has none (local disk)."""

    async def check(self) -> None:
        """Return when the backend can be written now (readiness); StorageError saying why it cannot."""
