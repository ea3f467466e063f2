"""The event relay over a real store (SQLite) and recording sinks: every event recorded reaches each
subscriber once, in order; a receiver that is down gets everything when it is back; a delivery
failing past the retry window is dead-lettered and the ones after it go on; a relay cancelled in
the middle of a batch has marked what it delivered (what it had not is delivered again later)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from cloudevents.core.v1.event import CloudEvent
from temporalio.testing import ActivityEnvironment

from activities.event_relay import EventRelayActivities, OutboxBell, RelayConfig, RelayInput, RelayResult
from adapters.event_sinks import BatchSink, DeliveryFailed
from domain.events import BusinessEvent
from domain.subscriptions import Channel, DeliveryStatus, Subscription
from store import Store
from tests.support.event_fakes import RecordingSink
from tests.support.harness import Systems, running_harness
from workflows.event_relay import EventRelayWorkflow

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        yield opened


def subscribe(
    store: Store, subscription_id: str, channel: Channel = Channel.WEBHOOK, types: list[str] | None = None
) -> None:
    url = "https://receiver.example/events" if channel is Channel.WEBHOOK else None
    store.outbox.add_subscription(
        Subscription(subscription_id=subscription_id, channel=channel, types=types or ["*"], url=url,
                     created_by="test", created_at=NOW)
    )  # fmt: skip


def record(
    store: Store, n: int, *, type: str = "supplier.onboarded", subject: str = "V-1", first: int = 0
) -> list[str]:
    ids = [f"evt-{first + i}" for i in range(n)]
    for event_id in ids:
        store.append_event(
            BusinessEvent(event_id=event_id, type=type, subject=subject, occurred_at=NOW, data={"tax_id": "36-4412098"})
        )
    return ids


def relay(
    store: Store, sinks: dict[Channel, RecordingSink], retry_window: timedelta = timedelta(hours=1)
) -> EventRelayActivities:
    config = RelayConfig(source="urn:supplybridge:test", retry_window=retry_window, poll_seconds=0.05)
    return EventRelayActivities(outbox=store.outbox, sinks=sinks, config=config, bell=OutboxBell())


async def run_cycle(relay_activities: EventRelayActivities, seconds: float = 0.3) -> RelayResult:
    return await ActivityEnvironment().run(relay_activities.relay_events, RelayInput(cycle_seconds=seconds))


async def test_each_subscriber_gets_its_events_once_in_order_as_masked_cloudevents(store: Store) -> None:
    subscribe(store, "analytics", types=["supplier.*"])
    subscribe(store, "stream", Channel.BROKER, types=["*"])
    suppliers = record(store, 5)
    invoices = record(store, 2, type="invoice.approved", subject="INV-1", first=5)
    webhook, broker = RecordingSink(), RecordingSink()

    result = await run_cycle(relay(store, {Channel.WEBHOOK: webhook, Channel.BROKER: broker}))

    assert result == RelayResult(delivered=12)
    assert webhook.ids("analytics") == suppliers  # types supplier.* only
    assert broker.ids("stream") == suppliers + invoices
    first: CloudEvent = webhook.received[0][1]
    assert first.get_type() == "org.supplybridge.supplier.onboarded" and first.get_subject() == "V-1"
    data = first.get_data()
    assert isinstance(data, dict) and data["tax_id"] != "36-4412098" and data["tax_id"].endswith("2098")
    sequences = [int(e.get_extension("sequence")) for _, e in broker.received]
    assert sequences == sorted(sequences)
    assert {d.status for d in store.outbox.deliveries()} == {DeliveryStatus.DELIVERED}
    assert await run_cycle(relay(store, {Channel.WEBHOOK: webhook, Channel.BROKER: broker}), 0.1) == RelayResult()


async def test_a_receiver_down_holds_its_events_in_order_and_gets_them_all_when_back(store: Store) -> None:
    subscribe(store, "analytics")
    first = record(store, 3)
    sink = RecordingSink(down=True)
    activities = relay(store, {Channel.WEBHOOK: sink})

    down = await run_cycle(activities, 0.2)
    assert down.delivered == 0 and down.retried == 1 and sink.refused == 1  # the head waits for its retry (1 s)
    pending = store.outbox.deliveries(status=DeliveryStatus.PENDING)
    assert [(d.event_id, d.attempts) for d in pending] == [(first[0], 1), (first[1], 0), (first[2], 0)]
    assert pending[0].last_error == "503 receiver down"

    later = record(store, 2, first=3)
    sink.down = False
    back = await run_cycle(activities, 1.5)
    assert back.delivered == 5 and sink.ids() == first + later


async def test_past_the_retry_window_a_delivery_is_dead_lettered_and_the_next_go_on(store: Store) -> None:
    subscribe(store, "analytics")
    ids = record(store, 3)
    sink = RecordingSink(down=True)
    gave_up = await run_cycle(relay(store, {Channel.WEBHOOK: sink}, retry_window=timedelta(0)), 0.2)
    assert gave_up.dead_lettered >= 1

    sink.down = False
    dead = store.outbox.deliveries(status=DeliveryStatus.DEAD)
    await run_cycle(relay(store, {Channel.WEBHOOK: sink}), 0.2)
    assert sink.ids() == [i for i in ids if i not in {d.event_id for d in dead}]

    replayed = store.outbox.replay(dead[0].delivery_id, by="pat")
    assert replayed is not None and replayed.status is DeliveryStatus.PENDING and replayed.closed_by == "pat"
    await run_cycle(relay(store, {Channel.WEBHOOK: sink}), 0.2)
    assert sink.ids()[-1] == dead[0].event_id and store.outbox.replay(dead[0].delivery_id, by="pat") is None


class BatchRecordingSink(RecordingSink):
    """A BatchSink that takes `takes` events of each batch, then refuses the next."""

    def __init__(self, takes: int) -> None:
        super().__init__()
        self.takes = takes
        self.batches: list[int] = []

    async def deliver_batch(
        self, subscription: Subscription, events: Sequence[CloudEvent]
    ) -> tuple[int, DeliveryFailed | None]:
        self.batches.append(len(events))
        taken = events[: self.takes]
        self.received.extend((subscription.subscription_id, event) for event in taken)
        self.takes = len(events)  # the next batch goes through whole
        return len(taken), (DeliveryFailed("timeout waiting for the ack") if len(taken) < len(events) else None)


async def test_a_batch_sink_gets_the_batch_at_once_and_a_failure_in_it_holds_the_rest(store: Store) -> None:
    subscribe(store, "stream", Channel.BROKER)
    ids = record(store, 6)
    sink = BatchRecordingSink(takes=2)
    assert isinstance(sink, BatchSink)

    result = await run_cycle(relay(store, {Channel.BROKER: sink}), 1.5)  # the retry comes 1 s later

    assert (result.delivered, result.retried) == (6, 1) and sink.batches == [6, 4]
    assert sink.ids() == ids
    third = next(d for d in store.outbox.deliveries() if d.event_id == ids[2])
    assert third.attempts == 2 and third.status is DeliveryStatus.DELIVERED


class BlockingSink(RecordingSink):
    """Takes `takes` events, then hangs (a receiver that stops answering mid-batch)."""

    def __init__(self, takes: int) -> None:
        super().__init__()
        self.takes = takes

    async def deliver(self, subscription: Subscription, event: CloudEvent) -> None:
        if len(self.received) >= self.takes:
            await asyncio.Event().wait()
        await super().deliver(subscription, event)


async def test_a_relay_cancelled_mid_batch_keeps_what_it_delivered_and_redelivers_only_the_rest(store: Store) -> None:
    subscribe(store, "analytics")
    ids = record(store, 5)
    hanging = BlockingSink(takes=2)
    env = ActivityEnvironment()
    running = asyncio.create_task(env.run(relay(store, {Channel.WEBHOOK: hanging}).relay_events, RelayInput()))
    await until(lambda: len(hanging.received) == 2)
    env.cancel()
    with pytest.raises(BaseException):  # noqa: B017 - cancelled: the SDK raises CancelledError or its own error
        await running

    assert [d.status for d in store.outbox.deliveries()] == [DeliveryStatus.DELIVERED] * 2 + [
        DeliveryStatus.PENDING
    ] * 3
    again = RecordingSink()
    await run_cycle(relay(store, {Channel.WEBHOOK: again}), 0.2)
    assert hanging.ids() + again.ids() == ids


async def test_the_relay_workflow_delivers_what_is_recorded_while_it_runs(store: Store) -> None:
    subscribe(store, "analytics")
    sink = RecordingSink()
    systems = Systems(outbox=store.outbox, sinks={Channel.WEBHOOK: sink})
    async with running_harness(systems) as h:
        with h.env.auto_time_skipping_disabled():
            handle = await h.client.start_workflow(
                EventRelayWorkflow.run, RelayInput(cycle_seconds=0.5), id="event-relay-test", task_queue=h.task_queue
            )
            ids = record(store, 3)
            await until(lambda: sink.ids() == ids)
            await until_async(lambda: handle.query(EventRelayWorkflow.status), lambda s: s.delivered == 3)
            await handle.terminate("test over")


async def until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not condition():
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.02)


async def until_async(
    read: Callable[[], object], condition: Callable[[RelayResult], bool], timeout: float = 10.0
) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await read()  # type: ignore[misc]
        if condition(value):
            return
        assert asyncio.get_running_loop().time() < deadline, f"last {value}"
        await asyncio.sleep(0.05)
