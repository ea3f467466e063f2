"""`JetStreamSink` against a real NATS server with JetStream (`SUPPLYBRIDGE_TEST_NATS_URL`, e.g.
nats://127.0.0.1:4222; skipped without it): the stream is created when missing and left alone
when it exists, the event is stored on `<prefix>.<type>` as the CloudEvent with its headers, the
same event id twice is stored once, the sink reconnects after it was closed, and a server that
is not there is a DeliveryFailed at once. Each test has its own stream and prefix, deleted after.
The subject scheme itself needs no server."""

from __future__ import annotations

import asyncio
import contextlib
import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import nats
import nats.js.errors
import pytest
from cloudevents.core.v1.event import CloudEvent
from nats.js import JetStreamContext
from nats.js.api import StreamConfig

from adapters.event_sinks import DeliveryFailed
from adapters.event_sinks_nats import DUPLICATE_WINDOW_SECONDS, MSG_ID_HEADER, JetStreamSink, subject_for
from domain.cloud_events import CONTENT_TYPE, cloud_event, read
from domain.events import BusinessEvent
from domain.subscriptions import Channel, Subscription
from runtime.ports import free_port

NATS_URL = os.environ.get("SUPPLYBRIDGE_TEST_NATS_URL")
needs_nats = pytest.mark.skipif(not NATS_URL, reason="set SUPPLYBRIDGE_TEST_NATS_URL to a NATS server with JetStream")

BROKER = Subscription(
    subscription_id="analytics",
    channel=Channel.BROKER,
    types=["*"],
    created_by="test",
    created_at=datetime(2026, 3, 1, tzinfo=UTC),
)


def event_of(event_id: str = "evt-1", event_type: str = "supplier.onboarded") -> BusinessEvent:
    return BusinessEvent(
        event_id=event_id,
        type=event_type,
        subject="SUP-0001",
        workflow_id="supplier-onboarding-SUP-0001",
        occurred_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        data={"supplier_id": "SUP-0001"},
    )


def sent(event_id: str = "evt-1", event_type: str = "supplier.onboarded", sequence: int = 1) -> CloudEvent:
    return cloud_event(event_of(event_id, event_type), source="urn:supplybridge:test", sequence=sequence)


@dataclass
class Broker:
    js: JetStreamContext
    stream: str
    prefix: str

    def sink(self, url: str | None = None) -> JetStreamSink:
        assert NATS_URL
        return JetStreamSink(url or NATS_URL, stream=self.stream, subject_prefix=self.prefix, connect_timeout=2)

    async def messages(self) -> int:
        return (await self.js.stream_info(self.stream)).state.messages


@pytest.fixture
async def broker() -> AsyncIterator[Broker]:
    """A stream name and subject prefix of this test's own; the stream deleted afterwards."""
    if not NATS_URL:
        pytest.skip("set SUPPLYBRIDGE_TEST_NATS_URL to a NATS server with JetStream")
    tag = uuid.uuid4().hex[:12]
    nc = await nats.connect(NATS_URL, connect_timeout=2, allow_reconnect=False)
    js = nc.jetstream()
    try:
        yield Broker(js, stream=f"TEST_EVENTS_{tag}", prefix=f"test{tag}.events")
    finally:
        with contextlib.suppress(nats.js.errors.NotFoundError):
            await js.delete_stream(f"TEST_EVENTS_{tag}")
        await nc.close()


def test_the_subject_is_the_prefix_and_our_type() -> None:
    assert subject_for("supplybridge.events", "org.supplybridge.supplier.onboarded") == (
        "supplybridge.events.supplier.onboarded"
    )
    assert subject_for("p", "invoice.exception_raised") == "p.invoice.exception_raised"
    for bad in ("org.supplybridge.supplier.*", "org.supplybridge.supplier..x", "org.supplybridge.a b"):
        with pytest.raises(DeliveryFailed, match="does not make a NATS subject"):
            subject_for("p", bad)


