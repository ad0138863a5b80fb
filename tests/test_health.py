"""``/api/health/live`` and ``/api/health/ready``: what an orchestrator or a load balancer asks a process.

Live answers while the process serves, whatever its dependencies do. Ready is 503 while starting, while
draining after SIGTERM (test_graceful_shutdown), and while the store, Redis (when configured) or file storage
does not answer, with each check's outcome; a burst of probes runs the checks once.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from aiohttp.test_utils import TestClient

from homer_rt.app import create_app
from homer_rt.appkeys import READINESS, STORE
from homer_rt.clock import AdjustableClock
from homer_rt.readiness import Phase
from tests.factories import ClientFactory, make_settings
from tests.server_support import REDIS_URL


async def _ready(client: TestClient[Any, Any]) -> tuple[int, dict[str, Any]]:
    response = await client.get("/api/health/ready")
    return response.status, await response.json()


async def test_a_serving_process_with_its_dependencies_is_ready(client: TestClient[Any, Any]) -> None:
    status, body = await _ready(client)
    assert status == 200
    # No REDIS_URL here: Redis is not a dependency, so it is not checked.
    assert body == {
        "status": "ready",
        "phase": "serving",
        "checks": {"store": {"ok": True}, "storage": {"ok": True}},
    }
    live = await client.get("/api/health/live")
    assert live.status == 200 and await live.json() == {"status": "alive"}


async def test_a_process_is_not_ready_until_it_has_started(tmp_path: Path) -> None:
    # Over HTTP this cannot be seen (the server listens once started), so the app's readiness is asked.
    app = create_app(make_settings(tmp_path))
    report = await app[READINESS].report()
    assert report.phase is Phase.STARTING and not report.ready
    assert report.view()["checks"]["store"] == {"ok": False, "detail": "not open yet"}


async def test_a_store_that_does_not_answer_makes_the_process_unready_but_alive(
    client: TestClient[Any, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def no_answer() -> bool:
        return False

    monkeypatch.setattr(client.app[STORE], "ping", no_answer)
    status, body = await _ready(client)
    assert status == 503
    assert body["status"] == "not_ready" and body["phase"] == "serving"
    assert body["checks"]["store"] == {"ok": False, "detail": "does not answer"}
    assert body["checks"]["storage"] == {"ok": True}
    # Liveness asks nothing of the store: an orchestrator does not restart a process for its database.
    assert (await client.get("/api/health/live")).status == 200


async def test_a_check_that_hangs_fails_after_its_timeout(
    aiohttp_client: ClientFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = await aiohttp_client(create_app(make_settings(tmp_path, readiness_check_timeout_seconds=0.05)))

    async def hangs() -> bool:
        await asyncio.Event().wait()
        return True

    monkeypatch.setattr(client.app[STORE], "ping", hangs)
    status, body = await _ready(client)
    assert status == 503
    assert body["checks"]["store"] == {"ok": False, "detail": "no answer within 0.05 s"}


async def test_an_upload_directory_that_cannot_be_written_makes_the_process_unready(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    client = await aiohttp_client(create_app(make_settings(tmp_path, upload_dir=blocker / "uploads")))
    status, body = await _ready(client)
    assert status == 503
    assert body["checks"]["storage"] == {
        "ok": False,
        "detail": "the upload directory is not writable (Not a directory)",
    }
    assert body["checks"]["store"] == {"ok": True}


async def test_redis_is_checked_when_configured(
    redis_available: None, aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    client = await aiohttp_client(create_app(make_settings(tmp_path, redis_url=REDIS_URL)))
    status, body = await _ready(client)
    assert status == 200
    assert body["checks"]["redis"] == {"ok": True}


async def test_a_redis_that_does_not_answer_makes_the_process_unready(
    aiohttp_client: ClientFactory, tmp_path: Path
) -> None:
    # Port 1 on 127.0.0.1: nothing listens, the connection is refused at once.
    client = await aiohttp_client(create_app(make_settings(tmp_path, redis_url="redis://127.0.0.1:1/0")))
    status, body = await _ready(client)
    assert status == 503
    # The error's class, not its text: readiness is public and the text names hosts.
    assert body["checks"]["redis"] == {"ok": False, "detail": "failed (ConnectionError)"}
    assert body["checks"]["store"] == {"ok": True}


async def test_a_burst_of_probes_runs_the_checks_once(
    client: TestClient[Any, Any], clock: AdjustableClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = client.app[STORE]
    real_ping = store.ping
    pings = 0
    started, release = asyncio.Event(), asyncio.Event()

    async def slow_ping() -> bool:
        nonlocal pings
        pings += 1
        started.set()
        await release.wait()
        answered: bool = await real_ping()
        return answered

    monkeypatch.setattr(store, "ping", slow_ping)
    probes = [asyncio.create_task(_ready(client)) for _ in range(20)]
    await started.wait()  # the first probe's round is under way and held: the others wait for it
    release.set()
    assert [status for status, _ in await asyncio.gather(*probes)] == [200] * 20
    assert pings == 1

    await _ready(client)  # within READINESS_CACHE_SECONDS: the same round answers
    assert pings == 1
    clock.advance(timedelta(seconds=2))
    await _ready(client)
    assert pings == 2
