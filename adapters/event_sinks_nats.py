"""`JetStreamSink`: the `EventSink` of `Channel.BROKER` on NATS JetStream (nats-py).

Each event is published, in the structured JSON format, to `<prefix>.<our event type>`
(`supplybridge.events.supplier.onboarded`: the CloudEvents type without `org.supplybridge.`),
with headers `Nats-Msg-Id: <event id>` and `Content-Type: application/cloudevents+json`, and
`deliver` returns once the stream has acknowledged it.

Decisions:
- The subject names the event type only, never the subscription: a broker subscription chooses
  which types go to the broker, and consumers choose among them with their own filters
  (`supplybridge.events.invoice.>`). When several broker subscriptions take the same event, each
  publishes it to the same subject with the same `Nats-Msg-Id`, and the stream keeps one: its
  duplicate window (2 hours) also drops the relay's redeliveries of an event it already has (a
  worker killed between the publish and recording it as delivered). A redelivery later than
  that is stored again; consumers deduplicate on the CloudEvents `id` as webhook receivers do.
- The stream (`stream`, subjects `<prefix>.>`, duplicate window 2 hours) is created on the first
  delivery when it does not exist; an existing one is left as it is (its retention, storage and
  replicas are the operator's). Publishing names the stream it expects, so a subject that lands
  in no stream, or in another one, is a failure rather than a lost message.
- The connection is opened on the first delivery, without the client's own reconnect loop
  (`allow_reconnect=False`): a failed connect fails the delivery at once and the relay retries
  it with its backoff; a connection that closed (a server restart) is opened again on the next
  delivery. Nothing is buffered in the client while the server is away.
- Every NATS, socket or timeout error becomes `DeliveryFailed`, naming the server (without any
  credentials in its URL), the subject and the error.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
from collections.abc import Sequence
from urllib.parse import urlsplit

import nats
import nats.errors
import nats.js.errors
from cloudevents.core.v1.event import CloudEvent
from nats.aio.client import Client
from nats.js import JetStreamContext
from nats.js.api import PubAck, StreamConfig

from adapters.event_sinks import DeliveryFailed
from domain.cloud_events import CONTENT_TYPE, TYPE_PREFIX, structured
from domain.subscriptions import Subscription

logger = logging.getLogger(__name__)
MSG_ID_HEADER = "Nats-Msg-Id"
DUPLICATE_WINDOW_SECONDS = 2 * 60 * 60
DEFAULT_ACK_TIMEOUT = 5.0
_SUBJECT = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_FAILURES = (nats.errors.Error, OSError, TimeoutError)


def subject_for(prefix: str, event_type: str) -> str:
    """`<prefix>.<event type without org.supplybridge.>`; DeliveryFailed when that is not a
    plain NATS subject (a wildcard, a space or an empty token)."""
    subject = f"{prefix}.{event_type.removeprefix(TYPE_PREFIX)}"
    if not _SUBJECT.match(subject):
        raise DeliveryFailed(f"event type {event_type!r} does not make a NATS subject ({subject!r})")
    return subject


async def ensure_stream(js: JetStreamContext, stream: str, subject_prefix: str) -> None:
    """Create `stream` (subjects `<subject_prefix>.>`, a 2-hour duplicate window) unless it exists;
    an existing one is left as it is. Raises the server's refusal (subjects overlapping another
    stream's) as a `nats.js.errors.BadRequestError`."""
    try:
        await js.stream_info(stream)
        return
    except nats.js.errors.NotFoundError:
        pass
    config = StreamConfig(name=stream, subjects=[f"{subject_prefix}.>"], duplicate_window=DUPLICATE_WINDOW_SECONDS)
    try:
        await js.add_stream(config)
        logger.info("created JetStream stream %s for subjects %s.>", stream, subject_prefix)
    except nats.js.errors.BadRequestError as refused:
        try:  # another process created it first, or the server refuses this one
            await js.stream_info(stream)
        except nats.js.errors.NotFoundError:
            raise refused from None


