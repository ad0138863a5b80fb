"""What every part of the upload service shares: its dependencies, the areas' access policies, finding a
stored file's record, and the storage backend the settings choose."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from documents.stored_file import StoredFile
from documents.user import User
from homer_rt.clock import Clock
from homer_rt.metrics import Metrics
from homer_rt.ratelimit import SlidingWindowLimiter
from homer_rt.services.uploads.areas import (
    PUBLIC_AREAS,
    VERIFICATION_AREA,
    AccessPolicy,
    is_safe_segment,
    public_policy,
    uploader_or_admin_policy,
)
from homer_rt.services.uploads.quota import StorageQuota
from homer_rt.settings import Settings
from storage.base import FileStorage, StorageError
from storage.local import LocalStorage
from storage.s3 import S3Storage

log = logging.getLogger(__name__)


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


class UploadCore:
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

    async def find_owned(self, *, url: str, uploader_id: str) -> StoredFile | None:
        found: StoredFile | None = await StoredFile.find_one({"url": url, "uploader_id": uploader_id})
        return found

    async def find(self, *, url: str) -> StoredFile | None:
        found: StoredFile | None = await StoredFile.find_one({"url": url})
        return found

    async def _delete_quietly(self, key: str) -> None:
        try:
            await self._storage.delete(key)
        except StorageError as exc:
            # The record goes regardless; an orphaned object costs bytes, not correctness.
            log.warning("could not delete stored object %s: %s", key, exc)
