"""Uploads: stream a multipart part into storage with the size cap enforced while reading, check its type
from its first bytes, record it, and decide who may read it back.

URLs are ``/uploads/<area>/<owner_segment>/<generated name>`` whichever backend holds the bytes. Each
area has an access policy: properties and profiles are public, verification is the uploader's or an
admin's, and other services register their own (chat registers ``chat``).
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath
from typing import Literal

import aiohttp

from documents.stored_file import StoredFile
from documents.user import User
from homer_rt.clock import Clock
from homer_rt.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unauthorized,
    UnsupportedMediaType,
    UpstreamError,
)
from homer_rt.settings import Settings
from storage.base import (
    FileStorage,
    ServeTarget,
    StorageError,
    StoredObjectMissing,
    attachment_disposition,
)
from storage.local import LocalStorage
from storage.s3 import S3Storage
from storage.sniff import ALLOWED, DOCX, SNIFF_BYTES, describe, is_docx, sniff

log = logging.getLogger(__name__)

AccessPolicy = Callable[[User | None, str], Awaitable[bool]]

PUBLIC_AREAS = ("properties", "profiles")
VERIFICATION_AREA = "verification"
READ_CHUNK_BYTES = 64 * 1024
MAX_FILE_NAME_CHARS = 255

# One path segment of an upload URL: ids, generated names, area names. No dot segments, no separators.
_SEGMENT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


def is_safe_segment(value: str) -> bool:
    return bool(_SEGMENT.fullmatch(value)) and ".." not in value


def upload_url(area: str, owner_segment: str, name: str) -> str:
    return f"/uploads/{area}/{owner_segment}/{name}"


def client_file_name(raw: str | None) -> str:
    """The client's name for display only: its last path component, without control characters."""
    if not raw:
        return "upload"
    name = PureWindowsPath(PurePosixPath(raw).name).name
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    return name[:MAX_FILE_NAME_CHARS] or "upload"


async def public_policy(user: User | None, owner_segment: str) -> bool:
    return True


async def uploader_or_admin_policy(user: User | None, owner_segment: str) -> bool:
    return user is not None and (user.is_admin or user.id == owner_segment)


def storage_from_settings(settings: Settings) -> FileStorage:
    """STORAGE_BACKEND=s3 needs a bucket; its client is opened by S3Storage.cleanup_ctx."""
    if settings.storage_backend == "s3":
        if not settings.bucket:
            raise ValueError("STORAGE_BACKEND=s3 needs S3_BUCKET (or AWS_S3_BUCKET_NAME)")
        return S3Storage(
            bucket=settings.bucket,
            region=settings.aws_region,
            endpoint_url=settings.s3_endpoint_url,
            access_key_id=settings.aws_access_key_id,
            secret_access_key=settings.aws_secret_access_key,
            presign_seconds=settings.s3_presign_seconds,
        )
    return LocalStorage(root=settings.upload_dir)


async def _read_chunk(part: aiohttp.BodyPartReader) -> bytes:
    try:
        return await part.read_chunk(READ_CHUNK_BYTES)
    except ValueError as exc:  # aiohttp's word for a body that ends before its closing boundary
        raise BadRequest("Malformed or truncated multipart body", code="malformed_multipart") from exc


@dataclass(frozen=True, slots=True)
class ServedFile:
    file: StoredFile
    target: ServeTarget


