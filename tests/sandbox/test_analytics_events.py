"""The sandbox analytics platform as an event subscriber: our WebhookSink's signed CloudEvents are
taken once per event id; an unsigned or wrongly signed one is refused; listing needs the token."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest

from adapters.event_sinks import DeliveryFailed
from adapters.event_sinks_http import WebhookSink
from domain.cloud_events import cloud_event, structured
from domain.events import BusinessEvent
from domain.subscriptions import Channel, Subscription
from runtime.settings import Settings
from starter.operations.event_relay import ANALYTICS_SUBSCRIPTION, ensure_standing_subscriptions
from store import Store
from tests.support.sandbox import RunningSandbox, running_sandbox

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def sandbox(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    """A sandbox of its own: a subscription's secret is 16 characters at least."""
    with running_sandbox(tmp_path_factory.mktemp("analytics"), webhook_secret="analytics-test-secret") as running:
        yield running


def subscription(sandbox: RunningSandbox, secret: str) -> Subscription:
    url = f"{sandbox.url}/analytics/events"
    return Subscription(subscription_id="analytics", channel=Channel.WEBHOOK, types=["supplier.*"], url=url,
                        secret=secret, created_by="t", created_at=NOW)  # fmt: skip


def onboarded(event_id: str = "wf:run:1:supplier.onboarded") -> BusinessEvent:
    return BusinessEvent(event_id=event_id, type="supplier.onboarded", subject="VM-1", occurred_at=NOW,
                         data={"erp_supplier_id": "SUP-0100"})  # fmt: skip


async def test_signed_events_are_kept_once_by_id_and_listed(sandbox: RunningSandbox, http: httpx.Client) -> None:
    async with httpx.AsyncClient() as client:
        sink = WebhookSink(client, timeout=5)
        event = cloud_event(onboarded(), source="urn:supplybridge:test", sequence=1)
        await sink.deliver(subscription(sandbox, sandbox.config.webhook_secret), event)
        await sink.deliver(subscription(sandbox, sandbox.config.webhook_secret), event)  # a redelivery
        forged = cloud_event(onboarded("forged"), source="urn:supplybridge:test", sequence=2)
        with pytest.raises(DeliveryFailed, match="401"):
            await sink.deliver(subscription(sandbox, "another-secret-of-some-length"), forged)

    listed = http.get("/analytics/events").json()
    assert [(e["id"], e["type"], e["subject"]) for e in listed["items"]] == [
        ("wf:run:1:supplier.onboarded", "org.supplybridge.supplier.onboarded", "VM-1")
    ]
    assert listed["items"][0]["data"] == {"erp_supplier_id": "SUP-0100"}


def test_an_unsigned_post_is_refused_and_the_list_needs_the_token(sandbox: RunningSandbox) -> None:
    body = structured(cloud_event(onboarded(), source="urn:supplybridge:test", sequence=1))
    with httpx.Client(base_url=sandbox.url) as anonymous:
        refused = anonymous.post("/analytics/events", content=body, headers={"Idempotency-Key": "k1"})
        assert refused.status_code == 401 and "signature" in refused.json()["detail"].lower()
        assert anonymous.get("/analytics/events").status_code == 401


def test_up_keeps_the_analytics_and_team_subscriptions_of_the_settings(tmp_path: Path) -> None:
    settings = Settings(environment="development", team_notification_urls={
        "accounts_payable": "https://hooks.example/ap", "purchasing": "https://hooks.example/purchasing"})  # fmt: skip
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as store:
        made = ensure_standing_subscriptions(
            store, settings, sandbox_analytics_url="http://127.0.0.1:9/analytics/events"
        )
        assert made == [ANALYTICS_SUBSCRIPTION, "team-accounts-payable", "team-purchasing"]
        team = store.outbox.subscription("team-accounts-payable")
        assert team is not None and (team.channel, team.team) == (Channel.TEAM, "accounts_payable")
        analytics = store.outbox.subscription(ANALYTICS_SUBSCRIPTION)
        assert analytics is not None and analytics.secret == settings.webhook_secret.get_secret_value()

        fewer = settings.model_copy(update={"team_notification_urls": {"purchasing": "https://hooks.example/p2"}})
        assert ensure_standing_subscriptions(store, fewer, sandbox_analytics_url=None) == ["team-purchasing"]
        assert [s.subscription_id for s in store.outbox.subscriptions()] == ["team-purchasing"]
        purchasing = store.outbox.subscription("team-purchasing")
        assert purchasing is not None and purchasing.url == "https://hooks.example/p2"