class JetStreamSink:
    """`EventSink` of `Channel.BROKER`: publishes to NATS JetStream at `url` (see the module's
    decisions). `connect_timeout` bounds each connect attempt, `ack_timeout` the wait for the
    stream's acknowledgement and each stream lookup."""

    def __init__(
        self,
        url: str,
        *,
        stream: str,
        subject_prefix: str,
        connect_timeout: float,
        ack_timeout: float = DEFAULT_ACK_TIMEOUT,
    ) -> None:
        self.url = url
        self.stream = stream
        self.subject_prefix = subject_prefix
        self._connect_timeout = connect_timeout
        self._ack_timeout = ack_timeout
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._stream_ready = False
        self._last_error: Exception | None = None
        self._lock = asyncio.Lock()  # the relay delivers several subscriptions at once

    async def deliver(self, subscription: Subscription, event: CloudEvent) -> None:
        subject = subject_for(self.subject_prefix, event.get_type())
        headers = {MSG_ID_HEADER: event.get_id(), "Content-Type": CONTENT_TYPE}
        try:
            js = await self._ready()
        except _FAILURES as error:
            raise DeliveryFailed(self._reason(f"connect and find stream {self.stream}", error)) from error
        try:
            await js.publish(subject, structured(event), timeout=self._ack_timeout, stream=self.stream, headers=headers)
        except nats.js.errors.NoStreamResponseError as error:
            self._stream_ready = False  # deleted meanwhile: created again on the next delivery
            doing = f"publish to {subject} (no stream took it: stream {self.stream} is gone or does not cover it)"
            raise DeliveryFailed(self._reason(doing, error)) from error
        except nats.js.errors.Error as error:
            self._stream_ready = False
            raise DeliveryFailed(self._reason(f"publish to {subject}", error)) from error
        except _FAILURES as error:
            raise DeliveryFailed(self._reason(f"publish to {subject}", error)) from error

    async def deliver_batch(
        self, subscription: Subscription, events: Sequence[CloudEvent]
    ) -> tuple[int, DeliveryFailed | None]:
        """Publish every event without waiting for each acknowledgement (`publish_async`, in
        order on the one connection, so the stream stores them in order), then collect the
        acknowledgements in order: the count before the first that failed, and why. Events
        after a failure that were stored anyway are sent again later and dropped as duplicates."""
        try:
            js = await self._ready()
        except _FAILURES as error:
            return 0, DeliveryFailed(self._reason(f"connect and find stream {self.stream}", error))
        acks: list[tuple[str, asyncio.Future[PubAck]]] = []
        failure: DeliveryFailed | None = None
        for event in events:
            try:
                subject = subject_for(self.subject_prefix, event.get_type())
                headers = {MSG_ID_HEADER: event.get_id(), "Content-Type": CONTENT_TYPE}
                ack = await js.publish_async(subject, structured(event), wait_stall=self._ack_timeout,
                                             stream=self.stream, headers=headers)  # fmt: skip
            except DeliveryFailed as refused:
                failure = refused
                break
            except _FAILURES as error:
                failure = DeliveryFailed(self._reason("publish", error))
                break
            acks.append((subject, ack))
        for taken, (subject, ack) in enumerate(acks):
            try:
                await asyncio.wait_for(ack, self._ack_timeout)
            except nats.js.errors.Error as error:
                self._stream_ready = False  # deleted or changed meanwhile: look again next time
                return taken, DeliveryFailed(self._reason(f"publish to {subject}", error))
            except _FAILURES as error:
                return taken, DeliveryFailed(self._reason(f"publish to {subject}", error))
        return len(acks), failure

    async def close(self) -> None:
        """Drain the connection (its pending publishes go out), then it is closed."""
        async with self._lock:
            nc, self._nc, self._js = self._nc, None, None
            self._stream_ready = False
            if nc is not None and not nc.is_closed:
                try:
                    await nc.drain()
                except _FAILURES:
                    await nc.close()

    async def _ready(self) -> JetStreamContext:
        """The JetStream context of an open connection whose stream exists."""
        async with self._lock:
            if self._nc is None or self._js is None or not self._nc.is_connected:
                await self._connect()
            assert self._js is not None
            if not self._stream_ready:
                await ensure_stream(self._js, self.stream, self.subject_prefix)
                self._stream_ready = True
            return self._js

    async def _connect(self) -> None:
        if self._nc is not None and not self._nc.is_closed:
            with contextlib.suppress(*_FAILURES):
                await self._nc.close()
        self._nc = self._js = None
        self._stream_ready = False
        self._last_error = None
        try:
            # allow_reconnect=False alone still cycles the server list 60 times, 2 s apart, on the
            # first connect: max_reconnect_attempts=1 makes it two quick attempts per server.
            self._nc = await nats.connect(
                self.url,
                connect_timeout=max(1, round(self._connect_timeout)),
                allow_reconnect=False,
                max_reconnect_attempts=1,
                reconnect_time_wait=0,
                error_cb=self._client_error,
                name="supplybridge-event-relay",
            )
        except nats.errors.NoServersError:
            if isinstance(self._last_error, _FAILURES):
                raise self._last_error from None  # why the server was not reached says more
            raise
        self._js = self._nc.jetstream(timeout=self._ack_timeout)

    async def _client_error(self, error: Exception) -> None:
        """The client's errors as they happen (a refused connect, a lost connection): kept for the
        reason of a failed connect, logged, and otherwise left to the next delivery."""
        self._last_error = error
        logger.debug("NATS %s: %s", _server(self.url), error)

    def _reason(self, doing: str, error: BaseException) -> str:
        message = str(error).strip()
        what = f"{type(error).__name__}: {message}" if message else type(error).__name__
        return f"NATS {_server(self.url)}: {doing}: {what}"


def _server(url: str) -> str:
    """host:port of a NATS URL, without any credentials it carries."""
    parts = urlsplit(url if "://" in url else f"nats://{url}")
    return f"{parts.hostname}:{parts.port or 4222}"
