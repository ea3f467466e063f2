"""A JetStream subscriber of the platform's broker events, for tests and benches: reads a stream
from its start with an ordered consumer and records each message as `EventReceiver` records a
webhook delivery (tests/support/event_receiver.py), in the caller's event loop.

    async with collecting(url, stream, prefix) as collector:
        ...broker subscription, events...
        collector.ids()

Decisions:
- The stream is created here (`adapters.event_sinks_nats.ensure_stream`, as the sink would) before
  subscribing, so the consumer starts at its first message whatever the relay did first; the
  platform's sink leaves an existing stream as it is.
- An ordered push consumer (ephemeral, flow-controlled, deliver all): it resumes by itself after
  a gap, so a caller that blocks its loop for a moment loses nothing.
- The stream is deleted when the block ends (`keep=True` leaves it): a test's stream name is its own.
"""

from __future__ import annotations

import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import nats
import nats.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from adapters.event_sinks_nats import MSG_ID_HEADER, ensure_stream


@dataclass(frozen=True)
class BrokerReceived:
    """One message of the stream. `at` is `time.monotonic()` when this process got it."""

    event_id: str
    type: str
    subject: str | None
    sequence: int | None
    nats_subject: str
    msg_id: str | None
    body: bytes
    at: float

    def json(self) -> dict[str, Any]:
        parsed: dict[str, Any] = json.loads(self.body)
        return parsed


class JetStreamCollector:
    def __init__(self, nc: Client, js: JetStreamContext, stream: str, subject_prefix: str) -> None:
        self.nc = nc
        self.js = js
        self.stream = stream
        self.subject_prefix = subject_prefix
        self.received: list[BrokerReceived] = []

    async def _on_message(self, msg: Msg) -> None:
        at = time.monotonic()
        body = bytes(msg.data)
        event = json.loads(body)
        sequence = event.get("sequence")
        self.received.append(
            BrokerReceived(
                event_id=event["id"],
                type=event["type"],
                subject=event.get("subject"),
                sequence=None if sequence is None else int(sequence),
                nats_subject=msg.subject,
                msg_id=(msg.headers or {}).get(MSG_ID_HEADER),
                body=body,
                at=at,
            )
        )

    def ids(self) -> list[str]:
        return [r.event_id for r in self.received]


async def reachable(url: str, timeout: float = 2.0) -> bool:
    """Whether a NATS server with JetStream answers at `url`."""

    async def quiet(error: Exception) -> None:
        """The client logs a refused connect with its traceback unless given a callback."""

    try:
        nc = await nats.connect(url, connect_timeout=max(1, round(timeout)), allow_reconnect=False,
                                max_reconnect_attempts=1, reconnect_time_wait=0, error_cb=quiet)  # fmt: skip
    except (nats.errors.Error, OSError, TimeoutError):
        return False
    try:
        await nc.jetstream(timeout=timeout).account_info()
        return True
    except (nats.errors.Error, OSError, TimeoutError):
        return False
    finally:
        await nc.close()


@contextlib.asynccontextmanager
async def collecting(
    url: str, stream: str, subject_prefix: str, *, keep: bool = False
) -> AsyncIterator[JetStreamCollector]:
    """Create `stream` (subjects `<subject_prefix>.>`) unless it exists and record all it holds."""
    nc = await nats.connect(url, name="supplybridge-test-collector")
    js = nc.jetstream(timeout=5)
    try:
        await ensure_stream(js, stream, subject_prefix)
        collector = JetStreamCollector(nc, js, stream, subject_prefix)
        subscription = await js.subscribe(
            f"{subject_prefix}.>", stream=stream, ordered_consumer=True, cb=collector._on_message
        )
        try:
            yield collector
        finally:
            with contextlib.suppress(nats.errors.Error):
                await subscription.unsubscribe()
    finally:
        try:
            if not keep:
                with contextlib.suppress(nats.errors.Error):
                    await js.delete_stream(stream)
        finally:
            await nc.close()
