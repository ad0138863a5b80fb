"""The scheduled_jobs collection: one document per recurring background job, named by the job.

A scheduler claims a job by one atomic update of its document (``due_at`` passed, no live lease), so
several processes running the scheduler run each job once per period. See homer_rt/scheduler.py.
"""

from __future__ import annotations

import contextlib
from datetime import datetime

from beanie import Document
from pydantic import Field
from pymongo.errors import DuplicateKeyError

from documents.base import collection_of


class ScheduledJob(Document):
    id: str = Field()  # type: ignore[assignment]  # the job's registered name, e.g. "upload-cleanup"
    due_at: datetime
    # Held while a scheduler runs the job. A run that dies keeps it until it expires; then the job, still
    # due, is claimed and run again (every job is idempotent).
    lease_id: str | None = None
    leased_by: str | None = None
    lease_expires_at: datetime | None = None
    last_started_at: datetime | None = None
    last_finished_at: datetime | None = None
    last_error: str | None = None
    runs: int = 0  # completed runs, failed ones included

    class Settings:
        name = "scheduled_jobs"

    # ------------------------------------------------------------------ guarded operations

    @classmethod
    async def ensure(cls, name: str, *, due_at: datetime) -> None:
        """The job's document, due at ``due_at``, unless it exists already.

        Guard: ``$setOnInsert`` with an upsert on the name, so an existing job keeps its due time and runs;
        of two schedulers creating it at once, one insert wins (the other's duplicate key is ignored).
        """
        with contextlib.suppress(DuplicateKeyError):
            await collection_of(cls).update_one(
                {"_id": name}, {"$setOnInsert": {"due_at": due_at, "runs": 0}}, upsert=True
            )

    @classmethod
    async def claim(
        cls, name: str, *, lease_id: str, worker_id: str, now: datetime, lease_expires_at: datetime
    ) -> bool:
        """Lease the job to run it now; False when it is not due or another scheduler holds a live lease.

        Guard: due (``due_at <= now``) and no live lease (none, or expired), so of the schedulers looking at
        once exactly one runs each period's run.
        """
        claimed = await collection_of(cls).find_one_and_update(
            {
                "_id": name,
                "due_at": {"$lte": now},
                "$or": [{"lease_expires_at": None}, {"lease_expires_at": {"$lte": now}}],
            },
            {
                "$set": {
                    "lease_id": lease_id,
                    "leased_by": worker_id,
                    "lease_expires_at": lease_expires_at,
                    "last_started_at": now,
                }
            },
            projection={"_id": 1},
        )
        return claimed is not None

    @classmethod
    async def finish(
        cls, name: str, *, lease_id: str, next_due: datetime, finished_at: datetime, error: str | None
    ) -> None:
        """The leased run ended (with ``error`` when it failed): due again at ``next_due``, one run more.

        Guard: still this lease, so a run that outlived its lease never overwrites the run that took over.
        """
        await collection_of(cls).update_one(
            {"_id": name, "lease_id": lease_id},
            {
                "$set": {
                    "due_at": next_due,
                    "lease_id": None,
                    "leased_by": None,
                    "lease_expires_at": None,
                    "last_finished_at": finished_at,
                    "last_error": error,
                },
                "$inc": {"runs": 1},
            },
        )

    @classmethod
    async def release(cls, name: str, *, lease_id: str) -> None:
        """Give the lease back without a run (shutting down mid-run): the job stays due as it was.

        Guard: still this lease, as ``finish``.
        """
        await collection_of(cls).update_one(
            {"_id": name, "lease_id": lease_id},
            {"$set": {"lease_id": None, "leased_by": None, "lease_expires_at": None}},
        )