@needs_nats
async def test_the_event_is_stored_on_its_type_subject_in_a_stream_created_for_it(broker: Broker) -> None:
    sink = broker.sink()
    event = sent(event_type="purchase_order.closed")
    try:
        await sink.deliver(BROKER, event)
    finally:
        await sink.close()

    info = await broker.js.stream_info(broker.stream)
    assert info.config.subjects == [f"{broker.prefix}.>"]
    assert info.config.duplicate_window == DUPLICATE_WINDOW_SECONDS
    stored = await broker.js.get_msg(broker.stream, seq=1)
    assert stored.subject == f"{broker.prefix}.purchase_order.closed"
    assert stored.headers is not None
    assert stored.headers[MSG_ID_HEADER] == "evt-1"
    assert stored.headers["Content-Type"] == CONTENT_TYPE
    assert stored.data is not None
    received = read(stored.data)
    assert received.get_id() == "evt-1"
    assert received.get_type() == "org.supplybridge.purchase_order.closed"
    assert received.get_data() == {"supplier_id": "SUP-0001"}


@needs_nats
async def test_the_same_event_id_twice_is_stored_once(broker: Broker) -> None:
    sink = broker.sink()
    try:
        await sink.deliver(BROKER, sent("evt-1"))
        await sink.deliver(BROKER, sent("evt-1"))  # a redelivery, or a second subscription
        await sink.deliver(BROKER, sent("evt-2"))
    finally:
        await sink.close()
    assert await broker.messages() == 2


@needs_nats
async def test_a_batch_is_stored_in_order_and_a_failure_names_how_many_went_before_it(broker: Broker) -> None:
    sink = broker.sink()
    try:
        batch = [sent(f"evt-{n}", sequence=n) for n in range(1, 51)]
        assert await sink.deliver_batch(BROKER, batch) == (50, None)
        assert await sink.deliver_batch(BROKER, batch[:10]) == (10, None)  # redelivered: dropped as duplicates
        wrong_type = [sent("evt-51", sequence=51), sent("evt-52", "not a subject", sequence=52), sent("evt-53")]
        taken, failure = await sink.deliver_batch(BROKER, wrong_type)
    finally:
        await sink.close()
    assert taken == 1 and failure is not None and "not a subject" in failure.reason
    assert await broker.messages() == 51
    stored = [read((await broker.js.get_msg(broker.stream, seq=n)).data or b"").get_id() for n in (1, 25, 50, 51)]
    assert stored == ["evt-1", "evt-25", "evt-50", "evt-51"]


@needs_nats
async def test_an_existing_stream_is_left_as_it_is(broker: Broker) -> None:
    subjects = [f"{broker.prefix}.>", f"{broker.prefix}-other.>"]
    await broker.js.add_stream(StreamConfig(name=broker.stream, subjects=subjects, duplicate_window=60, max_msgs=1000))
    sink = broker.sink()
    try:
        await sink.deliver(BROKER, sent())
    finally:
        await sink.close()
    info = await broker.js.stream_info(broker.stream)
    assert (info.config.subjects, info.config.duplicate_window, info.config.max_msgs) == (subjects, 60, 1000)
    assert info.state.messages == 1


@needs_nats
async def test_a_closed_sink_connects_again_and_a_deleted_stream_is_created_again(broker: Broker) -> None:
    sink = broker.sink()
    try:
        await sink.deliver(BROKER, sent("evt-1"))
        await sink.close()
        await sink.deliver(BROKER, sent("evt-2"))
        assert await broker.messages() == 2

        await broker.js.delete_stream(broker.stream)
        with pytest.raises(DeliveryFailed, match=f"publish to {broker.prefix}.supplier.onboarded"):
            await sink.deliver(BROKER, sent("evt-3"))
        await sink.deliver(BROKER, sent("evt-3"))  # the relay's retry
    finally:
        await sink.close()
    assert await broker.messages() == 1


@needs_nats
async def test_a_server_that_is_not_there_is_a_failure_at_once(broker: Broker) -> None:
    sink = broker.sink(f"nats://user:pw@127.0.0.1:{free_port()}")
    try:
        # a bound on a hang, not a measure: the client's own reconnect loop would take minutes
        async with asyncio.timeout(30):
            with pytest.raises(DeliveryFailed) as raised:
                await sink.deliver(BROKER, sent())
    finally:
        await sink.close()
    assert raised.value.reason.startswith("NATS 127.0.0.1:")
    assert "connect and find stream" in raised.value.reason
    assert "pw" not in raised.value.reason
