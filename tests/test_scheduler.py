"""The background scheduler: each job runs once per period whichever of several schedulers looks, a run
that died is run again once its lease expires, and time is the injected clock's (no test sleeps)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from aiohttp.test_utils import TestClient

from documents.base import collection_of
from documents.job import ScheduledJob
from homer_rt.appkeys import SCHEDULER
from homer_rt.clock import AdjustableClock
from homer_rt.scheduler import DEFAULT_LEASE, Scheduler

HOUR = timedelta(hours=1)


class CountingJob:
    def __init__(self) -> None:
        self.runs = 0

    async def __call__(self) -> None:
        self.runs += 1


def scheduler_with(clock: AdjustableClock, job: Any, name: str = "count", worker: str = "a") -> Scheduler:
    scheduler = Scheduler(clock=clock, poll_seconds=3600, worker_id=worker)
    scheduler.every(name, HOUR, job)
    return scheduler


async def test_a_job_runs_at_the_first_tick_then_once_per_interval(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    job = CountingJob()
    scheduler = scheduler_with(clock, job)
    assert await scheduler.tick() == ["count"]
    assert await scheduler.tick() == []
    clock.advance(timedelta(minutes=59))
    assert await scheduler.tick() == []
    clock.advance(timedelta(minutes=2))
    assert await scheduler.tick() == ["count"]
    assert job.runs == 2
    stored = await ScheduledJob.get("count")
    assert stored is not None and stored.runs == 2 and stored.last_error is None


async def test_schedulers_sharing_a_store_run_each_period_once(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    job = CountingJob()
    schedulers = [scheduler_with(clock, job, worker=name) for name in "abc"]
    for _ in range(3):
        ran = await asyncio.gather(*(s.tick() for s in schedulers))
        assert sorted(name for names in ran for name in names) == ["count"]
        clock.advance(HOUR)
    assert job.runs == 3


async def test_a_run_that_died_is_run_again_when_its_lease_expires(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    job = CountingJob()
    survivor = scheduler_with(clock, job, worker="survivor")
    assert await survivor.tick() == ["count"]
    clock.advance(HOUR)
    # Another process claimed the due job and died mid-run: its lease stays, the due time does not move.
    await collection_of(ScheduledJob).update_one(
        {"_id": "count"},
        {"$set": {"lease_id": "lost", "leased_by": "dead", "lease_expires_at": clock.now() + DEFAULT_LEASE}},
    )
    assert await survivor.tick() == []
    clock.advance(DEFAULT_LEASE + timedelta(seconds=1))
    assert await survivor.tick() == ["count"]
    stored = await ScheduledJob.get("count")
    assert stored is not None and stored.lease_id is None and job.runs == 2


async def test_a_failing_job_is_recorded_and_tried_next_period(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    attempts: list[int] = []

    async def flaky() -> None:
        attempts.append(1)
        if len(attempts) == 1:
            raise RuntimeError("storage unreachable")

    scheduler = scheduler_with(clock, flaky, name="flaky")
    assert await scheduler.tick() == ["flaky"]
    stored = await ScheduledJob.get("flaky")
    assert stored is not None and stored.last_error == "RuntimeError: storage unreachable"
    assert stored.lease_id is None
    assert await scheduler.tick() == []
    clock.advance(HOUR)
    assert await scheduler.tick() == ["flaky"]
    stored = await ScheduledJob.get("flaky")
    assert stored is not None and stored.last_error is None and len(attempts) == 2


async def test_stopping_mid_run_hands_the_job_back_at_once(
    client: TestClient[Any, Any], clock: AdjustableClock
) -> None:
    started = asyncio.Event()

    async def endless() -> None:
        started.set()
        await asyncio.Event().wait()

    stopping = scheduler_with(clock, endless, name="long", worker="stopping")
    tick = asyncio.create_task(stopping.tick())
    await started.wait()
    tick.cancel()
    await asyncio.gather(tick, return_exceptions=True)
    other = CountingJob()
    assert await scheduler_with(clock, other, name="long", worker="other").tick() == ["long"]
    assert other.runs == 1


async def test_the_app_runs_its_scheduler_while_it_runs(client: TestClient[Any, Any]) -> None:
    assert set(client.app[SCHEDULER].job_names) == {"subscription-reminders", "upload-cleanup"}
    assert any(task.get_name() == "scheduler" and not task.done() for task in asyncio.all_tasks())
