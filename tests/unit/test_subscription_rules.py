"""domain/subscriptions.py: which subscription receives which event, the retry schedule, and what a
subscription request must say (each refusal names its field)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from domain.events import BusinessEvent
from domain.subscriptions import (
    MAX_RETRY_DELAY,
    Channel,
    Subscription,
    SubscriptionRequest,
    gives_up,
    receives,
    retry_delay,
    routed_team,
    type_matches,
)

NOW = datetime(2026, 11, 25, 9, 0, tzinfo=UTC)
PART = st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12)


def event(type: str, **data: Any) -> BusinessEvent:
    return BusinessEvent(event_id="e1", type=type, subject="S-1", occurred_at=NOW, data=data)


def subscription(**fields: Any) -> Subscription:
    defaults: dict[str, Any] = {"subscription_id": "s", "channel": Channel.WEBHOOK, "types": ["*"],
                                "url": "https://receiver.example/e", "created_by": "t", "created_at": NOW}  # fmt: skip
    return Subscription(**{**defaults, **fields})


@pytest.mark.parametrize(
    ("pattern", "event_type", "expected"),
    [
        ("*", "invoice.approved", True),
        ("supplier.*", "supplier.onboarded", True),
        ("supplier.*", "supplier_status.changed", False),
        ("supplier.*", "purchase_order.released", False),
        ("purchase_order.exception_raised", "purchase_order.exception_raised", True),
        ("purchase_order.exception_raised", "purchase_order.exception_escalated", False),
        ("*.decided", "credential_review.decided", True),
        ("*.decided", "a.b.decided", False),
    ],
)
def test_type_patterns(pattern: str, event_type: str, expected: bool) -> None:
    assert type_matches(pattern, event_type) is expected


@given(PART, PART)
def test_a_prefix_pattern_takes_every_type_under_it_and_nothing_else(family: str, name: str) -> None:
    assert type_matches(f"{family}.*", f"{family}.{name}")
    assert not type_matches(f"{family}.*", f"{family}x.{name}")
    assert type_matches("*", f"{family}.{name}")


def test_team_channels_get_the_events_that_ask_their_team_to_act() -> None:
    ap = subscription(channel=Channel.TEAM, types=[], team="accounts_payable")
    raised = event("invoice.exception_raised", team="accounts_payable", kinds=["price"])
    assert routed_team(raised) == "accounts_payable" and receives(ap, raised)
    escalated = event("purchase_order.acknowledgement_overdue", escalated_to="purchasing_managers")
    assert routed_team(escalated) == "purchasing_managers" and not receives(ap, escalated)
    assert routed_team(event("invoice.approved", team="accounts_payable")) is None  # nothing to act on
    assert routed_team(event("invoice.exception_raised")) is None  # no team named
    assert not receives(ap.model_copy(update={"active": False}), raised)


def test_typed_channels_get_the_types_they_name() -> None:
    analytics = subscription(types=["supplier.*", "master_data.drifted"])
    assert receives(analytics, event("supplier.hold_placed"))
    assert receives(analytics, event("master_data.drifted"))
    assert not receives(analytics, event("invoice.approved"))


@given(st.integers(min_value=1, max_value=10_000))
def test_the_retry_delay_doubles_from_a_second_to_at_most_five_minutes(attempts: int) -> None:
    delay = retry_delay(attempts)
    assert timedelta(seconds=1) <= delay <= MAX_RETRY_DELAY
    assert retry_delay(attempts + 1) >= delay
    if attempts <= 8:
        assert delay == timedelta(seconds=2 ** (attempts - 1))


def test_a_delivery_is_given_up_once_the_window_since_its_first_failure_passed() -> None:
    window = timedelta(hours=24)
    assert not gives_up(NOW, NOW + window - timedelta(seconds=1), window)
    assert gives_up(NOW, NOW + window, window)


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"channel": "webhook", "types": ["supplier.*"], "url": "http://receiver.example/e"}, "url"),
        ({"channel": "webhook", "types": ["supplier.*"], "url": "https://user:pw@receiver.example/e"}, "url"),
        ({"channel": "webhook", "types": ["supplier.*"]}, "url"),
        ({"channel": "webhook", "types": ["Supplier!"], "url": "https://r.example/e"}, "types"),
        ({"channel": "webhook", "types": [], "url": "https://r.example/e"}, "types"),
        ({"channel": "team", "team": "purchasing", "url": "https://hooks.example/x", "types": ["*"]}, "types"),
        ({"channel": "team", "url": "https://hooks.example/x"}, "team"),
        ({"channel": "broker", "types": ["*"], "url": "https://r.example/e"}, "url"),
        ({"channel": "broker", "types": ["*"], "secret": "short"}, "secret"),
        ({"channel": "pigeon", "types": ["*"]}, "channel"),
    ],
)
def test_a_request_that_does_not_fit_its_channel_is_refused_naming_the_field(
    fields: dict[str, Any], field: str
) -> None:
    with pytest.raises(ValidationError) as refused:
        SubscriptionRequest(subscription_id="s-1", **fields)
    assert field in str(refused.value)


def test_plain_http_is_for_a_receiver_on_this_machine_only() -> None:
    local = SubscriptionRequest(subscription_id="s-1", channel=Channel.WEBHOOK, types=["*"], url="http://127.0.0.1:8/e")
    assert local.url == "http://127.0.0.1:8/e"
    assert subscription(secret="s" * 32).view()["signed"] is True and "secret" not in subscription().view()
