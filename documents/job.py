"""The scheduled_jobs collection: one document per recurring background job, named by the job.

A scheduler claims a job by one atomic update of its document (``due_at`` passed, no live lease), so
several processes running the scheduler run each job once per period. See homer_rt/scheduler.py.
"""

from __future__ import annotations

from datetime import datetime

from beanie import Document
from pydantic import Field


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
