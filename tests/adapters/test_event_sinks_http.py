"""The HTTP event sinks: a webhook delivery over a real socket is a CloudEvent our reader reads,
signed so that `runtime.webhooks.verify` accepts it (and refuses it with another secret), keyed by
the event id; a 500, a refused connection, a silent receiver and a redirect are failures whose
reason says what happened. The team notification line and its body; the sinks of the settings
and their closing."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from cloudevents.core.v1.event import CloudEvent

from adapters.event_sinks import DeliveryFailed
from adapters.event_sinks_http import TeamChannelSink, WebhookSink, notification_text
from adapters.event_sinks_nats import JetStreamSink
from domain.cloud_events import CONTENT_TYPE, cloud_event, read
from domain.events import BusinessEvent
from domain.subscriptions import Channel, Subscription
from runtime.event_sinks import build_sinks, close_sinks
from runtime.ports import free_port
from runtime.settings import Settings
from runtime.webhooks import SIGNATURE_HEADER, verify
from tests.support.webhooks import webhook_receiver

SECRET = "receiver-shared-secret-0123456789"
SOURCE = "urn:supplybridge:test"


def business_event(
    event_type: str = "supplier.onboarded",
    subject: str = "SUP-0001",
    data: dict[str, Any] | None = None,
    workflow_id: str | None = "supplier-onboarding-SUP-0001",
) -> BusinessEvent:
    return BusinessEvent(
        event_id=f"evt-{event_type}-{subject}",
        type=event_type,
        subject=subject,
        workflow_id=workflow_id,
        occurred_at=datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        data={"supplier_id": subject} if data is None else data,
    )


def event_of(**kwargs: Any) -> CloudEvent:
    return cloud_event(business_event(**kwargs), source=SOURCE, sequence=7)


def webhook(url: str, *, secret: str | None = SECRET) -> Subscription:
    return Subscription(
        subscription_id="erp-listener",
        channel=Channel.WEBHOOK,
        types=["supplier.*"],
        url=url,
        secret=secret,
        created_by="test",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
    )


def team_channel(
    url: str = "https://hooks.example.test/services/T0/B0/x", team: str = "accounts_payable"
) -> Subscription:
    return Subscription(
        subscription_id=f"team-{team.replace('_', '-')}",
        channel=Channel.TEAM,
        url=url,
        team=team,
        created_by="test",
        created_at=datetime(2026, 3, 1, tzinfo=UTC),
    )


def mock_client(answer: Callable[[httpx.Request], httpx.Response]) -> tuple[httpx.AsyncClient, list[httpx.Request]]:
    """A client whose requests `answer` answers, and the list of the requests it got."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return answer(request)

    return httpx.AsyncClient(transport=httpx.MockTransport(handler), follow_redirects=False), seen


async def failure(sink: WebhookSink | TeamChannelSink, subscription: Subscription) -> str:
    with pytest.raises(DeliveryFailed) as raised:
        await sink.deliver(subscription, event_of())
    return raised.value.reason


# --- webhooks over a real socket -------------------------------------------------------------


async def test_a_webhook_is_a_signed_cloud_event_keyed_by_its_id() -> None:
    event = event_of()
    with webhook_receiver() as receiver:
        async with httpx.AsyncClient(follow_redirects=False) as client:
            await WebhookSink(client, timeout=5).deliver(webhook(receiver.url), event)
        (got,) = receiver.received

    assert got.headers["content-type"] == CONTENT_TYPE
    received = read(got.body)
    assert received.get_id() == event.get_id() == "evt-supplier.onboarded-SUP-0001"
    assert received.get_type() == "org.supplybridge.supplier.onboarded"
    assert received.get_subject() == "SUP-0001"
    assert received.get_data() == {"supplier_id": "SUP-0001"}
    assert got.headers["idempotency-key"] == event.get_id()
    assert got.headers["x-supplybridge-event-id"] == event.get_id()
    assert got.headers["x-supplybridge-event-type"] == "org.supplybridge.supplier.onboarded"
    signature = got.headers[SIGNATURE_HEADER.lower()]
    assert verify(SECRET, got.body, signature) is None
    assert verify("another-secret-0123456789", got.body, signature) == "the signature does not match the body"
    assert verify(SECRET, got.body + b" ", signature) is not None


