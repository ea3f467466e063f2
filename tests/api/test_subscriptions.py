"""`/v1/subscriptions` over HTTP: add (201, a webhook's secret in that answer only; 409 for an id
taken; 422 naming `body.<field>`, also for the rules across fields), list (`?all=true`), show
(delivery counts), remove (pending deliveries cancelled), test (one `subscription.test` event
through a fake sink: `ok`, or `ok: false` and the receiver's error), deliveries, dead letters
with replay and discard (409 unless dead), the scopes (`subscriptions:write` implies
`subscriptions:read`; a vendor partner is refused) and the audit trail. Temporal is not needed."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from cloudevents.core.v1.event import CloudEvent

from adapters.event_sinks import DeliveryFailed
from domain.events import BusinessEvent
from domain.subscriptions import Channel, DeliveryStatus, Subscription
from runtime.settings import Settings
from starter.api.app import create_app
from starter.api.security import issue_token
from store import Store
from tests.support.api import problem_of

HOOK = "https://erp.example.org/events"
READ, WRITE = "subscriptions:read", "subscriptions:write"


@pytest.fixture
async def api(tmp_path: Path) -> AsyncIterator[tuple[httpx.AsyncClient, Settings, Store]]:
    settings = Settings(state_dir=tmp_path)
    store = Store(settings.resolved_store_url)
    app = create_app(settings, client=object(), store=store)  # type: ignore[arg-type]
    app.state.temporal, app.state.store = object(), store
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://api") as client:
            yield client, settings, store
    finally:
        store.close()


def bearer(settings: Settings, *scopes: str, subject: str = "ana", **kw: Any) -> dict[str, str]:
    token, _ = issue_token(settings, subject, list(scopes or (WRITE,)), ["*"], **kw)
    return {"Authorization": f"Bearer {token}"}


def audited(store: Store) -> list[tuple[str, str, str, str | None]]:
    return [(e.actor, e.action, e.record_id, e.outcome) for e in store.audit.query(limit=100)]


def make_dead(store: Store, subscription_id: str, number: int) -> int:
    """A delivery of a new event to `subscription_id`, failed with no retry window left: dead."""
    event = BusinessEvent(event_id=f"evt-{number}", type="supplier.onboarded", subject=f"SUP-{number:04}",
                          occurred_at=datetime.now(UTC))  # fmt: skip
    assert store.append_event(event)
    pending = store.outbox.deliveries(subscription_id, DeliveryStatus.PENDING)
    dead = store.outbox.failed(pending[-1].delivery_id, "HTTP 500: oops", datetime.now(UTC), timedelta(0))
    assert dead.status is DeliveryStatus.DEAD
    return dead.delivery_id


@dataclass
class FakeSink:
    refusal: str | None = None
    received: list[tuple[str, CloudEvent]] = field(default_factory=list)

    async def deliver(self, subscription: Subscription, event: CloudEvent) -> None:
        if self.refusal:
            raise DeliveryFailed(self.refusal)
        self.received.append((subscription.subscription_id, event))

    async def close(self) -> None:
        pass


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch) -> FakeSink:
    fake = FakeSink()

    @asynccontextmanager
    async def sinks(settings: Settings) -> AsyncIterator[dict[Channel, FakeSink]]:
        yield {channel: fake for channel in Channel}

    monkeypatch.setattr("starter.operations.subscriptions.settings_sinks", sinks)
    return fake


WEBHOOK = {"subscription_id": "erp-events", "channel": "webhook", "url": HOOK, "types": ["supplier.*", "item.*"]}


async def test_add_list_show_remove_with_the_secret_shown_once(api: tuple[httpx.AsyncClient, Settings, Store]) -> None:
    client, settings, store = api
    added = await client.post("/v1/subscriptions", json=WEBHOOK, headers=bearer(settings))
    assert added.status_code == 201, added.text
    assert added.headers["Location"] == "/v1/subscriptions/erp-events"
    secret = added.json()["secret"]
    assert isinstance(secret, str) and len(secret) >= 40
    assert added.json()["subscription"] | {"created_at": None} == {
        **WEBHOOK, "team": None, "description": "", "created_by": "ana", "created_at": None, "active": True,
        "removed_at": None, "signed": True,
    }  # fmt: skip
    broker = {"subscription_id": "analytics", "channel": "broker", "types": ["*"]}
    added = await client.post("/v1/subscriptions", json=broker, headers=bearer(settings))
    assert added.status_code == 201 and added.json()["secret"] is None

    readable = bearer(settings, READ)
    listed = await client.get("/v1/subscriptions", headers=readable)
    assert [s["subscription_id"] for s in listed.json()["items"]] == ["erp-events", "analytics"]
    assert secret not in listed.text and "secret" not in listed.json()["items"][0]
    assert make_dead(store, "erp-events", 1)
    shown = await client.get("/v1/subscriptions/erp-events", headers=readable)
    assert shown.status_code == 200 and secret not in shown.text
    assert shown.json()["deliveries"] == {"pending": 0, "delivered": 0, "dead": 1, "discarded": 0, "cancelled": 0}

    removed = await client.delete("/v1/subscriptions/analytics", headers=bearer(settings, subject="bo"))
    assert removed.status_code == 200 and removed.json()["cancelled"] == 1  # evt-1 was pending for it
    assert removed.json()["subscription"]["active"] is False
    problem_of(await client.delete("/v1/subscriptions/analytics", headers=bearer(settings)), 409)
    problem_of(await client.delete("/v1/subscriptions/nope", headers=bearer(settings)), 404)
    problem_of(await client.get("/v1/subscriptions/nope", headers=readable), 404)
    listed = await client.get("/v1/subscriptions", headers=readable)
    assert [s["subscription_id"] for s in listed.json()["items"]] == ["erp-events"]
    listed = await client.get("/v1/subscriptions", params={"all": "true"}, headers=readable)
    assert [s["subscription_id"] for s in listed.json()["items"]] == ["erp-events", "analytics"]

    taken = problem_of(await client.post("/v1/subscriptions", json={**broker, "types": ["x.*"]},
                                         headers=bearer(settings)), 409)  # fmt: skip
    assert taken["field"] == "subscription_id"
    assert audited(store) == [("ana", "subscription.added", "erp-events", "added"),
                              ("ana", "subscription.added", "analytics", "added"),
                              ("bo", "subscription.removed", "analytics", "removed")]  # fmt: skip
    assert secret not in str(store.audit.query(limit=10))


async def test_a_replayed_add_answers_the_same_secret(api: tuple[httpx.AsyncClient, Settings, Store]) -> None:
    client, settings, _ = api
    headers = {**bearer(settings), "Idempotency-Key": "add-erp-events"}
    first = await client.post("/v1/subscriptions", json=WEBHOOK, headers=headers)
    again = await client.post("/v1/subscriptions", json=WEBHOOK, headers=headers)
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json()["secret"] == first.json()["secret"]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({**WEBHOOK, "url": "http://erp.example.org/events"}, ["body.url"]),
        ({"subscription_id": "erp-events", "channel": "webhook", "types": ["*"]}, ["body.url"]),
        ({**WEBHOOK, "types": ["supplier.*", "Bad Type"]}, ["body.types"]),
        ({"subscription_id": "desk", "channel": "team", "team": "pricing", "url": HOOK, "types": ["x.*"]},
         ["body.types"]),
        ({"subscription_id": "desk", "channel": "team", "url": HOOK}, ["body.team"]),
        ({"subscription_id": "desk", "channel": "team"}, ["body.url", "body.team"]),
        ({"subscription_id": "bus", "channel": "broker", "types": ["*"], "secret": "s" * 32}, ["body.secret"]),
        ({**WEBHOOK, "subscription_id": "dead-letters"}, ["body.subscription_id"]),
        ({**WEBHOOK, "subscription_id": "Erp Events"}, ["body.subscription_id"]),
        ({**WEBHOOK, "channel": "pigeon"}, ["body.channel"]),
    ],
)  # fmt: skip
async def test_a_refused_body_is_422_naming_each_field(
    api: tuple[httpx.AsyncClient, Settings, Store], body: dict[str, Any], fields: list[str]
) -> None:
    client, settings, store = api
    refused = problem_of(await client.post("/v1/subscriptions", json=body, headers=bearer(settings)), 422)
    assert [e["field"] for e in refused["errors"]] == fields, refused
    assert store.outbox.subscriptions(include_removed=True) == [] and audited(store) == []


async def test_scopes_write_implies_read_and_vendor_partners_are_refused(
    api: tuple[httpx.AsyncClient, Settings, Store],
) -> None:
    client, settings, store = api
    refused = problem_of(await client.post("/v1/subscriptions", json=WEBHOOK, headers=bearer(settings, READ)), 403)
    assert refused["scope"] == WRITE
    for call in (client.delete("/v1/subscriptions/erp-events", headers=bearer(settings, READ)),
                 client.post("/v1/subscriptions/erp-events/test", headers=bearer(settings, READ)),
                 client.post("/v1/subscriptions/dead-letters/1/replay", headers=bearer(settings, READ))):  # fmt: skip
        problem_of(await call, 403)
    for path in ("/v1/subscriptions", "/v1/subscriptions/dead-letters", "/v1/subscriptions/erp-events"):
        problem_of(await client.get(path, headers=bearer(settings, "intake:write")), 403)
    assert (await client.get("/v1/subscriptions", headers=bearer(settings, WRITE))).status_code == 200
    problem_of(await client.get("/v1/subscriptions"), 401)
    vendor = bearer(settings, READ, WRITE, suppliers=["SUP-0001"])
    problem_of(await client.get("/v1/subscriptions", headers=vendor), 403)
    problem_of(await client.post("/v1/subscriptions", json=WEBHOOK, headers=vendor), 403)
    assert store.outbox.subscriptions() == []


async def test_test_answers_what_the_receiver_said(
    api: tuple[httpx.AsyncClient, Settings, Store], sink: FakeSink
) -> None:
    client, settings, store = api
    await client.post("/v1/subscriptions", json=WEBHOOK, headers=bearer(settings))
    answer = await client.post("/v1/subscriptions/erp-events/test", headers=bearer(settings))
    assert answer.status_code == 200 and answer.json()["ok"] is True and "error" not in answer.json()
    [(subscription_id, event)] = sink.received
    assert subscription_id == "erp-events" and event.get_id() == answer.json()["event_id"]
    assert event.get_type() == "org.supplybridge.subscription.test" and event.get_subject() == "erp-events"
    assert event.get_data() == {"subscription_id": "erp-events", "requested_by": "ana"}
    assert store.outbox.deliveries("erp-events") == []

    sink.refusal = "HTTP 410: gone"
    answer = await client.post("/v1/subscriptions/erp-events/test", headers=bearer(settings))
    assert answer.status_code == 200 and answer.json()["ok"] is False and answer.json()["error"] == "HTTP 410: gone"
    problem_of(await client.post("/v1/subscriptions/nope/test", headers=bearer(settings)), 404)
    await client.delete("/v1/subscriptions/erp-events", headers=bearer(settings))
    problem_of(await client.post("/v1/subscriptions/erp-events/test", headers=bearer(settings)), 409)
    assert [a[1:] for a in audited(store)][1:3] == [("subscription.tested", "erp-events", "ok"),
                                                    ("subscription.tested", "erp-events", "failed")]  # fmt: skip


async def test_dead_letters_are_listed_replayed_and_discarded(api: tuple[httpx.AsyncClient, Settings, Store]) -> None:
    client, settings, store = api
    await client.post("/v1/subscriptions", json=WEBHOOK, headers=bearer(settings))
    first, second = make_dead(store, "erp-events", 1), make_dead(store, "erp-events", 2)

    page = await client.get("/v1/subscriptions/dead-letters", headers=bearer(settings, READ))
    assert page.status_code == 200 and [d["delivery_id"] for d in page.json()["items"]] == [first, second]
    letter = page.json()["items"][0]
    assert (letter["event_id"], letter["event_type"], letter["subject"]) == ("evt-1", "supplier.onboarded", "SUP-0001")
    assert letter["attempts"] == 1 and letter["last_error"] == "HTTP 500: oops" and letter["first_failed_at"]
    page = await client.get("/v1/subscriptions/dead-letters", params={"subscription": "other"},
                            headers=bearer(settings, READ))  # fmt: skip
    assert page.json()["items"] == []

    replayed = await client.post(f"/v1/subscriptions/dead-letters/{first}/replay", headers=bearer(settings))
    assert replayed.status_code == 200 and replayed.json()["status"] == "pending"
    problem_of(await client.post(f"/v1/subscriptions/dead-letters/{first}/replay", headers=bearer(settings)), 409)
    problem_of(await client.post("/v1/subscriptions/dead-letters/999/replay", headers=bearer(settings)), 404)
    problem_of(await client.post(f"/v1/subscriptions/dead-letters/{second}/discard", json={},
                                 headers=bearer(settings)), 422)  # fmt: skip
    discarded = await client.post(f"/v1/subscriptions/dead-letters/{second}/discard", json={"reason": "not needed"},
                                  headers=bearer(settings, subject="bo"))  # fmt: skip
    assert discarded.status_code == 200 and discarded.json()["status"] == "discarded"
    assert discarded.json()["closed_by"] == "bo"
    problem_of(await client.post(f"/v1/subscriptions/dead-letters/{second}/discard", json={"reason": "again"},
                                 headers=bearer(settings)), 409)  # fmt: skip

    pending = await client.get("/v1/subscriptions/erp-events/deliveries", params={"status": "pending"},
                               headers=bearer(settings, READ))  # fmt: skip
    assert [d["delivery_id"] for d in pending.json()["items"]] == [first]
    every = await client.get("/v1/subscriptions/erp-events/deliveries", headers=bearer(settings, READ))
    assert [d["status"] for d in every.json()["items"]] == ["pending", "discarded"]
    problem_of(await client.get("/v1/subscriptions/nope/deliveries", headers=bearer(settings, READ)), 404)
    assert [a[1:] for a in audited(store)][1:] == [("event_delivery.replayed", str(first), "replayed"),
                                                   ("event_delivery.discarded", str(second), "discarded")]  # fmt: skip
    assert store.audit.query(record_id=str(second), limit=5)[0].details["reason"] == "not needed"


async def test_the_routes_are_documented(api: tuple[httpx.AsyncClient, Settings, Store]) -> None:
    client, _, _ = api
    paths = (await client.get("/openapi.json")).json()["paths"]
    assert set(paths["/v1/subscriptions"]) == {"get", "post"}
    assert "201" in paths["/v1/subscriptions"]["post"]["responses"]
    assert set(paths["/v1/subscriptions/{subscription_id}"]) == {"get", "delete"}
    for path in ("/v1/subscriptions/dead-letters", "/v1/subscriptions/{subscription_id}/deliveries"):
        assert set(paths[path]) == {"get"}
