"""The upload_usage collection: the bytes each user's stored uploads occupy, one document per user.

Kept apart from the user document so storage accounting never races profile or session updates. Bytes are
reserved with a conditional ``$inc`` while a file streams in and released when it is removed, so the sum
of concurrent uploads cannot pass the quota (homer_rt/services/uploads/quota.py, StorageQuota).
"""

from __future__ import annotations

from beanie import Document
from pydantic import Field
from pymongo.errors import DuplicateKeyError

from documents.base import collection_of


class UploadUsage(Document):
    id: str = Field()  # type: ignore[assignment]  # the uploader's user id
    bytes_used: int = 0

    class Settings:
        name = "upload_usage"

    # ------------------------------------------------------------------ guarded operations

    @classmethod
    async def reserve(cls, user_id: str, size: int, *, limit: int) -> bool:
        """Take ``size`` more bytes for ``user_id`` when they fit under ``limit``; False when they do not.

        Guard: ``bytes_used <= limit - size``, so the sum of concurrent reservations never passes the limit.
        """
        if size > limit:
            return False  # an upsert would store it regardless
        collection = collection_of(cls)
        room = {"_id": user_id, "bytes_used": {"$lte": limit - size}}
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

    @classmethod
    async def release(cls, user_id: str, size: int) -> None:
        """Give back ``size`` bytes (a removed file's, or what a reservation did not use)."""
        if size > 0:
            await collection_of(cls).update_one({"_id": user_id}, {"$inc": {"bytes_used": -size}})

    @classmethod
    async def used_by(cls, user_id: str) -> int:
        row = await collection_of(cls).find_one({"_id": user_id}, projection={"bytes_used": 1})
        return int(row["bytes_used"]) if row else 0
