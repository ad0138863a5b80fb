"""Storing an upload: streamed into storage under the size cap and the uploader's quota, its type checked
from its first bytes, then recorded."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Literal

import aiohttp

from documents.stored_file import StoredFile
from homer_rt.errors import BadRequest, PayloadTooLarge, RateLimited, UnsupportedMediaType, UpstreamError
from homer_rt.services.uploads.areas import client_file_name, is_safe_segment, upload_url
from homer_rt.services.uploads.core import UploadCore, log
from homer_rt.services.uploads.quota import _Reservation
from storage.base import StorageError
from storage.sniff import ALLOWED, DOCX, SNIFF_BYTES, describe, is_docx, sniff

READ_CHUNK_BYTES = 64 * 1024


async def _read_chunk(part: aiohttp.BodyPartReader) -> bytes:
    try:
        return await part.read_chunk(READ_CHUNK_BYTES)
    except ValueError as exc:  # aiohttp's word for a body that ends before its closing boundary
        raise BadRequest("Malformed or truncated multipart body", code="malformed_multipart") from exc


class UploadSaving(UploadCore):
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
