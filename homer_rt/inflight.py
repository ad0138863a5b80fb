"""A count of running units of work (HTTP requests, Socket.IO event handlers) that shutdown waits on."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator


class InFlight:
    def __init__(self) -> None:
        self._count = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self._tasks: set[asyncio.Task[object]] = set()

    @property
    def count(self) -> int:
        return self._count

    @contextlib.contextmanager
    def running(self) -> Iterator[None]:
        """Count the enclosed work while it runs."""
        self._count += 1
        self._idle.clear()
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            yield
        finally:
            if task is not None:
                self._tasks.discard(task)
            self._count -= 1
            if self._count == 0:
                self._idle.set()

    async def cancel_running(self) -> None:
        """Cancel what still runs (the grace period ended) and wait for it to unwind, so none of it writes
        to the store after the store's last flush."""
        running = list(self._tasks)
        for task in running:
            task.cancel()
        await asyncio.gather(*running, return_exceptions=True)

    async def wait_idle(self, *, within: float) -> bool:
        """Wait until nothing runs, for at most ``within`` seconds; whether nothing runs."""
        if self._count == 0:
            return True
        try:
            await asyncio.wait_for(self._idle.wait(), max(within, 0))
        except TimeoutError:
            return False
        return True
