"""Serving a stored file: the area's access check, then the storage backend's answer (a local file or a
presigned URL)."""

from __future__ import annotations

from dataclasses import dataclass

from documents.stored_file import StoredFile
from documents.user import User
from homer_rt.errors import BadRequest, Forbidden, NotFound, Unauthorized, UpstreamError
from homer_rt.services.uploads.areas import PUBLIC_AREAS, is_safe_segment, upload_url
from homer_rt.services.uploads.core import UploadCore
from storage.base import ServeTarget, StorageError, StoredObjectMissing, attachment_disposition


@dataclass(frozen=True, slots=True)
class ServedFile:
    file: StoredFile
    target: ServeTarget


class UploadServing(UploadCore):
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