async def test_an_unsigned_subscription_sends_no_signature() -> None:
    client, seen = mock_client(lambda request: httpx.Response(204))
    async with client:
        await WebhookSink(client, timeout=5).deliver(
            webhook("https://erp.example.test/events", secret=None), event_of()
        )
    assert SIGNATURE_HEADER not in seen[0].headers
    assert seen[0].headers["Idempotency-Key"] == "evt-supplier.onboarded-SUP-0001"


async def test_a_refused_connection_is_a_failure() -> None:
    async with httpx.AsyncClient(follow_redirects=False) as client:
        reason = await failure(WebhookSink(client, timeout=5), webhook(f"http://127.0.0.1:{free_port()}/events"))
    assert reason.startswith("ConnectError")


@pytest.fixture
async def silent_receiver() -> AsyncIterator[str]:
    """A receiver that accepts connections and never answers."""
    release = asyncio.Event()

    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await release.wait()
        writer.close()

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}/events"
    finally:
        release.set()
        server.close()
        await server.wait_closed()


async def test_a_receiver_that_does_not_answer_is_a_failure(silent_receiver: str) -> None:
    async with httpx.AsyncClient(follow_redirects=False) as client:
        reason = await failure(WebhookSink(client, timeout=0.2), webhook(silent_receiver))
    assert reason == "no answer within 0.2s (ReadTimeout)"


# --- failures the receiver answers ------------------------------------------------------------


async def test_an_error_answer_is_a_failure_with_its_status_and_the_start_of_its_body() -> None:
    body = "database\n  unavailable " + "x" * 1000
    client, _ = mock_client(lambda request: httpx.Response(500, text=body))
    async with client:
        reason = await failure(WebhookSink(client, timeout=5), webhook("https://erp.example.test/events"))
    assert reason.startswith("HTTP 500: database unavailable xxx")
    assert len(reason) == len("HTTP 500: ") + 200


async def test_an_error_answer_without_a_body_is_its_status() -> None:
    client, _ = mock_client(lambda request: httpx.Response(410))
    async with client:
        assert await failure(WebhookSink(client, timeout=5), webhook("https://erp.example.test/events")) == "HTTP 410"


async def test_a_redirect_is_not_followed_and_names_where_it_points() -> None:
    moved = "https://new.example.test/events"

    def answer(request: httpx.Request) -> httpx.Response:
        if request.url.host == "new.example.test":
            return httpx.Response(200)
        return httpx.Response(302, headers={"Location": moved})

    client, seen = mock_client(answer)
    async with client:
        reason = await failure(WebhookSink(client, timeout=5), webhook("https://erp.example.test/events"))
    assert reason == f"HTTP 302 redirect to {moved} (redirects are not followed)"
    assert [request.url.host for request in seen] == ["erp.example.test"]


async def test_a_subscription_without_url_is_a_failure() -> None:
    client, seen = mock_client(lambda request: httpx.Response(200))
    broken = webhook("https://erp.example.test/events").model_copy(update={"url": None})
    async with client:
        assert "has no url" in await failure(WebhookSink(client, timeout=5), broken)
    assert seen == []


# --- team notification channels ---------------------------------------------------------------

INVOICE_EXCEPTION = {
    "event_type": "invoice.exception_raised",
    "subject": "SUP-0001/INV1",
    "data": {
        "po_number": "PO-1",
        "invoice_number": "INV-1",
        "team": "accounts_payable",
        "kinds": ["price", "quantity"],
    },
    "workflow_id": "invoice-SUP-0001-INV1",
}


