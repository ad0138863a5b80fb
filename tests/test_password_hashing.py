"""bcrypt never competes with chat for the CPU, and a login storm is refused quickly instead of queueing."""

from __future__ import annotations

import asyncio
import os
import sys
import threading
from pathlib import Path
from typing import Any

from homer_rt.app import create_app
from homer_rt.clock import AdjustableClock
from homer_rt.errors import ServiceUnavailable
from homer_rt.security import PasswordHasher
from tests.factories import PASSWORD, make_settings, register


async def test_hashes_run_off_the_loop_on_a_lowest_priority_thread() -> None:
    hasher = PasswordHasher(rounds=4)
    try:
        hashed = await hasher.hash(PASSWORD)
        assert await hasher.verify(PASSWORD, hashed)
        assert not await hasher.verify("wrong-password", hashed)
        workers = [t for t in threading.enumerate() if t.name.startswith("bcrypt") and t.is_alive()]
        assert workers
        if sys.platform.startswith("linux"):
            for worker in workers:
                assert worker.native_id is not None
                assert os.getpriority(os.PRIO_PROCESS, worker.native_id) == 19
    finally:
        hasher.close()


async def test_hashes_beyond_the_queue_limit_are_refused_at_once() -> None:
    hasher = PasswordHasher(rounds=10, max_pending=2, max_pending_new_passwords=2)
    try:
        stored = await hasher.hash(PASSWORD)
        for work in (lambda: hasher.hash(PASSWORD), lambda: hasher.verify(PASSWORD, stored)):
            results = await asyncio.gather(*(work() for _ in range(3)), return_exceptions=True)
            refused = [r for r in results if isinstance(r, ServiceUnavailable)]
            assert len(refused) == 1
            assert refused[0].retry_after
            assert sum(not isinstance(r, BaseException) for r in results) == 2
    finally:
        hasher.close()


async def test_new_passwords_queue_apart_from_sign_ins() -> None:
    hasher = PasswordHasher(rounds=10, max_pending=2, max_pending_new_passwords=2)
    try:
        stored = await hasher.hash(PASSWORD)
        # A full queue of new passwords (registrations) refuses the next one, never a sign-in.
        results = await asyncio.gather(
            *(hasher.hash(PASSWORD) for _ in range(3)),
            *(hasher.verify(PASSWORD, stored) for _ in range(2)),
            return_exceptions=True,
        )
        assert [type(r) for r in results[3:]] == [bool, bool]
        assert sum(isinstance(r, ServiceUnavailable) for r in results[:3]) == 1
    finally:
        hasher.close()


async def test_a_login_storm_gets_503_with_retry_after(tmp_path: Path, aiohttp_client: Any) -> None:
    settings = make_settings(tmp_path, bcrypt_rounds=12, bcrypt_max_pending=1)
    client = await aiohttp_client(create_app(settings, clock=AdjustableClock()))
    user = await register(client)
    responses = await asyncio.gather(
        *(
            client.post("/api/auth/login", json={"email": user["email"], "password": PASSWORD})
            for _ in range(4)
        )
    )
    statuses = sorted(r.status for r in responses)
    assert statuses[0] == 200
    busy = [r for r in responses if r.status == 503]
    assert busy, statuses
    assert int(busy[0].headers["Retry-After"]) > 0
    assert "try again" in (await busy[0].json())["detail"]
