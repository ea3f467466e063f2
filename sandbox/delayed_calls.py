"""`DelayedCalls`: blocking jobs run on a worker thread after a delay, timed on the app's event loop.

The same machinery as the vendor channel's `AckScheduler` (sandbox/vendor_channel.py), made
generic for the EDI partner's delayed 855s: `call_later` is safe from any thread (a sync route
runs on the thread pool) and a no-op while the app is not running (no lifespan, as in unit
tests); `stop` cancels the timers not fired yet and waits for the jobs already running, so no
thread outlives the app. A job that raises is logged, never retried: the jobs re-derive their
work from the database, and the owner re-arms what is still pending at `start`.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from collections.abc import Callable

import anyio.to_thread

logger = logging.getLogger("sandbox.delayed_calls")


class DelayedCalls:
    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._timers: dict[int, asyncio.TimerHandle] = {}
        self._timer_ids = itertools.count()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self._loop = None
        for timer in self._timers.values():
            timer.cancel()
        self._timers.clear()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def call_later(self, delay: float, job: Callable[[], object]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        timer_id = next(self._timer_ids)

        def fire() -> None:
            self._timers.pop(timer_id, None)
            if self._loop is None:  # stopped meanwhile
                return
            task = loop.create_task(self._run(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        def arm() -> None:
            if self._loop is not None:
                self._timers[timer_id] = loop.call_later(max(0.0, delay), fire)

        try:
            loop.call_soon_threadsafe(arm)
        except RuntimeError:  # the loop closed meanwhile: the app is gone
            return

    async def _run(self, job: Callable[[], object]) -> None:
        try:
            await anyio.to_thread.run_sync(job)
        except Exception:
            logger.exception("%s: a delayed job failed", self.name)
