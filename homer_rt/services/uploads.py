"""Uploads: stream a multipart part into storage with the size cap enforced while reading, check its type
from its first bytes, record it, and decide who may read it back.

URLs are ``/uploads/<area>/<owner_segment>/<generated name>`` whichever backend holds the bytes. Each
area has an access policy: properties and profiles are public, verification is the uploader's or an
admin's, and other services register their own (chat registers ``chat``).

Every upload counts against its uploader's hourly upload budget and storage quota. The quota is reserved
in the store while the file streams in (a conditional ``$inc``, so concurrent uploads cannot pass it) and
given back when the file is removed. Files a later request must put in use (chat attachments, verification
documents) are removed by the scheduled cleanup when nothing referenced them in time.
"""

from __future__ import annotations

import asyncio
import logging
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import timedelta
from pathlib import PurePosixPath, PureWindowsPath
from typing import Any, Literal

import aiohttp
from pymongo import ReturnDocument
from pymongo.errors import DuplicateKeyError

from documents.base import collection_of
from documents.stored_file import StoredFile
from documents.upload_usage import UploadUsage
from documents.user import User
from homer_rt.clock import Clock
from homer_rt.errors import (
    BadRequest,
    Forbidden,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    Unauthorized,
    UnsupportedMediaType,
    UpstreamError,
)
from homer_rt.metrics import Metrics
from homer_rt.ratelimit import SlidingWindowLimiter
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

PROFILES_AREA = "profiles"
PUBLIC_AREAS = ("properties", PROFILES_AREA)
VERIFICATION_AREA = "verification"
READ_CHUNK_BYTES = 64 * 1024
MAX_FILE_NAME_CHARS = 255
# Quota is reserved in steps of this much while a file streams in (one store update per step), and the
# unused rest of the last step is given back when the file is stored.
QUOTA_RESERVE_STEP_BYTES = 1024 * 1024
CLEANUP_BATCH = 200

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


class StorageQuota:
    """The bytes each user's uploads may occupy, reserved in upload_usage by conditional updates: the sum
    of everything reserved never passes the limit, however many uploads run at once."""

    def __init__(self, *, limit_bytes: int) -> None:
        self._limit = limit_bytes

    @property
    def limit_bytes(self) -> int:
        return self._limit

    async def reserve(self, user_id: str, size: int) -> bool:
        """Take ``size`` more bytes for ``user_id`` when they fit under the limit; False when they do not."""
        if size > self._limit:
            return False
        collection = collection_of(UploadUsage)
        room = {"_id": user_id, "bytes_used": {"$lte": self._limit - size}}
        take = {"$inc": {"bytes_used": size}}
        try:
            # A user's first upload creates their usage document. Once it exists without room, the upsert's
            # insert is what fails: the primary key refuses it.
            await collection.update_one(room, take, upsert=True)
            return True
        except DuplicateKeyError:
            # No room, or a concurrent first upload created the document just now: the plain update decides.
            taken = await collection.update_one(room, take)
            return taken.matched_count == 1

    async def release(self, user_id: str, size: int) -> None:
        if size > 0:
            await collection_of(UploadUsage).update_one({"_id": user_id}, {"$inc": {"bytes_used": -size}})

    async def used(self, user_id: str) -> int:
        row = await collection_of(UploadUsage).find_one({"_id": user_id}, projection={"bytes_used": 1})
        return int(row["bytes_used"]) if row else 0