def test_the_line_names_the_team_the_thing_what_happened_and_where_to_look() -> None:
    assert notification_text(event_of(**INVOICE_EXCEPTION), "accounts_payable") == (
        "[accounts_payable] Invoice INV-1 exception raised: price, quantity"
        " · subject SUP-0001/INV1 · invoice.exception_raised · workflow invoice-SUP-0001-INV1"
    )


def test_the_line_takes_a_single_kind_and_the_subject_when_no_number_is_given() -> None:
    data = {"supplier_id": "SUP-0001", "kind": "off_contract", "team": "contracting"}
    event = event_of(event_type="purchase_order.exception_raised", subject="PO-1", data=data, workflow_id=None)
    assert notification_text(event, "contracting") == (
        "[contracting] Purchase order PO-1 exception raised: off contract"
        " · subject PO-1 · purchase_order.exception_raised"
    )


def test_the_line_carries_the_summary_on_one_line_and_cut() -> None:
    summary = "no eligible contracted vendor\nfor 31 CS of GLOVE-M at CENTRAL " + "y" * 400
    event = event_of(
        event_type="replenishment.sourcing_exception",
        subject="CENTRAL/GLOVE-M",
        data={"summary": summary},
        workflow_id="replenishment-CENTRAL-GLOVE-M",
    )
    text = notification_text(event, "purchasing")
    assert text.startswith(
        "[purchasing] Replenishment CENTRAL/GLOVE-M sourcing exception — "
        "no eligible contracted vendor for 31 CS of GLOVE-M at CENTRAL yyy"
    )
    assert "\n" not in text
    assert "y" * 300 not in text and "…" in text
    assert text.endswith(" · replenishment.sourcing_exception · workflow replenishment-CENTRAL-GLOVE-M")


async def test_a_team_channel_gets_just_the_text() -> None:
    client, seen = mock_client(lambda request: httpx.Response(200, text="ok"))
    event = event_of(**{**INVOICE_EXCEPTION, "data": {"invoice_number": "INV<1>&2", "kinds": ["price"]}})
    async with client:
        await TeamChannelSink(client, timeout=5).deliver(team_channel(), event)
    (request,) = seen
    assert request.headers["Content-Type"] == "application/json"
    body = json.loads(request.content)
    assert list(body) == ["text"]
    assert body["text"].startswith("[accounts_payable] Invoice INV&lt;1&gt;&amp;2 exception raised: price · ")


async def test_a_team_channel_failure_is_a_failure_like_a_webhook() -> None:
    client, _ = mock_client(lambda request: httpx.Response(404, text="no_service"))
    async with client:
        assert await failure(TeamChannelSink(client, timeout=5), team_channel()) == "HTTP 404: no_service"


# --- the sinks of the settings ----------------------------------------------------------------


async def test_the_settings_give_one_sink_per_channel_sharing_one_http_client() -> None:
    settings = Settings(
        http_timeout_seconds=3.0,
        events_broker_url="nats://127.0.0.1:4333",
        events_stream="EVENTS_TEST",
        events_subject_prefix="test.events",
    )
    sinks = build_sinks(settings)
    assert set(sinks) == set(Channel)
    webhook_sink, team_sink, broker = sinks[Channel.WEBHOOK], sinks[Channel.TEAM], sinks[Channel.BROKER]
    assert isinstance(webhook_sink, WebhookSink) and isinstance(team_sink, TeamChannelSink)
    assert webhook_sink.client is team_sink.client
    assert webhook_sink.client.follow_redirects is False
    assert webhook_sink.client.timeout.read == 3.0
    assert isinstance(broker, JetStreamSink)
    assert (broker.url, broker.stream, broker.subject_prefix) == ("nats://127.0.0.1:4333", "EVENTS_TEST", "test.events")

    await close_sinks(sinks)  # the broker never connected: nothing to drain
    assert webhook_sink.client.is_closed
