"""Fakes of the event relay's ports: an outbox with nothing to deliver (the harness's default: its
store is a fake without subscriptions) and a sink that records or refuses what it is handed."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from cloudevents.core.v1.event import CloudEvent

from adapters.event_sinks import DeliveryFailed
from domain.events import BusinessEvent
from domain.subscriptions import Delivery, Subscription


class EmptyOutbox:
    def due(self, now: datetime, limit: int = 100) -> dict[str, list[tuple[Delivery, BusinessEvent]]]:
        return {}

    def delivered(self, delivery_ids: list[int], at: datetime) -> None:
        pass

    def failed(self, delivery_id: int, error: str, now: datetime, retry_window: timedelta) -> Delivery:
        raise KeyError(delivery_id)

    def subscription(self, subscription_id: str) -> Subscription | None:
        return None


@dataclass
class RecordingSink:
    """Keeps (subscription id, event) in delivery order; refuses while `down` (or `refuse` says so)."""

    received: list[tuple[str, CloudEvent]] = field(default_factory=list)
    down: bool = False
    refused: int = 0
    closed: bool = False

    async def deliver(self, subscription: Subscription, event: CloudEvent) -> None:
        if self.down:
            self.refused += 1
            raise DeliveryFailed("503 receiver down")
        self.received.append((subscription.subscription_id, event))

    async def close(self) -> None:
        self.closed = True

    def ids(self, subscription_id: str | None = None) -> list[str]:
        return [e.get_id() for s, e in self.received if subscription_id in (None, s)]