class _Reservation:
    """The quota one upload holds while it streams in: taken a step ahead of the bytes read, trimmed to
    the file's size once it is stored, given back whole if it is not."""

    def __init__(self, *, quota: StorageQuota, user_id: str, max_bytes: int) -> None:
        self._quota = quota
        self._user_id = user_id
        self._max_bytes = max_bytes
        self.held = 0

    async def cover(self, total: int, file_name: str) -> None:
        needed = total - self.held
        if needed <= 0:
            return
        step = min(max(needed, QUOTA_RESERVE_STEP_BYTES), self._max_bytes - self.held)
        # A whole step may not fit where the file itself still does: then exactly what was read is asked.
        for size in (step, needed) if step > needed else (needed,):
            if await self._quota.reserve(self._user_id, size):
                self.held += size
                return
        limit_mb = self._quota.limit_bytes / (1024 * 1024)
        raise PayloadTooLarge(
            f"{file_name} does not fit in your upload storage ({limit_mb:g} MB per user); "
            "remove files you no longer need and try again",
            code="upload_quota_exceeded",
            extra={"quota_bytes": self._quota.limit_bytes},
        )

    async def keep(self, size: int) -> None:
        # Held is trimmed before the await: a cancellation during it must not give the surplus back twice.
        surplus, self.held = self.held - size, size
        await self._quota.release(self._user_id, surplus)

    async def give_back(self) -> None:
        held, self.held = self.held, 0
        await self._quota.release(self._user_id, held)


@dataclass(frozen=True, slots=True)
class ServedFile:
    file: StoredFile
    target: ServeTarget


