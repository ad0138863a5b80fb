"""Whether this process should be sent traffic: ``GET /api/health/ready``.

Ready means serving (start-up finished, no SIGTERM yet) with every dependency answering: the store, Redis
when REDIS_URL is set, and file storage. Each check has its own short timeout; one round of checks answers
every probe for READINESS_CACHE_SECONDS, and a probe arriving while a round runs waits for that round, so a
burst of probes (or a slow dependency) never piles checks up: at most one round runs at a time.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, NotRequired

from typing_extensions import TypedDict

from homer_rt.clock import Clock

log = logging.getLogger(__name__)

Check = Callable[[], Awaitable[None]]


class DependencyDown(Exception):
    """A check's failure in words an operator can act on (no addresses or secrets: readiness is public)."""


class Phase(StrEnum):
    STARTING = "starting"
    SERVING = "serving"
    DRAINING = "draining"


class CheckView(TypedDict):
    ok: bool
    detail: NotRequired[str]  # why a dependency is down


class ReadinessView(TypedDict):
    status: Literal["ready", "not_ready"]
    phase: Phase
    checks: dict[str, CheckView]


@dataclass(frozen=True, slots=True)
class CheckResult:
    ok: bool
    detail: str | None = None

    def view(self) -> CheckView:
        return {"ok": self.ok} if self.detail is None else {"ok": self.ok, "detail": self.detail}


@dataclass(frozen=True, slots=True)
class ReadinessReport:
    phase: Phase
    checks: dict[str, CheckResult]

    @property
    def ready(self) -> bool:
        return self.phase is Phase.SERVING and all(result.ok for result in self.checks.values())

    def view(self) -> ReadinessView:
        return {
            "status": "ready" if self.ready else "not_ready",
            "phase": self.phase,
            "checks": {name: result.view() for name, result in self.checks.items()},
        }


class Readiness:
    def __init__(self, *, clock: Clock, check_timeout: float, cache_seconds: float) -> None:
        self._clock = clock
        self._check_timeout = check_timeout
        self._cache_seconds = cache_seconds
        self._checks: dict[str, Check] = {}
        self._phase = Phase.STARTING
        self._last: tuple[float, dict[str, CheckResult]] | None = None
        self._round = asyncio.Lock()

    @property
    def phase(self) -> Phase:
        return self._phase

    def add_check(self, name: str, check: Check) -> None:
        """``check`` returns when the dependency answers and raises when it does not (DependencyDown with
        an operator's explanation, or whatever the client library raised)."""
        self._checks[name] = check

    def serving(self) -> None:
        """Start-up finished. A process that began draining stays draining."""
        if self._phase is Phase.STARTING:
            self._phase = Phase.SERVING

    def draining(self) -> None:
        self._phase = Phase.DRAINING

    async def report(self) -> ReadinessReport:
        phase = self._phase
        return ReadinessReport(phase=phase, checks=await self._results())

    async def _results(self) -> dict[str, CheckResult]:
        async with self._round:  # a probe arriving during a round gets that round's results
            if self._last is not None and self._clock.monotonic() - self._last[0] < self._cache_seconds:
                return self._last[1]
            names = list(self._checks)
            outcomes = await asyncio.gather(*(self._run(name, self._checks[name]) for name in names))
            results = dict(zip(names, outcomes, strict=True))
            self._last = (self._clock.monotonic(), results)
            return results

    async def _run(self, name: str, check: Check) -> CheckResult:
        try:
            await asyncio.wait_for(check(), self._check_timeout)
        except TimeoutError:
            detail = f"no answer within {self._check_timeout:g} s"
        except DependencyDown as down:
            detail = str(down)
        except Exception as error:  # whatever the client library raised: its class is the detail, logged
            log.warning("readiness: the %s check failed", name, exc_info=True)
            detail = f"failed ({type(error).__name__})"
        else:
            return CheckResult(ok=True)
        log.warning("readiness: %s is not ready: %s", name, detail)
        return CheckResult(ok=False, detail=detail)
