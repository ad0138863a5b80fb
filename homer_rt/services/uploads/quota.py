"""Each user's upload storage quota, reserved in the store while a file streams in."""

from __future__ import annotations

from documents.upload_usage import UploadUsage
from homer_rt.errors import PayloadTooLarge

# Quota is reserved in steps of this much while a file streams in (one store update per step), and the
# unused rest of the last step is given back when the file is stored.
QUOTA_RESERVE_STEP_BYTES = 1024 * 1024


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
        return await UploadUsage.reserve(user_id, size, limit=self._limit)

    async def release(self, user_id: str, size: int) -> None:
        await UploadUsage.release(user_id, size)

    async def used(self, user_id: str) -> int:
        return await UploadUsage.used_by(user_id)


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
