"""References and removal: a stored file is put in use by the request that references it, and removed (its
record, its quota, its bytes) when discarded or when nothing referenced it in time."""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

from documents.base import collection_of
from documents.stored_file import StoredFile
from homer_rt.services.uploads.core import UploadCore

CLEANUP_BATCH = 200


class UploadCleanup(UploadCore):
    # ---- references and removal ---------------------------------------------------------------------

    async def reference(self, *, url: str, uploader_id: str, area: str) -> StoredFile | None:
        """The uploader's file at ``url`` in ``area``, marked in use (atomically, and idempotent: marking it
        again changes nothing); None when there is no such file, or the cleanup removed it."""
        return await StoredFile.mark_referenced(url, uploader_id=uploader_id, area=area)

    async def reference_all(
        self, *, urls: Collection[str], uploader_id: str, area: str, owner_segment: str
    ) -> bool:
        """Mark the uploader's files at ``urls`` (all in one area and owner folder) in use; False, marking
        what it found, when any of them is not such a file."""
        distinct = set(urls)
        marked = await StoredFile.mark_all_referenced(
            distinct, uploader_id=uploader_id, area=area, owner_segment=owner_segment
        )
        return marked == len(distinct)

    async def discard(self, file: StoredFile) -> None:
        """Remove a stored file and its record (a listing's deleted image, a failed batch)."""
        await self._remove(file.id)

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
                if await self._remove(row["_id"], still_matching=query):
                    removed += 1
            if len(batch) < CLEANUP_BATCH:
                return removed

    async def _remove(self, file_id: str, *, still_matching: Mapping[str, Any] | None = None) -> bool:
        """Remove the file's record (if it still matches ``still_matching``), then give back its quota and
        delete its bytes. The record goes first, in one atomic step: from then on the file is not served, not
        referenced, and not removed twice. (A crash before the rest leaves bytes stored and counted: never
        the reverse.)"""
        file = await StoredFile.remove_record(file_id, still_matching=still_matching)
        if file is None:
            return False
        await self._quota.release(file.uploader_id, file.quota_bytes)
        await self._delete_quietly(file.storage_key)
        return True
