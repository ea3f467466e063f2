"""Where business events go out: one `EventSink` per subscription channel (domain.subscriptions).

The relay (activities/event_relay.py) hands a sink one CloudEvent for one subscription at a time,
in the subscription's order; the sink returns once the receiver has it (a 2xx answer, a broker
acknowledgement) and raises `DeliveryFailed` otherwise, with a reason a person can act on. The
relay retries and dead-letters; a sink never retries by itself. `runtime.event_sinks.build_sinks`
builds the sinks of the settings; the tests pass fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from cloudevents.core.v1.event import CloudEvent

from domain.subscriptions import Subscription


class DeliveryFailed(Exception):
    """The receiver did not take the event; `reason` says why (status and body, or the error)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class EventSink(Protocol):
    async def deliver(self, subscription: Subscription, event: CloudEvent) -> None:
        """Deliver `event` to `subscription`'s receiver, or raise DeliveryFailed."""
        ...

    async def close(self) -> None:
        """Release connections (the relay calls it when it stops)."""
        ...


@runtime_checkable
class BatchSink(EventSink, Protocol):
    """A sink that can have several events in flight at once and still keep their order (a broker
    that takes publishes in the order they were sent on one connection). The relay hands it a
    subscription's batch instead of one event at a time."""

    async def deliver_batch(
        self, subscription: Subscription, events: Sequence[CloudEvent]
    ) -> tuple[int, DeliveryFailed | None]:
        """Deliver `events` in order: how many of the first ones the receiver has (all of them,
        or those before the first failure), and that failure (None when all went)."""
        ...
