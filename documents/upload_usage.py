"""The upload_usage collection: the bytes each user's stored uploads occupy, one document per user.

Kept apart from the user document so storage accounting never races profile or session updates. Bytes are
reserved with a conditional ``$inc`` while a file streams in and released when it is removed, so the sum
of concurrent uploads cannot pass the quota (homer_rt/services/uploads/quota.py, StorageQuota).
"""

from __future__ import annotations

from beanie import Document
from pydantic import Field


class UploadUsage(Document):
    id: str = Field()  # type: ignore[assignment]  # the uploader's user id
    bytes_used: int = 0

    class Settings:
        name = "upload_usage"