class UploadService:
    def __init__(
        self,
        *,
        clock: Clock,
        storage: FileStorage,
        max_bytes: int,
        quota_bytes_per_user: int,
        uploads_per_hour: int,
        unreferenced_ttl: timedelta,
        metrics: Metrics,
    ) -> None:
        self._clock = clock
        self._storage = storage
        self._max_bytes = max_bytes
        self._quota = StorageQuota(limit_bytes=quota_bytes_per_user)
        self._uploads_per_hour = uploads_per_hour
        self._rate = SlidingWindowLimiter(
            limit=uploads_per_hour,
            window_seconds=3600,
            clock=clock,
            refused=metrics.refusal_counter("uploads_per_user"),
        )
        self._unreferenced_ttl = unreferenced_ttl
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

    @property
    def quota(self) -> StorageQuota:
        return self._quota

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
        referenced: bool,
    ) -> StoredFile:
        """Store one file. ``referenced``: the calling request itself puts the file in use (a listing's
        image, a profile photo); otherwise a later request must reference it (``reference``,
        ``reference_all``) within the grace period, or the cleanup removes it."""
        if area not in self._policies:
            raise ValueError(f"no upload area {area!r}")  # a programming error, not a client's
        if not is_safe_segment(owner_segment):
            raise BadRequest("Invalid upload owner", code="invalid_upload_path")
        wait = self._rate.try_acquire(uploader_id)
        if wait:
            raise RateLimited(
                f"Too many uploads: at most {self._uploads_per_hour} files an hour; try again in {wait} s",
                retry_after=wait,
            )
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
        reservation = _Reservation(quota=self._quota, user_id=uploader_id, max_bytes=self._max_bytes)
        try:
            try:
                size = await self._storage.put(
                    key,
                    self._capped(part, bytes(head), file_name, reservation),
                    content_type=detected.content_type,
                )
                if detected is DOCX and not await asyncio.to_thread(is_docx, await self._storage.read(key)):
                    await self._storage.delete(key)
                    raise UnsupportedMediaType(
                        f"{file_name} is a zip archive, not a Word document", code="unsupported_file_type"
                    )
            except StorageError as exc:
                log.error("storing %s failed: %s", key, exc)
                raise UpstreamError(
                    "File storage is unavailable, try again", code="storage_unavailable"
                ) from exc
            await reservation.keep(size)
            now = self._clock.now()
            record = StoredFile(
                url=upload_url(area, owner_segment, name),
                area=area,
                owner_segment=owner_segment,
                uploader_id=uploader_id,
                file_name=file_name,
                content_type=detected.content_type,
                size=size,
                storage_key=key,
                created_at=now,
                quota_bytes=size,
                unreferenced_since=None if referenced else now,
            )
            try:
                await record.insert()
            except BaseException:
                await self._delete_quietly(key)
                raise
        except BaseException:
            await reservation.give_back()
            raise
        return record

    def _too_large(self, file_name: str) -> PayloadTooLarge:
        limit_mb = self._max_bytes / (1024 * 1024)
        return PayloadTooLarge(f"{file_name} is larger than {limit_mb:g} MB", code="file_too_large")

    async def _capped(
        self, part: aiohttp.BodyPartReader, head: bytes, file_name: str, reservation: _Reservation
    ) -> AsyncIterator[bytes]:
        """The part's bytes, failing as soon as they pass the size cap or the uploader's quota: the rest is
        never read into memory."""
        total = len(head)
        await reservation.cover(total, file_name)
        yield head
        while True:
            chunk = await _read_chunk(part)
            if not chunk:
                return
            total += len(chunk)
            if total > self._max_bytes:
                raise self._too_large(file_name)
            await reservation.cover(total, file_name)
            yield chunk

    async def find_owned(self, *, url: str, uploader_id: str) -> StoredFile | None:
        found: StoredFile | None = await StoredFile.find_one({"url": url, "uploader_id": uploader_id})
        return found

    async def find(self, *, url: str) -> StoredFile | None:
        found: StoredFile | None = await StoredFile.find_one({"url": url})
        return found

    # ---- references and removal ---------------------------------------------------------------------

    async def reference(self, *, url: str, uploader_id: str, area: str) -> StoredFile | None:
        """The uploader's file at ``url`` in ``area``, marked in use (atomically, and idempotent: marking it
        again changes nothing); None when there is no such file, or the cleanup removed it."""
        raw = await collection_of(StoredFile).find_one_and_update(
            {"url": url, "uploader_id": uploader_id, "area": area},
            {"$set": {"unreferenced_since": None}},
            return_document=ReturnDocument.AFTER,
        )
        return StoredFile.model_validate(raw) if raw is not None else None

    async def reference_all(
        self, *, urls: Collection[str], uploader_id: str, area: str, owner_segment: str
    ) -> bool:
        """Mark the uploader's files at ``urls`` (all in one area and owner folder) in use; False, marking
        what it found, when any of them is not such a file."""
        distinct = set(urls)
        marked = await collection_of(StoredFile).update_many(
            {
                "url": {"$in": list(distinct)},
                "uploader_id": uploader_id,
                "area": area,
                "owner_segment": owner_segment,
            },
            {"$set": {"unreferenced_since": None}},
        )
        return marked.matched_count == len(distinct)

    async def discard(self, file: StoredFile) -> None:
        """Remove a stored file and its record (a listing's deleted image, a failed batch)."""
        await self._remove({"_id": file.id})

    async def remove_unreferenced(self) -> int:
        """The scheduled cleanup: remove every file nothing referenced within the grace period (from its
        upload). A file referenced meanwhile is left alone, whichever update comes first."""
        cutoff = self._clock.now() - self._unreferenced_ttl
        return await self._remove_matching({"unreferenced_since": {"$lte": cutoff}})

    async def remove_all_of(self, *, uploader_id: str, areas: Collection[str]) -> int:
        """Remove everything ``uploader_id`` stored in ``areas`` (a deleted user's documents and photo)."""
        return await self._remove_matching({"uploader_id": uploader_id, "area": {"$in": list(areas)}})

    async def _remove_matching(self, query: Mapping[str, Any]) -> int:
        removed = 0
        while True:
            batch = await collection_of(StoredFile).find(query, projection={"_id": 1}).to_list(CLEANUP_BATCH)
            for row in batch:
                # The query again, with the id: a file that stopped matching since the find is left alone.
                if await self._remove({**query, "_id": row["_id"]}):
                    removed += 1
            if len(batch) < CLEANUP_BATCH:
                return removed

    async def _remove(self, query: Mapping[str, Any]) -> bool:
        """Remove the record matching ``query``, then give back its quota and delete its bytes. The record
        goes first, in one atomic step: from then on the file is not served, not referenced, and not
        removed twice. (A crash before the rest leaves bytes stored and counted: never the reverse.)"""
        raw = await collection_of(StoredFile).find_one_and_delete(dict(query))
        if raw is None:
            return False
        file = StoredFile.model_validate(raw)
        await self._quota.release(file.uploader_id, file.quota_bytes)
        await self._delete_quietly(file.storage_key)
        return True

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
