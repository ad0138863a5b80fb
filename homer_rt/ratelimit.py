"""In-process sliding-window limiters (login attempts, chat sends, typing throttles).

Each process counts its own traffic; with several processes behind a sticky balancer a client meets the
same process, which is what these limits are about (one abusive client), so no shared store is needed.
"""

from __future__ import annotations

import math
from collections import deque

from homer_rt.clock import Clock


class SlidingWindowLimiter:
    def __init__(self, *, limit: int, window_seconds: float, clock: Clock, max_keys: int = 100_000) -> None:
        self._limit = limit
        self._window = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def _live_hits(self, key: str) -> deque[float]:
        now = self._clock.monotonic()
        hits = self._hits.get(key)
        if hits is None:
            if len(self._hits) >= self._max_keys:
                self._forget_idle(now)
            hits = self._hits[key] = deque()
        while hits and hits[0] <= now - self._window:
            hits.popleft()
        return hits

    def _forget_idle(self, now: float) -> None:
        for key in [k for k, v in self._hits.items() if not v or v[-1] <= now - self._window]:
            del self._hits[key]

    def retry_after(self, key: str) -> int:
        """Seconds until ``key`` may act again; 0 when it may act now."""
        hits = self._live_hits(key)
        if len(hits) < self._limit:
            return 0
        return max(1, math.ceil(hits[0] + self._window - self._clock.monotonic()))

    def record(self, key: str) -> None:
        self._live_hits(key).append(self._clock.monotonic())

    def try_acquire(self, key: str) -> int:
        """Record a hit if allowed; return 0 when recorded, else the seconds to wait."""
        wait = self.retry_after(key)
        if wait == 0:
            self.record(key)
        return wait

    def reset(self, key: str) -> None:
        self._hits.pop(key, None)
