"""In-process sliding-window limiters (sign-ins, registrations, chat sends, typing throttles).

Each process counts its own traffic; with several processes behind a sticky balancer a client meets the
same process, which is what these limits are about (one abusive client), so no shared store is needed.
"""

from __future__ import annotations

import math
from collections import deque
from collections.abc import Callable
from ipaddress import IPv6Address, ip_address, ip_network

from homer_rt.clock import Clock
from homer_rt.metrics import Metrics


def address_key(address: str) -> str:
    """What limits by client address count: an IPv4 address, or the /64 network of an IPv6 one. A home or
    phone connection holds a whole IPv6 /64 and can pick a new address from it for every request, so one
    address would be no limit at all."""
    try:
        parsed = ip_address(address)
    except ValueError:
        return address
    if isinstance(parsed, IPv6Address):
        if parsed.ipv4_mapped is not None:
            return str(parsed.ipv4_mapped)
        return str(ip_network(f"{parsed}/64", strict=False))
    return str(parsed)


class SlidingWindowLimiter:
    def __init__(
        self,
        *,
        limit: int,
        window_seconds: float,
        clock: Clock,
        max_keys: int = 100_000,
        refused: Callable[[], None] | None = None,
    ) -> None:
        """``refused`` is called on each refusal (Metrics.refusal_counter counts them by limiter)."""
        self._limit = limit
        self._window = window_seconds
        self._clock = clock
        self._max_keys = max_keys
        self._refused = refused
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
        """Seconds until ``key`` may act again; 0 when it may act now. Every caller refuses the action when
        this is not 0, so that is where a refusal is counted."""
        hits = self._live_hits(key)
        if len(hits) < self._limit:
            return 0
        if self._refused is not None:
            self._refused()
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


class LoginThrottle:
    """Failed sign-ins, counted three ways, so that no one is locked out by someone else's failures.

    - one account from one address: the tight limit, what a guesser at one account meets;
    - one account from any address: a guesser spread over many addresses;
    - one address over all accounts: a much higher ceiling against spraying many accounts.

    An account already signed in (or registered) from an address within ``known_for_seconds`` meets only the
    first limit there: a guesser elsewhere cannot lock its owner out at home, and a household or office
    behind one NAT keeps signing in while someone there sprays. An account's first sign-in from an address
    meets all three.

    ``account`` is the resolved user id when the account exists, so its email and phone share one budget;
    addresses are counted by ``address_key`` (an IPv6 client by its /64).
    """

    def __init__(
        self,
        *,
        per_account_and_address: int,
        per_account: int,
        per_address: int,
        window_seconds: float,
        known_for_seconds: float,
        clock: Clock,
        max_known: int = 100_000,
        metrics: Metrics | None = None,
    ) -> None:
        self._clock = clock

        def limiter(limit: int, name: str) -> SlidingWindowLimiter:
            refused = metrics.refusal_counter(name) if metrics is not None else None
            return SlidingWindowLimiter(
                limit=limit, window_seconds=window_seconds, clock=clock, refused=refused
            )

        self._pair = limiter(per_account_and_address, "login_per_account_and_address")
        self._account = limiter(per_account, "login_per_account")
        self._address = limiter(per_address, "login_per_address")
        self._known_for = known_for_seconds
        self._max_known = max_known
        # (account, address) -> until when (monotonic) that account is known there.
        self._known: dict[tuple[str, str], float] = {}

    def retry_after(self, *, account: str, address: str) -> int:
        """Seconds until this account may try again from this address; 0 when it may now."""
        address = address_key(address)
        wait = self._pair.retry_after(f"{account}\n{address}")
        if self._is_known(account, address):
            return wait
        return max(wait, self._account.retry_after(account), self._address.retry_after(address))

    def failed(self, *, account: str, address: str) -> None:
        address = address_key(address)
        self._pair.record(f"{account}\n{address}")
        self._account.record(account)
        self._address.record(address)

    def succeeded(self, *, account: str, address: str) -> None:
        """The pair's failures are forgiven and the account is known at this address. The account's own
        count stays: a success from one address does not reopen it to guessers at others."""
        address = address_key(address)
        self._pair.reset(f"{account}\n{address}")
        if self._known_for <= 0:
            return
        now = self._clock.monotonic()
        if len(self._known) >= self._max_known:
            self._known = {pair: until for pair, until in self._known.items() if until > now}
            if len(self._known) >= self._max_known:  # all still valid: forget the oldest half
                self._known = dict(list(self._known.items())[len(self._known) // 2 :])
        self._known.pop((account, address), None)  # re-inserted last: the dict stays oldest-first
        self._known[(account, address)] = now + self._known_for

    def _is_known(self, account: str, address: str) -> bool:
        until = self._known.get((account, address))
        return until is not None and until > self._clock.monotonic()
