"""Time comes from a clock object so tests can move it (premium expiry, token expiry, rate limits)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Protocol, overload

from pydantic import AfterValidator


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


@overload
def iso(value: datetime) -> str: ...
@overload
def iso(value: None) -> None: ...
@overload
def iso(value: datetime | None) -> str | None: ...
def iso(value: datetime | None) -> str | None:
    return as_utc(value).isoformat() if value is not None else None


# What a client may send as a date and time: far enough from datetime's own limits that converting to UTC
# and adding the days a subscription or a window adds can never overflow (year 1 at +05:30 is year 0 in UTC).
EARLIEST_ACCEPTED = datetime(1900, 1, 1, tzinfo=UTC)
LATEST_ACCEPTED = datetime(3000, 1, 1, tzinfo=UTC)


def _accepted_utc(value: datetime) -> datetime:
    try:
        utc = as_utc(value)
    except OverflowError as exc:
        raise ValueError("Date and time is out of range once converted to UTC") from exc
    if not EARLIEST_ACCEPTED <= utc < LATEST_ACCEPTED:
        raise ValueError(
            f"Date and time must be in the years {EARLIEST_ACCEPTED.year}-{LATEST_ACCEPTED.year - 1}"
        )
    return utc


# Every datetime a request or a socket event carries: parsed as pydantic does, then converted to aware UTC
# and bounded, so a value no later step can handle is a 422 naming its field instead of a 500.
UtcDateTime = Annotated[datetime, AfterValidator(_accepted_utc)]
