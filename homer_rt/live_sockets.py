"""This process's Socket.IO connections, in every namespace: how many each client address and each user
holds (capped), and when each one's token expires (the connection is closed then).

Counted per process, as the rate limiters are (homer_rt/ratelimit.py): behind the sticky balancer one client's
connections reach one process, which is what the caps are about (one client opening thousands of sockets);
a user spread over N processes could hold N times the cap. A connection is counted from the moment its
connect handler starts, so a flood of connects is refused before any of them reads the store, and released
once whatever ends it (a refused or failed connect, a disconnect, its token's expiry), and only once.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
from dataclasses import dataclass
from datetime import datetime

from homer_rt.clock import Clock
from homer_rt.errors import TooManyConnections
from homer_rt.metrics import Metrics
from homer_rt.ratelimit import address_key
from homer_rt.realtime import RealtimeEmitter

log = logging.getLogger(__name__)

# (namespace, sid): a Socket.IO connection; sids are unique, so a key is never reused.
ConnectionKey = tuple[str, str]

# The heap of expiries is rebuilt from the live connections once closed ones outnumber them past this.
_HEAP_SLACK = 1_024


@dataclass(slots=True)
class _Held:
    address: str
    user_id: str | None = None


class LiveSockets:
    def __init__(
        self, *, clock: Clock, emitter: RealtimeEmitter, per_user: int, per_address: int, metrics: Metrics
    ) -> None:
        self._clock = clock
        # Authenticated connections by namespace (the homer_socket_connections gauge).
        self._connections = metrics.socket_connections
        self._refused_for_address = metrics.refusal_counter("socket_connections_per_address")
        self._refused_for_user = metrics.refusal_counter("socket_connections_per_user")
        self._emitter = emitter
        self._per_user_cap = per_user
        self._per_address_cap = per_address
        self._held: dict[ConnectionKey, _Held] = {}
        self._by_user: dict[str, int] = {}
        self._by_address: dict[str, int] = {}
        # (token expiry as a POSIX timestamp, namespace, sid), soonest first. A closed connection's entry
        # stays until it comes up or the heap is rebuilt, so a sweep costs O(expired), not O(connections).
        self._expiries: list[tuple[float, str, str]] = []

    def admit(self, key: ConnectionKey, *, address: str) -> None:
        """Count a connection from ``address`` (an IPv6 client by its /64: ratelimit.address_key) as its
        connect starts; TooManyConnections past the cap."""
        address = address_key(address)
        if self._by_address.get(address, 0) >= self._per_address_cap:
            self._refused_for_address()
            raise TooManyConnections(
                f"Too many live connections from this address (at most {self._per_address_cap})",
                extra={"limit": self._per_address_cap},
            )
        self._held[key] = _Held(address)
        self._by_address[address] = self._by_address.get(address, 0) + 1

    def authenticated(self, key: ConnectionKey, *, user_id: str, expires_at: datetime) -> None:
        """Count an admitted connection for its user, until ``expires_at`` (its token's expiry) at the
        latest; TooManyConnections past the cap (the caller releases it, as any refused connect)."""
        held = self._held[key]
        if self._by_user.get(user_id, 0) >= self._per_user_cap:
            self._refused_for_user()
            raise TooManyConnections(
                f"Too many live connections for this account (at most {self._per_user_cap}); "
                "close some tabs or devices",
                extra={"limit": self._per_user_cap},
            )
        held.user_id = user_id
        self._by_user[user_id] = self._by_user.get(user_id, 0) + 1
        self._connections.labels(namespace=key[0]).inc()
        heapq.heappush(self._expiries, (expires_at.timestamp(), *key))
        if len(self._expiries) > 2 * len(self._held) + _HEAP_SLACK:
            self._rebuild_expiries()

    def release(self, key: ConnectionKey) -> None:
        """Free the connection's slots; a connection already released (or never admitted) is left alone."""
        held = self._held.pop(key, None)
        if held is None:
            return
        _decrement(self._by_address, held.address)
        if held.user_id is not None:
            _decrement(self._by_user, held.user_id)
            self._connections.labels(namespace=key[0]).dec()

    def _rebuild_expiries(self) -> None:
        self._expiries = [entry for entry in self._expiries if (entry[1], entry[2]) in self._held]
        heapq.heapify(self._expiries)

    def expired(self) -> list[ConnectionKey]:
        """The live connections whose token has expired by the clock's now, taken off the heap."""
        now = self._clock.now().timestamp()
        due: list[ConnectionKey] = []
        while self._expiries and self._expiries[0][0] <= now:
            _, namespace, sid = heapq.heappop(self._expiries)
            if (namespace, sid) in self._held:
                due.append((namespace, sid))
        return due

    async def close_expired(self) -> int:
        """Send ``session_ended {reason: session_expired}`` to every connection whose token has expired,
        then close it (its next event would be refused anyway, but until then it would keep receiving
        private messages). How many were closed."""
        due = self.expired()
        for namespace, sid in due:
            # Released here too: a connection whose connect was still finishing gets no disconnect event.
            self.release((namespace, sid))
            try:
                await self._emitter.end_connection(sid, namespace=namespace, reason="session_expired")
            except Exception:  # logged: the others still close, and this one's next event is refused
                log.exception("could not close expired socket %s on %s", sid, namespace)
        return len(due)

    async def run_expiry_sweeps(self, *, interval_seconds: float) -> None:
        """Close expired connections every ``interval_seconds`` (a background task, cancelled at shutdown)."""
        while True:
            await asyncio.sleep(interval_seconds)
            try:
                await self.close_expired()
            except Exception:  # logged, not raised: the next sweep tries again
                log.exception("closing expired sockets failed")


def _decrement(counts: dict[str, int], key: str) -> None:
    remaining = counts.get(key, 0) - 1
    if remaining > 0:
        counts[key] = remaining
    else:
        counts.pop(key, None)