class UploadService:
    def __init__(self, *, clock: Clock, storage: FileStorage, max_bytes: int) -> None:
        self._clock = clock
        self._storage = storage
        self._max_bytes = max_bytes
        self._policies: dict[str, AccessPolicy] = {}
        for area in PUBLIC_AREAS:
            self.register_policy(area, public_policy)
        self.register_policy(VERIFICATION_AREA, uploader_or_admin_policy)

    @property
    def storage(self) -> FileStorage:
        return self._storage

    @property
    def max_bytes(self) -> int:
        return self._max_bytes

    def register_policy(self, area: str, policy: Callable[[User | None, str], Awaitable[bool]]) -> None:
        if not is_safe_segment(area):
            raise ValueError(f"bad upload area name {area!r}")
        self._policies[area] = policy

    async def save(
        self,
        *,
        area: str,
        owner_segment: str,
        uploader_id: str,
        part: aiohttp.BodyPartReader,
        kind: Literal["image", "document"],
    ) -> StoredFile:
        if area not in self._policies:
            raise ValueError(f"no upload area {area!r}")  # a programming error, not a client's
        if not is_safe_segment(owner_segment):
            raise BadRequest("Invalid upload owner", code="invalid_upload_path")
        file_name = client_file_name(part.filename)

        head = bytearray()
        while len(head) < SNIFF_BYTES:
            chunk = await _read_chunk(part)
            if not chunk:
                break
            head += chunk
        if not head:
            raise BadRequest(f"{file_name} is empty", code="empty_file")
        if len(head) > self._max_bytes:
            raise self._too_large(file_name)
        detected = sniff(bytes(head))
        if detected is None or detected not in ALLOWED[kind]:
            raise UnsupportedMediaType(
                f"{file_name} is not an allowed {kind} type ({describe(kind)}), whatever its name says",
                code="unsupported_file_type",
            )

        name = f"{uuid.uuid4().hex}{detected.extension}"
        key = f"{area}/{owner_segment}/{name}"
        try:
            size = await self._storage.put(
                key, self._capped(part, bytes(head), file_name), content_type=detected.content_type
            )
            if detected is DOCX and not await asyncio.to_thread(is_docx, await self._storage.read(key)):
                await self._storage.delete(key)
                raise UnsupportedMediaType(
                    f"{file_name} is a zip archive, not a Word document", code="unsupported_file_type"
                )
        except StorageError as exc:
            log.error("storing %s failed: %s", key, exc)
            raise UpstreamError("File storage is unavailable, try again", code="storage_unavailable") from exc

        record = StoredFile(
            url=upload_url(area, owner_segment, name),
            area=area,
            owner_segment=owner_segment,
            uploader_id=uploader_id,
            file_name=file_name,
            content_type=detected.content_type,
            size=size,
            storage_key=key,
            created_at=self._clock.now(),
        )
        try:
            await record.insert()
        except BaseException:
            await self._delete_quietly(key)
            raise
        return record

    def _too_large(self, file_name: str) -> PayloadTooLarge:
        limit_mb = self._max_bytes / (1024 * 1024)
        return PayloadTooLarge(f"{file_name} is larger than {limit_mb:g} MB", code="file_too_large")

    async def _capped(
        self, part: aiohttp.BodyPartReader, head: bytes, file_name: str
    ) -> AsyncIterator[bytes]:
        """The part's bytes, failing as soon as they pass the cap: the rest is never read into memory."""
        total = len(head)
        yield head
        while True:
            chunk = await _read_chunk(part)
            if not chunk:
                return
            total += len(chunk)
            if total > self._max_bytes:
                raise self._too_large(file_name)
            yield chunk

    async def find_owned(self, *, url: str, uploader_id: str) -> StoredFile | None:
        found: StoredFile | None = await StoredFile.find_one({"url": url, "uploader_id": uploader_id})
        return found

    async def find(self, *, url: str) -> StoredFile | None:
        found: StoredFile | None = await StoredFile.find_one({"url": url})
        return found

    async def discard(self, file: StoredFile) -> None:
        """Remove a stored file and its record (a listing's deleted image, a failed batch)."""
        await self._delete_quietly(file.storage_key)
        await StoredFile.get_motor_collection().delete_one({"_id": file.id})

    async def _delete_quietly(self, key: str) -> None:
        try:
            await self._storage.delete(key)
        except StorageError as exc:
            # The record goes regardless; an orphaned object costs bytes, not correctness.
            log.warning("could not delete stored object %s: %s", key, exc)

    async def open_for(self, *, user: User | None, area: str, owner_segment: str, name: str) -> ServedFile:
        if not all(is_safe_segment(s) for s in (area, owner_segment, name)):
            raise BadRequest("Invalid file path", code="invalid_upload_path")
        policy = self._policies.get(area)
        if policy is None:
            raise NotFound("File not found", code="file_not_found")
        if not await policy(user, owner_segment):
            if user is None:
                raise Unauthorized("Sign in to open this file", code="not_authenticated")
            raise Forbidden("Not authorized to access this file", code="file_forbidden")
        record = await self.find(url=upload_url(area, owner_segment, name))
        if record is None:
            raise NotFound("File not found", code="file_not_found")
        # Private files (ID documents, chat attachments) are downloaded, never displayed: a document that a
        # browser can render must not run in this site's origin. An <img> still shows a private image.
        disposition = None if area in PUBLIC_AREAS else attachment_disposition(record.file_name)
        try:
            target = await self._storage.open(record.storage_key, content_disposition=disposition)
        except StoredObjectMissing as exc:
            raise NotFound("File not found", code="file_not_found") from exc
        except StorageError as exc:
            raise UpstreamError("File storage is unavailable, try again", code="storage_unavailable") from exc
        return ServedFile(file=record, target=target)
