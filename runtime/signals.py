"""Stopping long-running commands (`up`, `worker`, `sandbox`, `api`, `demo --keep-running`) on
Ctrl-C or SIGTERM: the signal sets an event the command awaits, so it can shut down in order
(worker first, then the servers, then the Temporal dev server) instead of dying mid-step."""

from __future__ import annotations

import asyncio
import signal


def stop_event_on_signals() -> asyncio.Event:
    """An event set on SIGINT or SIGTERM; call it inside the running event loop."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    return stop
