"""`supplybridge subscriptions ...` against a store in a state dir: add (exactly one channel, a
webhook's secret generated and printed once), list, show (delivery counts), remove (pending
deliveries cancelled), test (one `subscription.test` CloudEvent through a fake sink: ok, or the
receiver's reason and exit 1), deliveries, dead-letters, replay and discard (only a dead one:
exit 2 otherwise). Refusals name the option; every change is audited with `--by`. Dead letters
are made through the store: an event recorded for a subscription, its delivery failed with no
retry window left."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from cloudevents.core.v1.event import CloudEvent
from typer.testing import CliRunner

from adapters.event_sinks import DeliveryFailed
from domain.events import BusinessEvent
from domain.subscriptions import Channel, DeliveryStatus, Subscription
from runtime.settings import Settings
from starter.cli import app
from store import Store

HOOK = "https://erp.example.org/events"


@pytest.fixture
def state(tmp_path: Path) -> Path:
    Store(f"sqlite:///{tmp_path / 'state' / 'supplybridge.sqlite'}").close()
    return tmp_path / "state"


def open_store(state: Path) -> Store:
    return Store(f"sqlite:///{state / 'supplybridge.sqlite'}")


def cli(state: Path, *args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["subscriptions", *args, "--state-dir", str(state), "--json"],
                                standalone_mode=False)  # fmt: skip
    assert result.exception is None, result.exception
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return int(result.return_value or 0), json.loads(lines[0])


def text(state: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(app, ["subscriptions", *args, "--state-dir", str(state)], env={"COLUMNS": "100"},
                                standalone_mode=False)  # fmt: skip
    assert result.exception is None, result.exception
    return int(result.return_value or 0), result.output


def audited(state: Path) -> list[tuple[str, str, str, str | None]]:
    with open_store(state) as store:
        return [(e.actor, e.action, e.record_id, e.outcome) for e in store.audit.query(limit=100)]


def record_event(state: Path, number: int, type: str = "supplier.onboarded") -> None:
    event = BusinessEvent(event_id=f"evt-{number}", type=type, subject=f"SUP-{number:04}",
                          occurred_at=datetime.now(UTC), data={"n": number})  # fmt: skip
    with open_store(state) as store:
        assert store.append_event(event)


def make_dead(state: Path, subscription_id: str, number: int, type: str = "supplier.onboarded") -> int:
    """A delivery of a new event to `subscription_id`, failed with no retry window left: dead."""
    record_event(state, number, type)
    with open_store(state) as store:
        pending = store.outbox.deliveries(subscription_id, DeliveryStatus.PENDING)
        dead = store.outbox.failed(pending[-1].delivery_id, "HTTP 503: busy", datetime.now(UTC), timedelta(0))
    assert dead.status is DeliveryStatus.DEAD
    return dead.delivery_id


@dataclass
class FakeSink:
    """Takes every event, or refuses each with `refusal`."""

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
    """The sinks of the settings replaced by one fake for every channel."""
    fake = FakeSink()

    @asynccontextmanager
    async def sinks(settings: Settings) -> AsyncIterator[dict[Channel, FakeSink]]:
        yield {channel: fake for channel in Channel}

    monkeypatch.setattr("starter.operations.subscriptions.settings_sinks", sinks)
    return fake


# --- add, list, show, remove ------------------------------------------------------------------------


def test_add_list_show_remove_and_the_secret_is_printed_once(state: Path) -> None:
    code, out = cli(state, "add", "erp-events", "--webhook", HOOK, "--types", "supplier.*,item.*",
                    "--description", "the ERP", "--by", "ana")  # fmt: skip
    assert code == 0 and out["ok"] is True
    secret = out["secret"]
    assert isinstance(secret, str) and len(secret) >= 40
    assert out["subscription"]["types"] == ["supplier.*", "item.*"] and out["subscription"]["signed"] is True
    assert out["subscription"]["created_by"] == "ana"
    code, out = cli(state, "add", "analytics", "--broker", "--types", "*", "--by", "ana")
    assert code == 0 and out["secret"] is None and out["subscription"]["signed"] is False
    code, out = cli(state, "add", "pricing-desk", "--team", "pricing", "--url", "https://hooks.example.org/T1",
                    "--by", "ana")  # fmt: skip
    assert code == 0 and out["subscription"]["team"] == "pricing"

    code, out = cli(state, "list")
    assert code == 0 and [s["subscription_id"] for s in out["subscriptions"]] == ["erp-events", "analytics",
                                                                                   "pricing-desk"]  # fmt: skip
    assert secret not in json.dumps(out) and all("secret" not in s for s in out["subscriptions"])
    code, shown = text(state, "show", "erp-events")
    assert code == 0 and secret not in shown and "signed" in shown and "True" in shown

    record_event(state, 1)  # erp-events and analytics each get a pending delivery
    code, out = cli(state, "show", "erp-events")
    assert code == 0 and out["subscription"]["signed"] is True and "secret" not in out["subscription"]
    assert out["deliveries"] == {"pending": 1, "delivered": 0, "dead": 0, "discarded": 0, "cancelled": 0}

    code, out = cli(state, "remove", "erp-events", "--by", "bo")
    assert code == 0 and out["cancelled"] == 1 and out["subscription"]["active"] is False
    code, removed = text(state, "remove", "analytics", "--by", "bo")
    assert code == 0 and "1 pending deliveries cancelled" in removed
    code, out = cli(state, "list")
    assert [s["subscription_id"] for s in out["subscriptions"]] == ["pricing-desk"]
    code, out = cli(state, "list", "--all")
    assert [s["subscription_id"] for s in out["subscriptions"]] == ["erp-events", "analytics", "pricing-desk"]
    code, out = cli(state, "show", "erp-events")
    assert out["deliveries"]["cancelled"] == 1 and out["subscription"]["removed_at"]

    code, out = cli(state, "remove", "erp-events")
    assert code == 2 and "removed" in out["error"]
    code, out = cli(state, "remove", "nope")
    assert code == 2 and out["error"] == "no subscription nope"
    code, out = cli(state, "add", "erp-events", "--broker", "--types", "*")
    assert code == 2 and out["errors"] == [{"field": "ID", "reason": "is taken (also by a removed one)"}]
    assert audited(state) == [
        ("ana", "subscription.added", "erp-events", "added"),
        ("ana", "subscription.added", "analytics", "added"),
        ("ana", "subscription.added", "pricing-desk", "added"),
        ("bo", "subscription.removed", "erp-events", "removed"),
        ("bo", "subscription.removed", "analytics", "removed"),
    ]
    with open_store(state) as store:
        details = store.audit.query(record_id="erp-events", limit=5)[0].details
    assert secret not in json.dumps(details) and details["receiver"] == "https://erp.example.org"


def test_a_given_secret_signs_and_is_printed_by_add_only(state: Path) -> None:
    code, added = text(state, "add", "erp-events", "--webhook", HOOK, "--types", "*", "--secret", "s" * 32)
    assert code == 0 and "s" * 32 in added and "shown once" in added
    code, listed = text(state, "list")
    assert code == 0 and "erp-events" in listed and "s" * 32 not in listed
    with open_store(state) as store:
        found = store.outbox.subscription("erp-events")
    assert found is not None and found.secret == "s" * 32


@pytest.mark.parametrize(
    ("args", "field", "reason"),
    [
        (["--types", "*"], "--webhook|--broker|--team", "exactly one channel"),
        (["--broker", "--webhook", HOOK, "--types", "*"], "--webhook|--broker|--team", "exactly one channel"),
        (["--webhook", "http://erp.example.org/events", "--types", "*"], "--webhook", "must be https"),
        (["--webhook", "", "--types", "*"], "--webhook", "needs the receiver's URL"),
        (["--webhook", HOOK, "--types", "supplier.*,Bad Type"], "--types", "is not an event type pattern"),
        (["--webhook", HOOK], "--types", "name at least one event type pattern"),
        (["--team", "pricing", "--url", "https://hooks.example.org/T1", "--types", "invoice.*"], "--types",
         "routed to its team"),
        (["--team", "pricing"], "--url", "needs team and url"),
        (["--broker", "--types", "*", "--url", HOOK], "--url", "broker of the settings"),
        (["--broker", "--types", "*", "--secret", "s" * 32], "--secret", "only a webhook"),
        (["--webhook", HOOK, "--url", HOOK, "--types", "*"], "--url", "value of --webhook"),
    ],
)  # fmt: skip
def test_bad_input_is_exit_2_naming_the_option(state: Path, args: list[str], field: str, reason: str) -> None:
    code, out = cli(state, "add", "erp-events", *args)
    assert code == 2 and out["ok"] is False
    assert [e["field"] for e in out["errors"]] == [field] and reason in out["errors"][0]["reason"], out
    code, out = cli(state, "list")
    assert out["subscriptions"] == [] and audited(state) == []


def test_a_bad_id_and_the_reserved_one_name_id(state: Path) -> None:
    for bad in ("Erp Events", "dead-letters"):
        code, out = cli(state, "add", bad, "--broker", "--types", "*")
        assert code == 2 and [e["field"] for e in out["errors"]] == ["ID"], out


# --- test --------------------------------------------------------------------------------------------


def test_test_sends_one_event_through_the_channel_sink_not_the_outbox(state: Path, sink: FakeSink) -> None:
    cli(state, "add", "erp-events", "--webhook", HOOK, "--types", "supplier.*")
    code, out = cli(state, "test", "erp-events", "--by", "ana")
    assert code == 0 and out["ok"] is True and "error" not in out
    [(subscription_id, event)] = sink.received
    assert subscription_id == "erp-events" and event.get_id() == out["event_id"]
    assert event.get_id().startswith("subscription-test:erp-events:")
    assert event.get_type() == "org.supplybridge.subscription.test" and event.get_subject() == "erp-events"
    assert event.get_source() == "urn:supplybridge:platform" and event.get_extension("sequence") == "0"
    assert event.get_data() == {"subscription_id": "erp-events", "requested_by": "ana"}
    with open_store(state) as store:
        assert store.outbox.deliveries("erp-events") == [] and store.list_events() == []

    sink.refusal = "HTTP 401: signature refused"
    code, out = cli(state, "test", "erp-events", "--by", "ana")
    assert code == 1 and out["ok"] is False and "HTTP 401: signature refused" in out["error"]
    code, said = text(state, "test", "erp-events")
    assert code == 1 and "HTTP 401: signature refused" in said
    assert [a[1:] for a in audited(state)][1:3] == [("subscription.tested", "erp-events", "ok"),
                                                    ("subscription.tested", "erp-events", "failed")]  # fmt: skip

    code, out = cli(state, "test", "nope")
    assert code == 2 and out["error"] == "no subscription nope"
    cli(state, "remove", "erp-events")
    code, out = cli(state, "test", "erp-events")
    assert code == 2 and "removed" in out["error"] and len(sink.received) == 1


# --- deliveries and dead letters ------------------------------------------------------------------


def test_dead_letters_are_listed_replayed_and_discarded_once(state: Path) -> None:
    cli(state, "add", "erp-events", "--webhook", HOOK, "--types", "supplier.*")
    cli(state, "add", "analytics", "--broker", "--types", "*")
    first = make_dead(state, "erp-events", 1)
    second = make_dead(state, "erp-events", 2)
    other = make_dead(state, "analytics", 3, "item.created")  # not for erp-events

    code, out = cli(state, "dead-letters")
    assert code == 0 and [d["delivery_id"] for d in out["deliveries"]] == sorted([first, second, other])
    code, out = cli(state, "dead-letters", "--subscription", "erp-events")
    letter = out["deliveries"][0]
    assert [d["delivery_id"] for d in out["deliveries"]] == [first, second]
    assert (letter["event_id"], letter["event_type"], letter["subject"]) == ("evt-1", "supplier.onboarded", "SUP-0001")
    assert letter["attempts"] == 1 and letter["last_error"] == "HTTP 503: busy" and letter["first_failed_at"]
    code, listed = text(state, "dead-letters")
    assert code == 0 and "HTTP 503: busy" in listed and "evt-2" in listed and "first failed" in listed

    code, out = cli(state, "replay", str(first), "--by", "ana")
    assert code == 0 and out["delivery"]["status"] == "pending" and out["delivery"]["closed_by"] == "ana"
    code, out = cli(state, "replay", str(first))
    assert code == 2 and "only a dead one" in out["error"]
    code, out = cli(state, "discard", str(second), "--reason", "no")
    assert code == 2 and out["errors"] == [{"field": "--reason", "reason": "at least 3 characters"}]
    code, out = cli(state, "discard", str(second), "--reason", "the ERP has it already", "--by", "bo")
    assert code == 0 and out["delivery"]["status"] == "discarded"
    code, out = cli(state, "discard", str(second), "--reason", "again, please")
    assert code == 2 and "is discarded" in out["error"]
    code, out = cli(state, "replay", "999")
    assert code == 2 and out["error"] == "no delivery 999"

    code, out = cli(state, "deliveries", "erp-events", "--status", "pending")
    assert code == 0 and [d["delivery_id"] for d in out["deliveries"]] == [first]
    code, out = cli(state, "deliveries", "erp-events")
    assert [d["status"] for d in out["deliveries"]] == ["pending", "discarded"]
    code, out = cli(state, "deliveries", "nope")
    assert code == 2 and out["error"] == "no subscription nope in that store"
    code, out = cli(state, "dead-letters")
    assert [d["delivery_id"] for d in out["deliveries"]] == [other]
    assert [a[1:] for a in audited(state)][2:] == [("event_delivery.replayed", str(first), "replayed"),
                                                   ("event_delivery.discarded", str(second), "discarded")]  # fmt: skip
    with open_store(state) as store:
        entry = store.audit.query(record_id=str(second), limit=5)[0]
    assert entry.actor == "bo" and entry.details["reason"] == "the ERP has it already"
