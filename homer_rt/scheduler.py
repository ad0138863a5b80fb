"""The one scheduler for background work (design.md, "Background work").

Jobs are registered by name with an interval. Each has a document in scheduled_jobs with its due time.
A scheduler runs a job only after claiming it with one atomic update (due, and no other scheduler's
lease alive), so any number of processes can run schedulers over one store and each period's run
happens once. The due time moves on only when a run ends: a run whose process died keeps its lease until
the lease expires, and then the job, still due, runs again, which is why every job must be idempotent.

Time comes from the injectable clock. The loop only decides how often to look: tests move the clock and
call ``tick()`` themselves, and never sleep.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from aiohttp import web

from documents.job import ScheduledJob
from homer_rt.clock import Clock

log = logging.getLogger(__name__)

# Longer than any job's run: a lease that expires while its run goes on lets a second run start.
DEFAULT_LEASE = timedelta(minutes=15)
MAX_ERROR_CHARS = 500


@dataclass(frozen=True, slots=True)
class RecurringJob:
    name: str
    interval: timedelta
    run: Callable[[], Awaitable[object]]
    lease: timedelta


class Scheduler:
    def __init__(self, *, clock: Clock, poll_seconds: float, worker_id: str | None = None) -> None:
        self._clock = clock
        self._poll_seconds = poll_seconds
        # Who holds a lease, for operators reading scheduled_jobs; claims are told apart by lease_id.
        self.worker_id = worker_id or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
        self._jobs: dict[str, RecurringJob] = {}
        self._documented: set[str] = set()

    @property
    def job_names(self) -> list[str]:
        return list(self._jobs)

    def every(
        self,
        name: str,
        interval: timedelta,
        run: Callable[[], Awaitable[object]],
        *,
        lease: timedelta = DEFAULT_LEASE,
    ) -> None:
        """Run ``run`` once per ``interval`` across every scheduler on the store, first at the first tick."""
        if name in self._jobs:
            raise ValueError(f"job {name!r} is already registered")
        if interval <= timedelta(0) or lease <= timedelta(0):
            raise ValueError("a job's interval and lease must be positive")
        self._jobs[name] = RecurringJob(name=name, interval=interval, run=run, lease=lease)

    async def tick(self) -> list[str]:
        """Run every registered job that is due and not held by another scheduler, one after another;
        the names of the jobs this call ran."""
        ran = []
        for job in list(self._jobs.values()):
            if await self._run_if_due(job):
                ran.append(job.name)
        return ran

    async def run_forever(self) -> None:
        while True:
            await asyncio.sleep(self._poll_seconds)
            try:
                await self.tick()
            except asyncio.CancelledError:
                raise
            except Exception:  # the store was unreachable: the next tick tries again
                log.exception("scheduler tick failed")

    async def cleanup_ctx(self, app: web.Application) -> AsyncIterator[None]:
        """Runs the loop while the app runs (after the store is open, so register it after the store's)."""
        task = asyncio.create_task(self.run_forever(), name="scheduler")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    async def _run_if_due(self, job: RecurringJob) -> bool:
        await self._ensure_document(job)
        started = self._clock.now()
        lease_id = await self._claim(job, started)
        if lease_id is None:
            return False
        error: str | None = None
        try:
            await job.run()
        except asyncio.CancelledError:
            # Shutting down mid-run: give the job back at once (its due time unchanged) rather than leave
            # it held until the lease expires.
            with contextlib.suppress(Exception):
                await self._release(job, lease_id)
            raise
        except Exception as exc:
            log.exception("scheduled job %s failed", job.name)
            error = f"{type(exc).__name__}: {exc}"[:MAX_ERROR_CHARS]
        await self._finish(job, lease_id, next_due=started + job.interval, error=error)
        return True

    async def _ensure_document(self, job: RecurringJob) -> None:
        """The job's document, due now, unless another scheduler (or an earlier run) created it."""
        if job.name in self._documented:
            return
        await ScheduledJob.ensure(job.name, due_at=self._clock.now())
        self._documented.add(job.name)

    async def _claim(self, job: RecurringJob, now: datetime) -> str | None:
        lease_id = uuid.uuid4().hex
        claimed = await ScheduledJob.claim(
            job.name, lease_id=lease_id, worker_id=self.worker_id, now=now, lease_expires_at=now + job.lease
        )
        return lease_id if claimed else None

    async def _finish(
        self, job: RecurringJob, lease_id: str, *, next_due: datetime, error: str | None
    ) -> None:
        # Guarded on the lease: a run that outlived its lease must not overwrite the run that took over.
        await ScheduledJob.finish(
            job.name, lease_id=lease_id, next_due=next_due, finished_at=self._clock.now(), error=error
        )

    async def _release(self, job: RecurringJob, lease_id: str) -> None:
        await ScheduledJob.release(job.name, lease_id=lease_id)
