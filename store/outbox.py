"""`EventOutbox` (`store.outbox`): event subscriptions and the outbox of their deliveries, over
SQLAlchemy on SQLite and PostgreSQL alike (the rules are domain.subscriptions').

`add_deliveries_in` runs inside `Store.append_event`'s transaction: an event, its audit entry and
one delivery per receiving subscription are written together or not at all. The relay then reads
`due` (each subscription's oldest pending deliveries, when the first is due), and records what
happened with `delivered` / `failed`; a failure past the retry window turns the row `dead` (the
dead letter) and the subscription's next delivery becomes its head.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from domain.events import BusinessEvent
from domain.subscriptions import Delivery, DeliveryStatus, Subscription, gives_up, receives, retry_delay
from store.models import BusinessEventRow, EventDeliveryRow, SubscriptionRow, utcnow

ERROR_LIMIT = 2000


class SubscriptionExists(ValueError):
    pass


class EventOutbox:
    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self._sessions = sessions

    # Subscriptions ------------------------------------------------------------------------

    def add_subscription(self, subscription: Subscription) -> Subscription:
        """Raises SubscriptionExists when the id is taken (also by a removed subscription: ids
        stay unique, so a dead letter always names the one subscription it was for)."""
        row = SubscriptionRow(**subscription.model_dump(mode="python"))
        try:
            with self._sessions.begin() as session:
                session.add(row)
        except IntegrityError:
            raise SubscriptionExists(f"subscription {subscription.subscription_id} exists") from None
        return subscription

    def put_subscription(self, subscription: Subscription) -> Subscription:
        """Insert or replace (how `up` keeps the team channels of the settings current)."""
        with self._sessions.begin() as session:
            session.merge(SubscriptionRow(**subscription.model_dump(mode="python")))
        return subscription

    def subscription(self, subscription_id: str) -> Subscription | None:
        with self._sessions() as session:
            row = session.get(SubscriptionRow, subscription_id)
            return None if row is None else _subscription(row)

    def subscriptions(self, *, include_removed: bool = False) -> list[Subscription]:
        query = select(SubscriptionRow).order_by(SubscriptionRow.created_at, SubscriptionRow.subscription_id)
        if not include_removed:
            query = query.where(SubscriptionRow.active.is_(True))
        with self._sessions() as session:
            return [_subscription(row) for row in session.scalars(query)]

    def remove_subscription(self, subscription_id: str, at: datetime | None = None) -> int | None:
        """Deactivate it and cancel its pending deliveries (their count); None when there is no
        active subscription of that id."""
        with self._sessions.begin() as session:
            row = session.get(SubscriptionRow, subscription_id)
            if row is None or not row.active:
                return None
            row.active, row.removed_at = False, at or utcnow()
            cancelled = session.execute(
                update(EventDeliveryRow)
                .where(EventDeliveryRow.subscription_id == subscription_id,
                       EventDeliveryRow.status == DeliveryStatus.PENDING.value)
                .values(status=DeliveryStatus.CANCELLED.value)
            )  # fmt: skip
            return int(cancelled.rowcount)  # type: ignore[attr-defined]

    # The outbox ---------------------------------------------------------------------------

    def add_deliveries_in(self, session: Session, event: BusinessEvent, sequence: int) -> int:
        """In the caller's transaction: a pending delivery of `event` for every subscription that
        receives it; returns how many."""
        active = [_subscription(row) for row in session.scalars(select(SubscriptionRow).where(SubscriptionRow.active))]
        rows = [
            EventDeliveryRow(subscription_id=s.subscription_id, event_id=event.event_id, sequence=sequence,
                             status=DeliveryStatus.PENDING.value, attempts=0)
            for s in active if receives(s, event)
        ]  # fmt: skip
        session.add_all(rows)
        return len(rows)

    def due(self, now: datetime, limit: int = 100) -> dict[str, list[tuple[Delivery, BusinessEvent]]]:
        """Per subscription, its oldest pending deliveries (up to `limit`, with their events, in
        order) when the oldest is due now; a subscription whose head waits for a retry gives none."""
        heads = (
            select(EventDeliveryRow.subscription_id, func.min(EventDeliveryRow.sequence).label("head"))
            .where(EventDeliveryRow.status == DeliveryStatus.PENDING.value)
            .group_by(EventDeliveryRow.subscription_id)
            .subquery()
        )
        ready = (
            select(EventDeliveryRow.subscription_id)
            .join(heads, (EventDeliveryRow.subscription_id == heads.c.subscription_id)
                  & (EventDeliveryRow.sequence == heads.c.head))
            .where(EventDeliveryRow.status == DeliveryStatus.PENDING.value,  # (the status index)
                   (EventDeliveryRow.next_attempt_at.is_(None)) | (EventDeliveryRow.next_attempt_at <= now))
        )  # fmt: skip
        found: dict[str, list[tuple[Delivery, BusinessEvent]]] = {}
        with self._sessions() as session:
            for subscription_id in session.scalars(ready).all():
                query = _with_events(
                    select(EventDeliveryRow, BusinessEventRow)
                    .where(EventDeliveryRow.subscription_id == subscription_id,
                           EventDeliveryRow.status == DeliveryStatus.PENDING.value)
                    .order_by(EventDeliveryRow.sequence)
                    .limit(limit)
                )  # fmt: skip
                found[subscription_id] = [(_delivery(d, e), _event(e)) for d, e in session.execute(query)]
        return found

    def delivered(self, delivery_ids: list[int], at: datetime) -> None:
        if not delivery_ids:
            return
        with self._sessions.begin() as session:
            session.execute(
                update(EventDeliveryRow)
                .where(EventDeliveryRow.id.in_(delivery_ids), EventDeliveryRow.status == DeliveryStatus.PENDING.value)
                .values(status=DeliveryStatus.DELIVERED.value, delivered_at=at, last_error=None,
                        attempts=EventDeliveryRow.attempts + 1)
            )  # fmt: skip

    def failed(self, delivery_id: int, error: str, now: datetime, retry_window: timedelta) -> Delivery:
        """Count a failed attempt: retried after `retry_delay`, or dead once the window is past."""
        with self._sessions.begin() as session:
            row = session.get(EventDeliveryRow, delivery_id, with_for_update=True)
            if row is None:
                raise KeyError(f"no delivery {delivery_id}")
            event = session.scalars(select(BusinessEventRow).where(BusinessEventRow.event_id == row.event_id)).one()
            if row.status == DeliveryStatus.PENDING.value:
                row.attempts += 1
                row.first_failed_at = row.first_failed_at or now
                row.last_error = error[:ERROR_LIMIT]
                if gives_up(row.first_failed_at, now, retry_window):
                    row.status, row.next_attempt_at = DeliveryStatus.DEAD.value, None
                else:
                    row.next_attempt_at = now + retry_delay(row.attempts)
            return _delivery(row, event)

    # Dead letters and inspection -----------------------------------------------------------

    def deliveries(
        self,
        subscription_id: str | None = None,
        status: DeliveryStatus | None = None,
        limit: int = 100,
        offset: int = 0,
    ) -> list[Delivery]:
        """Oldest first (by event sequence, then id)."""
        query = select(EventDeliveryRow, BusinessEventRow).order_by(EventDeliveryRow.sequence, EventDeliveryRow.id)
        if subscription_id is not None:
            query = query.where(EventDeliveryRow.subscription_id == subscription_id)
        if status is not None:
            query = query.where(EventDeliveryRow.status == status.value)
        with self._sessions() as session:
            rows = session.execute(_with_events(query).limit(limit).offset(offset))
            return [_delivery(d, e) for d, e in rows]

    def delivery_counts(self, subscription_id: str) -> dict[DeliveryStatus, int]:
        """Its deliveries per status (every status, 0 when none)."""
        query = (
            select(EventDeliveryRow.status, func.count())
            .where(EventDeliveryRow.subscription_id == subscription_id)
            .group_by(EventDeliveryRow.status)
        )
        with self._sessions() as session:
            found = {DeliveryStatus(status): int(n) for status, n in session.execute(query)}
        return {status: found.get(status, 0) for status in DeliveryStatus}

    def delivery(self, delivery_id: int) -> tuple[Delivery, BusinessEvent] | None:
        query = _with_events(select(EventDeliveryRow, BusinessEventRow).where(EventDeliveryRow.id == delivery_id))
        with self._sessions() as session:
            found = session.execute(query).first()
            return None if found is None else (_delivery(found[0], found[1]), _event(found[1]))

    def replay(self, delivery_id: int, by: str) -> Delivery | None:
        """A dead letter delivered again, in its turn (it is older than what is pending, so next);
        None unless it is dead."""
        return self._close(delivery_id, by, DeliveryStatus.PENDING)

    def discard(self, delivery_id: int, by: str) -> Delivery | None:
        """A dead letter closed without delivering it; None unless it is dead."""
        return self._close(delivery_id, by, DeliveryStatus.DISCARDED)

    def _close(self, delivery_id: int, by: str, status: DeliveryStatus) -> Delivery | None:
        with self._sessions.begin() as session:
            row = session.get(EventDeliveryRow, delivery_id, with_for_update=True)
            if row is None or row.status != DeliveryStatus.DEAD.value:
                return None
            row.status, row.closed_by = status.value, by[:200]
            if status is DeliveryStatus.PENDING:
                row.attempts, row.first_failed_at, row.next_attempt_at = 0, None, None
            event = session.scalars(select(BusinessEventRow).where(BusinessEventRow.event_id == row.event_id)).one()
            return _delivery(row, event)


_Pairs = Select[EventDeliveryRow, BusinessEventRow]


def _with_events(query: _Pairs) -> _Pairs:
    return query.join(BusinessEventRow, BusinessEventRow.event_id == EventDeliveryRow.event_id)


def _subscription(row: SubscriptionRow) -> Subscription:
    return Subscription.model_validate(row, from_attributes=True)


def _event(row: BusinessEventRow) -> BusinessEvent:
    return BusinessEvent.model_validate(row, from_attributes=True)


def _delivery(row: EventDeliveryRow, event: BusinessEventRow) -> Delivery:
    return Delivery(
        delivery_id=row.id,
        subscription_id=row.subscription_id,
        event_id=row.event_id,
        event_type=event.type,
        subject=event.subject,
        sequence=row.sequence,
        status=DeliveryStatus(row.status),
        attempts=row.attempts,
        next_attempt_at=row.next_attempt_at,
        first_failed_at=row.first_failed_at,
        last_error=row.last_error,
        delivered_at=row.delivered_at,
        closed_by=row.closed_by,
    )
