"""The event sinks of the settings: one `EventSink` (adapters/event_sinks.py) per channel.

- `webhook` and `team` share one `httpx.AsyncClient` (one connection pool for every receiver;
  `follow_redirects=False`, `http_timeout_seconds` per request);
- `broker` is the adapter `events_broker` names; only NATS JetStream today, at
  `events_broker_url`, stream `events_stream`, subjects `<events_subject_prefix>.<event type>`.
  A Kafka or RabbitMQ adapter is one more case of the match and one more Literal value.

Team channels' URLs (`team_notification_urls`) are not read here: each is a `team` subscription
(`supplybridge up` keeps them), and the sink posts to the subscription's URL.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import assert_never

import httpx

from adapters.event_sinks import EventSink
from adapters.event_sinks_http import USER_AGENT, TeamChannelSink, WebhookSink
from adapters.event_sinks_nats import JetStreamSink
from domain.subscriptions import Channel
from runtime.settings import Settings


def build_sinks(settings: Settings) -> dict[Channel, EventSink]:
    timeout = settings.http_timeout_seconds
    client = httpx.AsyncClient(
        follow_redirects=False, timeout=httpx.Timeout(timeout), headers={"User-Agent": USER_AGENT}
    )
    return {
        Channel.WEBHOOK: WebhookSink(client, timeout=timeout),
        Channel.TEAM: TeamChannelSink(client, timeout=timeout),
        Channel.BROKER: _broker(settings),
    }


def _broker(settings: Settings) -> EventSink:
    match settings.events_broker:
        case "nats":
            return JetStreamSink(
                settings.events_broker_url,
                stream=settings.events_stream,
                subject_prefix=settings.events_subject_prefix,
                connect_timeout=settings.http_timeout_seconds,
            )
        case unknown:
            assert_never(unknown)


async def close_sinks(sinks: Mapping[Channel, EventSink]) -> None:
    """Close each sink once, then each HTTP client the sinks share, once."""
    clients: dict[int, httpx.AsyncClient] = {}
    closed: set[int] = set()
    for sink in sinks.values():
        if id(sink) in closed:
            continue
        closed.add(id(sink))
        await sink.close()
        if isinstance(sink, WebhookSink | TeamChannelSink):
            clients[id(sink.client)] = sink.client
    for client in clients.values():
        await client.aclose()
