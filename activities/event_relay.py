"""The event relay: delivers the outbox (store.outbox) to the subscribers' sinks.

`relay_events` is one long activity (a cycle of `RelayInput.cycle_seconds`) that the
`event-relay` workflow runs again and again. In a cycle it reads each subscription's due
deliveries, hands them to the subscription's sink in order, and records what happened:
- delivered ones are marked together after the subscription's batch (a worker killed in the middle
  delivers the batch's first events again: receivers see a duplicate with the same event id, never
  a gap);
- the first failure stops that subscription's batch (its later events wait, so order holds) and
  is counted on the delivery: retried after the backoff, or dead-lettered past the retry window;
- subscriptions are worked concurrently: a slow or dead receiver holds only its own deliveries.

It heartbeats every `HEARTBEAT_SECONDS` from a side task, so a dead worker is noticed within the
workflow's heartbeat timeout and the cycle restarts on another; it ends its cycle early when the
worker shuts down. Between reads it waits `poll` seconds, or less when `OutboxBell.ring` says an
event was just recorded in this process (activities/events.py rings it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Protocol

from cloudevents.core.v1.event import CloudEvent
from temporalio import activity

from adapters.event_sinks import BatchSink, DeliveryFailed, EventSink
from domain.base import DomainModel
from domain.cloud_events import cloud_event
from domain.events import BusinessEvent
from domain.subscriptions import Channel, Delivery, DeliveryStatus, Subscription

logger = logging.getLogger(__name__)
HEARTBEAT_SECONDS = 2.0


class OutboxPort(Protocol):
    """The relay's verbs on `store.outbox.EventOutbox` (synchronous: called through to_thread)."""

    def due(self, now: datetime, limit: int = 100) -> dict[str, list[tuple[Delivery, BusinessEvent]]]: ...

    def delivered(self, delivery_ids: list[int], at: datetime) -> None: ...

    def failed(self, delivery_id: int, error: str, now: datetime, retry_window: timedelta) -> Delivery: ...

    def subscription(self, subscription_id: str) -> Subscription | None: ...


class RelayInput(DomainModel):
    cycle_seconds: float = 300.0
    batch: int = 100


class RelayResult(DomainModel):
    delivered: int = 0
    retried: int = 0
    dead_lettered: int = 0

    def add(self, other: RelayResult) -> RelayResult:
        return RelayResult(
            delivered=self.delivered + other.delivered,
            retried=self.retried + other.retried,
            dead_lettered=self.dead_lettered + other.dead_lettered,
        )


class RelayConfig(DomainModel):
    """How the relay writes and retries (from the settings: events_source, api_url, events_*)."""

    source: str
    schema_base: str | None = None
    retry_window: timedelta = timedelta(hours=24)
    poll_seconds: float = 0.5


class OutboxBell:
    """Wakes the relay of this process as soon as an event is recorded (else it polls)."""

    def __init__(self) -> None:
        self._rung = asyncio.Event()

    def ring(self) -> None:
        self._rung.set()

    async def wait(self, timeout: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._rung.wait(), timeout)
        self._rung.clear()


class EventRelayActivities:
    def __init__(
        self,
        *,
        outbox: OutboxPort,
        sinks: Mapping[Channel, EventSink],
        config: RelayConfig,
        bell: OutboxBell,
    ) -> None:
        self._outbox = outbox
        self._sinks = sinks
        self._config = config
        self._bell = bell

    @activity.defn(name="relay_events")
    async def relay_events(self, params: RelayInput) -> RelayResult:
        """Deliver what is due until the cycle ends (or the worker shuts down)."""
        loop = asyncio.get_running_loop()
        ends = loop.time() + params.cycle_seconds
        total = RelayResult()
        beating = asyncio.create_task(_heartbeat())
        try:
            while loop.time() < ends and not activity.is_worker_shutdown():
                due = await asyncio.to_thread(self._outbox.due, datetime.now(UTC), params.batch)
                if not due:
                    await self._bell.wait(min(self._config.poll_seconds, max(0.0, ends - loop.time())))
                    continue
                runs = [self._deliver(subscription_id, batch) for subscription_id, batch in due.items()]
                for result in await asyncio.gather(*runs):
                    total = total.add(result)
        finally:
            beating.cancel()
        return total

    async def _deliver(self, subscription_id: str, batch: list[tuple[Delivery, BusinessEvent]]) -> RelayResult:
        subscription = await asyncio.to_thread(self._outbox.subscription, subscription_id)
        if subscription is None or not subscription.active:
            return RelayResult()  # removed meanwhile: its pending deliveries were cancelled
        events = [
            cloud_event(event, source=self._config.source, sequence=delivery.sequence,
                        schema_base=self._config.schema_base)
            for delivery, event in batch
        ]  # fmt: skip
        delivered: list[int] = []
        result = RelayResult()
        try:
            failure = await deliver_in_order(self._sinks[subscription.channel], subscription, events, delivered)
        finally:
            ids = [batch[index][0].delivery_id for index in delivered]
            await asyncio.to_thread(self._outbox.delivered, ids, datetime.now(UTC))
        result.delivered = len(delivered)
        if failure is not None:
            failed, event = batch[len(delivered)]
            counted = await asyncio.to_thread(
                self._outbox.failed, failed.delivery_id, failure.reason, datetime.now(UTC), self._config.retry_window
            )
            if counted.status is DeliveryStatus.DEAD:
                logger.warning("event %s to %s dead-lettered after %d attempts: %s", event.event_id,
                               subscription_id, counted.attempts, failure.reason)  # fmt: skip
                result.dead_lettered += 1
            else:
                result.retried += 1
        return result


async def deliver_in_order(
    sink: EventSink, subscription: Subscription, events: list[CloudEvent], delivered: list[int]
) -> DeliveryFailed | None:
    """Hand `events` to `sink` in order, appending the index of each one the receiver has to
    `delivered` as soon as it is known (so a cancelled relay still marks what went); stop at the
    first failure and return it. A `BatchSink` gets the whole batch at once."""
    if isinstance(sink, BatchSink):
        taken, failure = await sink.deliver_batch(subscription, events)
        delivered.extend(range(taken))
        return failure
    for index, event in enumerate(events):
        try:
            await sink.deliver(subscription, event)
        except DeliveryFailed as failure:
            return failure
        delivered.append(index)
    return None


async def _heartbeat() -> None:
    while True:
        activity.heartbeat()
        await asyncio.sleep(HEARTBEAT_SECONDS)
