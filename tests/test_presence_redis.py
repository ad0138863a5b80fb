"""Presence shared through a real Redis: two registries stand for two server processes serving one user."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from aiohttp import web

from homer_rt.clock import AdjustableClock
from homer_rt.presence import Presence, RedisPresence
from tests.server_support import REDIS_URL

TTL = 30.0
# Two registries on one Redis stand for two server processes; the clock scores their connections.
Processes = tuple[RedisPresence, RedisPresence, AdjustableClock]
USER = "user-1"


@pytest.fixture
async def processes(redis_available: None) -> AsyncIterator[Processes]:
    clock = AdjustableClock()
    prefix = f"homer-test-{uuid.uuid4().hex}"
    first, second = (
        RedisPresence.from_url(REDIS_URL, clock=clock, key_prefix=prefix, ttl_seconds=TTL) for _ in range(2)
    )
    yield first, second, clock
    for registry in (first, second):
        await registry._client.delete(registry._connections_key(USER), registry._last_seen_key(USER))
        await registry._client.aclose()


async def test_a_user_is_online_while_any_process_holds_a_connection(
    processes: Processes,
) -> None:
    first, second, clock = processes
    assert (await first.presence(USER)).online is False

    assert await first.opened(user_id=USER, sid="phone") is True  # came online: announced
    assert await second.opened(user_id=USER, sid="laptop") is False  # already online elsewhere
    assert (await second.presence(USER)).online is True
    assert (await first.presence(USER)).last_seen is None

    assert await first.closed(user_id=USER, sid="phone") is None  # the laptop is still connected
    assert (await first.presence(USER)).online is True

    clock.advance(timedelta(seconds=5))
    went_offline_at = await second.closed(user_id=USER, sid="laptop")  # the last one: announced offline
    assert went_offline_at is not None and abs((went_offline_at - clock.now()).total_seconds()) < 1
    seen = await first.presence(USER)
    assert seen.online is False and seen.last_seen is not None
    assert abs((seen.last_seen - went_offline_at).total_seconds()) < 0.001


async def test_connections_opening_at_once_on_two_processes_announce_the_user_once(
    processes: Processes,
) -> None:
    first, second, _ = processes
    came_online = await asyncio.gather(
        *((first if index % 2 else second).opened(user_id=USER, sid=f"tab-{index}") for index in range(20))
    )
    assert came_online.count(True) == 1
    went_offline = await asyncio.gather(
        *((first if index % 2 else second).closed(user_id=USER, sid=f"tab-{index}") for index in range(20))
    )
    assert sum(moment is not None for moment in went_offline) == 1
    assert (await first.presence(USER)).online is False


async def test_a_dead_process_stops_holding_its_users_online_after_the_ttl(
    processes: Processes,
) -> None:
    first, second, clock = processes
    await first.opened(user_id=USER, sid="phone")
    await second.opened(user_id=USER, sid="laptop")

    # The second process keeps renewing its connection; the first died without closing its socket.
    for _ in range(3):
        clock.advance(timedelta(seconds=TTL * 2 / 3))
        await second.renew()
    assert (await first.presence(USER)).online is True  # the laptop, renewed
    assert await second.closed(user_id=USER, sid="laptop") is not None  # the phone's entry has lapsed
    assert (await second.presence(USER)).online is False

    # Coming back on a live process announces the user online again.
    assert await second.opened(user_id=USER, sid="laptop-2") is True


async def test_renewing_does_not_bring_back_a_closed_connection(
    processes: Processes,
) -> None:
    first, _, _ = processes
    await first.opened(user_id=USER, sid="phone")
    beat = {USER: {"phone"}}  # a beat taken while the phone was open, reaching Redis after its close
    await first.closed(user_id=USER, sid="phone")
    await first.renew_connections(beat)
    assert (await first.presence(USER)).online is False


async def test_renewing_restores_connections_redis_lost(processes: Processes) -> None:
    first, second, _ = processes
    await first.opened(user_id=USER, sid="phone")
    await first._client.delete(first._connections_key(USER))  # a Redis restart without persistence
    assert (await second.presence(USER)).online is False
    await first.renew()
    assert (await second.presence(USER)).online is True


async def test_a_crashed_process_leaves_the_time_of_its_last_beat_as_last_seen(processes: Processes) -> None:
    first, second, clock = processes
    await first.opened(user_id=USER, sid="phone")
    clock.advance(timedelta(seconds=TTL / 3))
    await first.renew()
    last_beat = clock.now()
    clock.advance(timedelta(seconds=TTL * 2))  # no more beats, no close: the process died
    seen = await second.presence(USER)
    assert seen.online is False and seen.last_seen is not None
    assert abs((seen.last_seen - last_beat).total_seconds()) < 0.01


async def test_a_process_that_shuts_down_forgets_its_connections_and_leaves_last_seen(
    processes: Processes,
) -> None:
    first, second, clock = processes
    await first.opened(user_id=USER, sid="phone")
    running = first.cleanup_ctx(web.Application())
    await anext(running)
    clock.advance(timedelta(seconds=5))
    # A graceful shutdown closes its sockets without a disconnect per connection (their clients reconnect
    # elsewhere at once): the process's cleanup removes them all, and leaves when it did as last seen.
    with pytest.raises(StopAsyncIteration):
        await anext(running)
    seen = await second.presence(USER)
    assert seen.online is False and seen.last_seen is not None
    assert abs((seen.last_seen - clock.now()).total_seconds()) < 0.1


async def test_a_last_seen_value_that_is_not_a_time_reads_as_none(processes: Processes) -> None:
    first, _, _ = processes
    await first._client.set(first._last_seen_key(USER), "yesterday")
    assert await first.presence(USER) == Presence(online=False, last_seen=None)


async def test_without_redis_presence_degrades_to_offline_and_chat_goes_on() -> None:
    clock = AdjustableClock()
    unreachable = RedisPresence.from_url(
        "redis://127.0.0.1:1/0", clock=clock, key_prefix="homer-test-down", ttl_seconds=TTL
    )
    try:
        assert await unreachable.opened(user_id=USER, sid="phone") is False
        assert (await unreachable.presence(USER)).online is False
        assert await unreachable.closed(user_id=USER, sid="phone") is None
    finally:
        await unreachable._client.aclose()
