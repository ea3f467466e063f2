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
import logging
from collections.abc import Callable

import anyio.to_thread

logger = logging.getLogger("sandbox.delayed_calls")


class DelayedCalls:
    def __init__(self, name: str) -> None:
        self.name = name
        self._loop: asyncio.AbstractEventLoop | None = None
        self._handles: set[asyncio.TimerHandle] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        self._loop = asyncio.get_running_loop()

    async def stop(self) -> None:
        self._loop = None
        for handle in self._handles:
            handle.cancel()
        self._handles.clear()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def call_later(self, delay: float, job: Callable[[], object]) -> None:
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        def fire(handle_box: list[asyncio.TimerHandle]) -> None:
            self._handles.difference_update(handle_box)
            if self._loop is None:  # stopped between the timer firing and now
                return
            task = loop.create_task(self._run(job))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        def arm() -> None:
            if self._loop is None:
                return
            box: list[asyncio.TimerHandle] = []
            box.append(loop.call_later(max(0.0, delay), fire, box))
            self._handles.add(box[0])

        try:
            loop.call_soon_threadsafe(arm)
        except RuntimeError:  # the loop closed meanwhile: the app is gone
            return

    async def _run(self, job: Callable[[], object]) -> None:
        try:
            await anyio.to_thread.run_sync(job)
        except Exception:
            logger.exception("%s: a delayed job failed", self.name)
