"""Who is online: each user's live ``/chat`` connections, counted across every server process.

One process counts them in memory. With REDIS_URL set, several processes serve the same users (a user's
phone on one, their laptop on another, and whoever opens a chat with them on a third), so the count lives in
Redis: one sorted set per user, one member per connection, scored by the time it expires unless its process
renews it. A process renews its own connections every third of PRESENCE_TTL_SECONDS, so one that dies without
closing its sockets stops holding its users online within that time; each change is a Redis transaction,
so two connections opening at once on two processes announce the user online exactly once.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Protocol

from aiohttp import web
from redis.asyncio import Redis
from redis.exceptions import RedisError
from typing_extensions import TypedDict

from homer_rt.clock import Clock, iso
from homer_rt.settings import Settings

log = logging.getLogger(__name__)

REDIS_TIMEOUT_SECONDS = 2.0
# How long Redis keeps a user's last-seen time after their last connection closed.
LAST_SEEN_KEPT_SECONDS = 90 * 24 * 3600


class PresenceView(TypedDict):
    """Whether a user is online; ``last_seen`` when they went offline (the ``presence`` event too)."""

    user_id: str
    online: bool
    last_seen: str | None


@dataclass(frozen=True)
class Presence:
    online: bool
    last_seen: datetime | None

    def api_view(self, user_id: str) -> PresenceView:
        """The ``presence`` event's payload, and a chat's ``other_presence``."""
        return {"user_id": user_id, "online": self.online, "last_seen": iso(self.last_seen)}


class PresenceRegistry(Protocol):
    async def opened(self, *, user_id: str, sid: str) -> bool:
        """Count a connection; True when it brought the user online (they had none, in any process)."""

    async def closed(self, *, user_id: str, sid: str) -> datetime | None:
        """Forget a connection; the time the user went offline when it was their last one, in any process."""

    async def presence(self, user_id: str) -> Presence: ...


class LocalPresence:
    """Presence of the connections to this process (no REDIS_URL: there is no other process)."""

    def __init__(self, *, clock: Clock) -> None:
        self._clock = clock
        self._connections: dict[str, set[str]] = {}
        self._last_seen: dict[str, datetime] = {}

    async def opened(self, *, user_id: str, sid: str) -> bool:
        sids = self._connections.setdefault(user_id, set())
        sids.add(sid)
        return len(sids) == 1

    async def closed(self, *, user_id: str, sid: str) -> datetime | None:
        sids = self._connections.get(user_id)
        if sids is None or sid not in sids:
            return None
        sids.discard(sid)
        if sids:
            return None
        del self._connections[user_id]
        self._last_seen[user_id] = now = self._clock.now()
        return now

    async def presence(self, user_id: str) -> Presence:
        online = bool(self._connections.get(user_id))
        return Presence(online=online, last_seen=None if online else self._last_seen.get(user_id))


class RedisPresence:
    """Presence shared by every process on one Redis (see the module doc).

    Keys: ``<prefix>:presence:<user_id>`` is the sorted set of the user's connections
    (``<process>:<sid>`` scored by expiry, in epoch seconds); ``<prefix>:last_seen:<user_id>`` the epoch
    milliseconds at which their last connection closed (or, for a process that died, its last beat). A
    Redis failure is logged and costs only presence (the user reads as offline, no announcement is made):
    chatting goes on."""

    def __init__(self, *, client: Redis, clock: Clock, key_prefix: str, ttl_seconds: float) -> None:
        self._client = client
        self._clock = clock
        self._prefix = key_prefix
        self._ttl = ttl_seconds
        self._process = uuid.uuid4().hex
        # This process's open connections, renewed by the heartbeat: user id -> sids.
        self._local: dict[str, set[str]] = {}

    @classmethod
    def from_url(cls, url: str, *, clock: Clock, key_prefix: str, ttl_seconds: float) -> RedisPresence:
        # Bounded waits: a Redis that stops answering costs presence a few seconds, never a hung connect.
        client = Redis.from_url(
            url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS
        )
        return cls(client=client, clock=clock, key_prefix=key_prefix, ttl_seconds=ttl_seconds)

    def _connections_key(self, user_id: str) -> str:
        return f"{self._prefix}:presence:{user_id}"

    def _last_seen_key(self, user_id: str) -> str:
        return f"{self._prefix}:last_seen:{user_id}"

    def _member(self, sid: str) -> str:
        return f"{self._process}:{sid}"

    def _key_expiry(self) -> int:
        # The set outlives its newest member's score a little, then goes with a dead process's last members.
        return math.ceil(self._ttl) + 1

    async def opened(self, *, user_id: str, sid: str) -> bool:
        self._local.setdefault(user_id, set()).add(sid)
        key, now = self._connections_key(user_id), self._clock.now().timestamp()
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zremrangebyscore(key, "-inf", now)
                pipe.zadd(key, {self._member(sid): now + self._ttl})
                pipe.zcard(key)
                pipe.expire(key, self._key_expiry())
                results: list[Any] = await pipe.execute()
        except RedisError:
            log.warning("presence: could not count a connection of %s", user_id, exc_info=True)
            return False
        return int(results[2]) == 1

    async def closed(self, *, user_id: str, sid: str) -> datetime | None:
        sids = self._local.get(user_id)
        if sids is not None:
            sids.discard(sid)
            if not sids:
                del self._local[user_id]
        key, now = self._connections_key(user_id), self._clock.now()
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zrem(key, self._member(sid))
                pipe.zremrangebyscore(key, "-inf", now.timestamp())
                pipe.zcard(key)
                # Read only while the user is offline: set while they are online elsewhere, it does no harm.
                pipe.set(self._last_seen_key(user_id), _epoch_ms(now), ex=LAST_SEEN_KEPT_SECONDS)
                results: list[Any] = await pipe.execute()
        except RedisError:
            log.warning("presence: could not forget a connection of %s", user_id, exc_info=True)
            return None
        # Offline once no connection is left, even when this one had already lapsed (its process stalled past
        # the TTL, or its open did not reach Redis): nobody announced that, so this close does.
        return now if int(results[2]) == 0 else None

    async def presence(self, user_id: str) -> Presence:
        now = self._clock.now().timestamp()
        try:
            async with self._client.pipeline(transaction=True) as pipe:
                pipe.zcount(self._connections_key(user_id), f"({now}", "+inf")
                pipe.get(self._last_seen_key(user_id))
                live, last_seen = await pipe.execute()
        except RedisError:
            log.warning("presence: could not read the presence of %s", user_id, exc_info=True)
            return Presence(online=False, last_seen=None)
        if int(live) > 0:
            return Presence(online=True, last_seen=None)
        return Presence(online=False, last_seen=_from_epoch_ms(last_seen))

    async def ping(self) -> None:
        """Return when Redis answers (readiness); the client's error when it does not."""
        await self._client.ping()

    async def renew(self) -> None:
        """The heartbeat's beat: this process's connections stay counted for another TTL."""
        await self.renew_connections({user_id: set(sids) for user_id, sids in self._local.items()})

    async def renew_connections(self, connections: dict[str, set[str]]) -> None:
        """Push the expiry of ``connections`` (user id -> sids of this process) forward, adding any that
        Redis lost (a restart, a failed open, renewals that failed past the TTL), and refresh their users'
        last-seen time, which is what a crash of this process leaves behind. A connection that closed while
        the beat was in flight, and so was added back, is removed again."""
        if not connections:
            return
        now = self._clock.now()
        async with self._client.pipeline(transaction=False) as pipe:
            for user_id, sids in connections.items():
                key = self._connections_key(user_id)
                pipe.zadd(key, {self._member(sid): now.timestamp() + self._ttl for sid in sids})
                pipe.expire(key, self._key_expiry())
                pipe.set(self._last_seen_key(user_id), _epoch_ms(now), ex=LAST_SEEN_KEPT_SECONDS)
            await pipe.execute()
        closed_meanwhile = {
            user_id: gone
            for user_id, sids in connections.items()
            if (gone := sids - self._local.get(user_id, set()))
        }
        if closed_meanwhile:
            async with self._client.pipeline(transaction=False) as pipe:
                for user_id, gone in closed_meanwhile.items():
                    pipe.zrem(self._connections_key(user_id), *(self._member(sid) for sid in gone))
                await pipe.execute()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self._ttl / 3)
            try:
                await self.renew()
            except Exception:  # the beat goes on: the next one may reach Redis
                log.warning("presence: could not renew this process's connections", exc_info=True)

    async def _forget_local(self) -> None:
        """At shutdown: this process's connections stop counting now, not when they expire, and their users'
        last-seen time is now (it is read only while they are offline; their clients reconnect elsewhere)."""
        now = _epoch_ms(self._clock.now())
        async with self._client.pipeline(transaction=False) as pipe:
            for user_id, sids in self._local.items():
                pipe.zrem(self._connections_key(user_id), *(self._member(sid) for sid in sids))
                pipe.set(self._last_seen_key(user_id), now, ex=LAST_SEEN_KEPT_SECONDS)
            await pipe.execute()
        self._local.clear()

    async def cleanup_ctx(self, app: web.Application) -> AsyncIterator[None]:
        heartbeat = asyncio.create_task(self._heartbeat(), name="presence-heartbeat")
        try:
            yield
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat
            with contextlib.suppress(RedisError):
                await self._forget_local()
            await self._client.aclose()


def presence_from_settings(settings: Settings, *, clock: Clock) -> LocalPresence | RedisPresence:
    """Shared through Redis when REDIS_URL is set (several processes), else this process's own count."""
    if settings.redis_url:
        return RedisPresence.from_url(
            settings.redis_url,
            clock=clock,
            key_prefix=settings.redis_channel,
            ttl_seconds=settings.presence_ttl_seconds,
        )
    return LocalPresence(clock=clock)


def _epoch_ms(moment: datetime) -> int:
    return int(moment.timestamp() * 1000)


def _from_epoch_ms(value: bytes | str | None) -> datetime | None:
    """The stored last-seen time; None when there is none, or when the key holds something else."""
    try:
        return datetime.fromtimestamp(int(value) / 1000, tz=UTC) if value else None
    except (ValueError, OverflowError, OSError):
        return None
