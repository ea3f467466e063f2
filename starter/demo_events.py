"""The demo's business-events scenarios, after all the others: the events they published left the
platform through the outbox and the `event-relay` workflow as signed CloudEvents.

- The sandbox analytics platform (subscription `sandbox-analytics`, made by `up`) received the
  supplier and master-data events: the row names how many, and one of them.
- When NATS with JetStream answers at `SUPPLYBRIDGE_EVENTS_BROKER_URL`, the demo subscribes the
  broker to every event (`demo-jetstream`) before the first scenario and follows the stream with
  an ordered consumer of its own: the row says how many of the events delivered to the broker the
  consumer saw, each once. Without NATS the demo says so and shows no row for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
import nats
from nats.aio.client import Client as NatsClient
from nats.aio.msg import Msg
from nats.js.api import DeliverPolicy

from adapters.event_sinks_nats import ensure_stream
from domain.subscriptions import Channel, DeliveryStatus, Subscription
from runtime.settings import Settings
from starter.demo_report import DemoProgress, Row
from starter.operations.event_relay import ANALYTICS_SUBSCRIPTION
from starter.stack import EmbeddedStack
from store import Store
from workflows.event_relay import RELAY_WORKFLOW_ID

BROKER_SUBSCRIPTION = "demo-jetstream"
WAIT_SECONDS = 20.0


@dataclass
class StreamWatch:
    """The demo's own consumer of the event stream: every CloudEvent id it saw, in order."""

    client: NatsClient | None = None
    seen: list[str] = field(default_factory=list)

    async def on_message(self, message: Msg) -> None:
        with contextlib.suppress(ValueError, KeyError, TypeError):
            self.seen.append(str(json.loads(message.data)["id"]))

    async def close(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.close()


async def watch_the_broker(stack: EmbeddedStack, progress: DemoProgress) -> StreamWatch:
    """Subscribe the broker to every event and follow the stream (nothing when NATS is not there)."""
    settings = stack.settings
    watch = StreamWatch()
    try:
        watch.client = await nats.connect(settings.events_broker_url, connect_timeout=2, allow_reconnect=False)
        js = watch.client.jetstream()
        await ensure_stream(js, settings.events_stream, settings.events_subject_prefix)
        await js.subscribe(f"{settings.events_subject_prefix}.>", cb=watch.on_message, ordered_consumer=True,
                           deliver_policy=DeliverPolicy.NEW)  # fmt: skip
    except Exception as error:  # no server, no JetStream: the demo goes on without the broker
        await watch.close()
        progress.say(f"NATS JetStream not reachable at {settings.events_broker_url} ({type(error).__name__}): "
                     "the events go to the webhook subscribers only")  # fmt: skip
        return StreamWatch()
    subscription = Subscription(subscription_id=BROKER_SUBSCRIPTION, channel=Channel.BROKER, types=["*"],
                                description="the demo's broker subscription", created_by="demo",
                                created_at=datetime.now(UTC))  # fmt: skip
    await asyncio.to_thread(_put, settings, subscription)
    progress.say(f"Events also go to JetStream: stream {settings.events_stream}, "
                 f"subjects {settings.events_subject_prefix}.<event type>")  # fmt: skip
    return watch


async def events(stack: EmbeddedStack, progress: DemoProgress, watch: StreamWatch) -> None:
    settings = stack.settings
    progress.add(await _analytics_received(settings))
    if watch.client is not None:
        progress.add(await _stream_received(settings, watch))
    await watch.close()


async def _analytics_received(settings: Settings) -> Row:
    """Every delivery to the sandbox analytics done, and what it holds."""
    await _drained(settings, ANALYTICS_SUBSCRIPTION)
    headers = {"Authorization": f"Bearer {settings.sandbox_token.get_secret_value()}"}
    async with httpx.AsyncClient(base_url=settings.resolved_sandbox_url, headers=headers, timeout=10) as http:
        page = (await http.get("/analytics/events", params={"limit": 200})).json()
    received = page.get("items", [])
    types = Counter(str(e.get("type", "")).removeprefix("org.supplybridge.") for e in received)
    onboarded = next((e for e in received if e.get("type") == "org.supplybridge.supplier.onboarded"), None)
    example = f"; e.g. supplier.onboarded of {onboarded['subject']} (id {onboarded['id']})" if onboarded else ""
    kinds = ", ".join(f"{n} {t}" for t, n in types.most_common(4))
    return Row(
        name="business events -> sandbox analytics",
        workflow_id=RELAY_WORKFLOW_ID,
        outcome="delivered" if onboarded else "missing",
        detail=f"{len(received)} signed CloudEvents ({kinds}){example}; supplybridge subscriptions show "
        f"{ANALYTICS_SUBSCRIPTION}",
        ok=onboarded is not None,
        url=settings.workflow_url(RELAY_WORKFLOW_ID),
    )


async def _stream_received(settings: Settings, watch: StreamWatch) -> Row:
    delivered = await _drained(settings, BROKER_SUBSCRIPTION)
    deadline = time.monotonic() + WAIT_SECONDS
    while not set(delivered) <= set(watch.seen) and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
    ours = [event_id for event_id in watch.seen if event_id in set(delivered)]
    repeated = len(ours) - len(set(ours))
    ok = bool(delivered) and set(ours) == set(delivered) and repeated == 0
    return Row(
        name="business events -> NATS JetStream",
        workflow_id=RELAY_WORKFLOW_ID,
        outcome="delivered" if ok else "incomplete",
        detail=f"a consumer of {settings.events_subject_prefix}.> saw {len(set(ours))} of the {len(delivered)} "
        f"events published, {repeated} twice (stream {settings.events_stream}; message id = event id)",
        ok=ok,
        url=settings.workflow_url(RELAY_WORKFLOW_ID),
    )


async def _drained(settings: Settings, subscription_id: str) -> list[str]:
    """Once nothing is pending for the subscription (or the wait is over): its delivered events."""
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        pending, delivered = await asyncio.to_thread(_deliveries, settings, subscription_id)
        if not pending or time.monotonic() > deadline:
            return delivered
        await asyncio.sleep(0.2)


def _deliveries(settings: Settings, subscription_id: str) -> tuple[int, list[str]]:
    with Store(settings.resolved_store_url, migrate=False) as store:
        found = store.outbox.deliveries(subscription_id, limit=10_000)
    pending = sum(1 for d in found if d.status is DeliveryStatus.PENDING)
    return pending, [d.event_id for d in found if d.status is DeliveryStatus.DELIVERED]


def _put(settings: Settings, subscription: Subscription) -> None:
    with Store(settings.resolved_store_url) as store:
        store.outbox.put_subscription(subscription)
