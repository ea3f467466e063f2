"""Event subscriptions and their deliveries: who receives which business events, and the rules of
delivering them (pure functions; the store and the relay apply them).

A subscription names a channel and what it receives:
- `webhook`: an HTTPS URL (plain http only on 127.0.0.1/localhost, for receivers on this machine),
  and event type patterns (`supplier.*`, `purchase_order.closed`, `*`); each event POSTed as a
  CloudEvent, signed with the subscription's secret;
- `broker`: the message broker of the settings (NATS JetStream), with type patterns;
- `team`: a team's notification channel (a Slack/Teams-compatible incoming webhook). It receives
  the events that ask a person to act and are routed to that team (`routed_team`), whatever their
  type; `supplybridge up` keeps one such subscription per `SUPPLYBRIDGE_TEAM_NOTIFICATION_URLS`
  entry.

Decisions:
- An event matches a subscription when it is recorded; a subscription added later receives the
  events recorded from then on (no backfill), and a removed one gets no new deliveries (its
  pending ones are cancelled).
- Deliveries of one subscription go out in the order the events were recorded; a failing delivery
  holds the ones after it (so a receiver sees each subject's events in order) and is retried with
  `retry_delay` until `retry_window` has passed since its first failure, then dead-lettered and
  passed over. A dead letter can be replayed (delivered again, in its turn) or discarded.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import re
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any
from urllib.parse import urlsplit

from pydantic import Field, field_validator, model_validator

from domain.base import DomainModel
from domain.events import BusinessEvent

SUBSCRIPTION_ID = r"^[a-z0-9][a-z0-9-]{0,62}$"
TYPE_PATTERN = r"^(\*|[a-z0-9_]+(\.([a-z0-9_]+|\*))*(\.\*)?)$"
MAX_RETRY_DELAY = timedelta(minutes=5)
TEAM_EVENT_SUFFIXES = (
    "exception_raised",
    "exception_escalated",
    "acknowledgement_overdue",
    "sourcing_exception",
    "review_requested",
    "review_escalated",
    "alert.raised",
    "alert.renotified",
    "alert.resolved",
)
"""Event types (their last part) that ask a person of a team to act: an exception or a review
opened, or escalated past its SLA (to the manager team), an acknowledgement past its SLA, an
order nobody can source; and the alerts, whole types (`alert.resolved`, not `resolved`: a
resolved invoice exception asks nobody to act). The team is the event's `team` (or
`escalated_to`): `operations` for the built-in alert rules."""


class Channel(StrEnum):
    WEBHOOK = "webhook"
    BROKER = "broker"
    TEAM = "team"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    DELIVERED = "delivered"
    DEAD = "dead"
    DISCARDED = "discarded"
    CANCELLED = "cancelled"


class SubscriptionRequest(DomainModel):
    """What `subscriptions add` and `POST /v1/subscriptions` take."""

    subscription_id: str = Field(pattern=SUBSCRIPTION_ID, description="lower-case letters, digits and dashes")
    channel: Channel
    types: list[str] = Field(default_factory=list, max_length=50, description="event type patterns, e.g. supplier.*")
    url: str | None = Field(default=None, max_length=2000, description="webhook or team channel URL")
    secret: str | None = Field(default=None, min_length=16, max_length=200, description="webhook signing secret")
    team: str | None = Field(default=None, pattern=r"^[a-z0-9_-]{1,64}$", description="the team of a team channel")
    description: str = Field(default="", max_length=500)

    @field_validator("types")
    @classmethod
    def _patterns(cls, types: list[str]) -> list[str]:
        for pattern in types:
            if not re.match(TYPE_PATTERN, pattern):
                raise ValueError(f"{pattern!r} is not an event type pattern (like supplier.* or invoice.approved)")
        return types

    @field_validator("url")
    @classmethod
    def _url(cls, url: str | None) -> str | None:
        if url is None:
            return None
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError("must be an https:// URL")
        if parts.scheme == "http" and not _local(parts.hostname):
            raise ValueError("must be https (plain http only for a receiver on 127.0.0.1 or localhost)")
        if parts.username or parts.password:
            raise ValueError("must not carry credentials; the deliveries are signed instead")
        return url

    @model_validator(mode="after")
    def _fits_channel(self) -> SubscriptionRequest:
        if self.channel is Channel.TEAM:
            if not self.team or not self.url:
                raise ValueError("a team channel needs team and url")
            if self.types:
                raise ValueError("types: a team channel receives the events routed to its team, not types")
        else:
            if not self.types:
                raise ValueError("types: name at least one event type pattern (* for all)")
            if self.team:
                raise ValueError("team: only a team channel has a team")
        if self.channel is Channel.WEBHOOK and not self.url:
            raise ValueError("url: a webhook subscription needs the receiver's URL")
        if self.channel is Channel.BROKER and self.url:
            raise ValueError("url: a broker subscription publishes to the broker of the settings")
        if self.secret and self.channel is not Channel.WEBHOOK:
            raise ValueError("secret: only a webhook subscription is signed")
        return self


class Subscription(SubscriptionRequest):
    """A subscription as stored: the request, who made it, when, and whether it is active."""

    created_by: str
    created_at: datetime
    active: bool = True
    removed_at: datetime | None = None

    def view(self) -> dict[str, Any]:
        """As listed and shown: the secret is never shown again (only whether there is one)."""
        shown = self.model_dump(mode="json", exclude={"secret"})
        return {**shown, "signed": self.secret is not None}


class Delivery(DomainModel):
    """One event for one subscription: the outbox entry the relay works, and once it failed for
    good, the dead letter."""

    delivery_id: int
    subscription_id: str
    event_id: str
    event_type: str
    subject: str
    sequence: int = Field(description="the event's position in the store: deliveries go out in this order")
    status: DeliveryStatus
    attempts: int = 0
    next_attempt_at: datetime | None = None
    first_failed_at: datetime | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None
    closed_by: str | None = Field(default=None, description="who replayed or discarded it")


def _local(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def routed_team(event: BusinessEvent) -> str | None:
    """The team an event asks to act, when it is one of those (see TEAM_EVENT_SUFFIXES)."""
    if not event.type.endswith(TEAM_EVENT_SUFFIXES):
        return None
    for key in ("team", "escalated_to", "assigned_team"):
        value = event.data.get(key)
        if isinstance(value, str) and value:
            return value
    return None


def type_matches(pattern: str, event_type: str) -> bool:
    """`*` is everything; `supplier.*` is every supplier event (any depth); otherwise exact,
    with `*` standing for one part."""
    if pattern == "*":
        return True
    if pattern.endswith(".*") and "*" not in pattern[:-2]:
        return event_type.startswith(pattern[:-1])
    return fnmatch.fnmatchcase(event_type, pattern) and event_type.count(".") == pattern.count(".")


def receives(subscription: Subscription, event: BusinessEvent) -> bool:
    """Whether `subscription` gets a delivery of `event`."""
    if not subscription.active:
        return False
    if subscription.channel is Channel.TEAM:
        return routed_team(event) == subscription.team
    return any(type_matches(pattern, event.type) for pattern in subscription.types)


def retry_delay(attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt: 1 s, 2 s, 4 s, ... up to 5 minutes."""
    return min(timedelta(seconds=2 ** max(0, min(attempts - 1, 20))), MAX_RETRY_DELAY)


def gives_up(first_failed_at: datetime, now: datetime, retry_window: timedelta) -> bool:
    """A delivery failing since `first_failed_at` is dead-lettered once `retry_window` has passed."""
    return now - first_failed_at >= retry_window
