"""Time comes from a clock object so tests can move it (premium expiry, token expiry, rate limits)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """An aware UTC datetime."""

    def monotonic(self) -> float:
        """Seconds for measuring intervals (rate limits, throttles)."""


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


class AdjustableClock:
    """Real time plus an offset that tests move forward (premium expiry, token expiry, rate windows)."""

    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    def monotonic(self) -> float:
        return time.monotonic() + self._offset.total_seconds()

    def advance(self, delta: timedelta) -> None:
        self._offset += delta


def as_utc(value: datetime) -> datetime:
    """Stored datetimes come back aware from tz_aware clients; naive ones are UTC by convention."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None
