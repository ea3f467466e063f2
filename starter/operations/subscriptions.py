"""Event subscriptions from the outside (`supplybridge subscriptions ...`, `/v1/subscriptions`):
what the CLI and the API share. The rules are domain.subscriptions'; the records store.outbox's.

Decisions:
- A request's refusals name the field they are about, also for the rules across fields (a team
  channel with types, a webhook without a URL): `SubscriptionInvalid.errors`, [{field, reason}]
  in the request's field names; the CLI shows them as its options, the API as `body.<field>`.
- A webhook subscription is always signed: without a secret, one is generated
  (`secrets.token_urlsafe(32)`) and shown once, in the answer to the add; lists and shows say
  only `signed: true` (Subscription.view). A secret on a broker or team subscription is refused:
  nothing would sign with it, yet it would show as `signed`.
- `dead-letters` is not a subscription id: it is the API's route beside `/v1/subscriptions/{id}`.
- `send_test_event` hands one `subscription.test` CloudEvent straight to the channel's sink, not
  through the outbox (nothing is recorded or retried) and answers with what the receiver said.
  The sinks are a parameter (tests pass fakes); `settings_sinks` builds the real ones.
- Only a dead delivery is replayed or discarded (`NotDead` otherwise, `UnknownDelivery` for an id
  that is none); the store re-checks in its own transaction.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlsplit
from uuid import uuid4

from cloudevents.core.v1.event import CloudEvent
from pydantic import BaseModel, Field, ValidationError

from adapters.event_sinks import DeliveryFailed, EventSink
from domain.cloud_events import cloud_event
from domain.events import BusinessEvent
from domain.subscriptions import Channel, Delivery, DeliveryStatus, Subscription, SubscriptionRequest
from runtime.settings import Settings
from store.outbox import EventOutbox

TEST_EVENT_TYPE = "subscription.test"
RESERVED_IDS = frozenset({"dead-letters"})
Sinks = Mapping[Channel, EventSink]


class SubscriptionInvalid(ValueError):
    """A subscription request refused; `errors` names each field and the reason."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        super().__init__("; ".join(f"{e['field']}: {e['reason']}" for e in errors))
        self.errors = errors


class UnknownSubscription(LookupError):
    pass


class SubscriptionRemoved(ValueError):
    pass


class UnknownDelivery(LookupError):
    pass


class NotDead(ValueError):
    pass


# --- what the CLI prints with --json and the API answers --------------------------------------------
class SubscriptionView(BaseModel):
    """A subscription as listed and shown: never its secret, only whether it has one."""

    subscription_id: str
    channel: Channel
    types: list[str]
    url: str | None = None
    team: str | None = None
    description: str = ""
    created_by: str
    created_at: datetime
    active: bool
    removed_at: datetime | None = None
    signed: bool = Field(description="whether its deliveries are signed (the secret itself is shown once, on add)")

    @classmethod
    def of(cls, subscription: Subscription) -> SubscriptionView:
        return cls.model_validate(subscription.view())


class AddedSubscription(BaseModel):
    subscription: SubscriptionView
    secret: str | None = Field(
        default=None, description="the webhook signing secret: shown in this answer only, never again"
    )


class SubscriptionDetail(BaseModel):
    subscription: SubscriptionView
    deliveries: dict[DeliveryStatus, int] = Field(description="how many of its deliveries are in each status")


class RemovedSubscription(BaseModel):
    subscription: SubscriptionView
    cancelled: int = Field(description="its pending deliveries, cancelled")


class ReceiverAnswer(BaseModel):
    """What the receiver said to a `subscription.test` event: `ok`, or the reason it failed."""

    subscription_id: str
    event_id: str
    ok: bool
    error: str | None = None


# --- adding ----------------------------------------------------------------------------------------
def subscription_request(data: Mapping[str, Any]) -> SubscriptionRequest:
    """`data` as a SubscriptionRequest, or SubscriptionInvalid naming each field and reason."""
    try:
        request = SubscriptionRequest.model_validate(dict(data))
    except ValidationError as error:
        raise SubscriptionInvalid(request_errors(error, data)) from None
    refused: list[dict[str, str]] = []
    if request.subscription_id in RESERVED_IDS:
        refused.append({"field": "subscription_id", "reason": f"{request.subscription_id} is reserved (an API route)"})
    if refused:
        raise SubscriptionInvalid(refused)
    return request


def request_errors(error: ValidationError, data: Mapping[str, Any]) -> list[dict[str, str]]:
    """[{field, reason}] of a SubscriptionRequest's refusal, without the input values. A rule across
    fields is raised by the model as "field: reason"; one that names no field first ("a team
    channel needs team and url") is about the fields it names that are missing (else `channel`)."""
    fields = list(SubscriptionRequest.model_fields)
    found: list[dict[str, str]] = []
    for item in error.errors(include_url=False):
        reason = str(item["msg"]).removeprefix("Value error, ")
        loc = [str(part) for part in item["loc"]]
        named, sep, rest = reason.partition(": ")
        if loc:
            found.append({"field": ".".join(loc), "reason": reason})
        elif sep and named in fields:
            found.append({"field": named, "reason": rest})
        else:
            mentioned = [f for f in fields if re.search(rf"\b{f}\b", reason)]
            missing = [f for f in mentioned if not data.get(f)] or ["channel"]
            found += [{"field": f, "reason": reason} for f in missing]
    return found


def new_subscription(request: SubscriptionRequest, created_by: str, at: datetime | None = None) -> Subscription:
    """The subscription to store: the request, who made it and when, and for a webhook without a
    secret, a generated one."""
    secret = request.secret
    if request.channel is Channel.WEBHOOK and secret is None:
        secret = secrets.token_urlsafe(32)
    return Subscription.model_validate(
        {**request.model_dump(), "secret": secret, "created_by": created_by, "created_at": at or datetime.now(UTC)}
    )


def added(subscription: Subscription) -> AddedSubscription:
    """The answer to an add: the one time its secret is shown."""
    return AddedSubscription(subscription=SubscriptionView.of(subscription), secret=subscription.secret)


def audit_details(subscription: Subscription) -> dict[str, Any]:
    """What the audit trail (read by `audit:read`, kept for good) keeps of a subscription: never its
    secret, and of its URL only the scheme and host (a team channel's incoming-webhook URL works
    as a credential of its own)."""
    parts = urlsplit(subscription.url) if subscription.url else None
    return {
        "channel": subscription.channel.value,
        "types": subscription.types,
        "team": subscription.team,
        "receiver": f"{parts.scheme}://{parts.hostname}" if parts else None,
        "signed": subscription.secret is not None,
    }


# --- reading and removing --------------------------------------------------------------------------
def existing(outbox: EventOutbox, subscription_id: str) -> Subscription:
    found = outbox.subscription(subscription_id)
    if found is None:
        raise UnknownSubscription(f"no subscription {subscription_id}")
    return found


def active(outbox: EventOutbox, subscription_id: str) -> Subscription:
    found = existing(outbox, subscription_id)
    if not found.active:
        when = f" at {found.removed_at:%Y-%m-%d %H:%M:%S}" if found.removed_at else ""
        raise SubscriptionRemoved(f"subscription {subscription_id} was removed{when}")
    return found


def detail(outbox: EventOutbox, subscription_id: str) -> SubscriptionDetail:
    found = existing(outbox, subscription_id)
    return SubscriptionDetail(subscription=SubscriptionView.of(found), deliveries=delivery_counts(outbox, found))


def delivery_counts(outbox: EventOutbox, subscription: Subscription) -> dict[DeliveryStatus, int]:
    """Its deliveries per status."""
    return outbox.delivery_counts(subscription.subscription_id)


def remove(outbox: EventOutbox, subscription_id: str) -> RemovedSubscription:
    """Deactivate it and cancel its pending deliveries."""
    active(outbox, subscription_id)
    cancelled = outbox.remove_subscription(subscription_id)
    if cancelled is None:  # removed by someone else since the check
        raise SubscriptionRemoved(f"subscription {subscription_id} was removed meanwhile")
    return RemovedSubscription(subscription=SubscriptionView.of(existing(outbox, subscription_id)), cancelled=cancelled)


# --- dead letters ----------------------------------------------------------------------------------
def _dead(outbox: EventOutbox, delivery_id: int) -> Delivery:
    found = outbox.delivery(delivery_id)
    if found is None:
        raise UnknownDelivery(f"no delivery {delivery_id}")
    delivery = found[0]
    if delivery.status is not DeliveryStatus.DEAD:
        raise NotDead(
            f"delivery {delivery_id} is {delivery.status.value}: only a dead one can be replayed or discarded"
        )
    return delivery


def replay(outbox: EventOutbox, delivery_id: int, by: str) -> Delivery:
    """A dead letter delivered again, in its turn."""
    return _close(outbox.replay, outbox, delivery_id, by)


def discard(outbox: EventOutbox, delivery_id: int, by: str) -> Delivery:
    """A dead letter closed without delivering it (the reason is kept in the audit trail)."""
    return _close(outbox.discard, outbox, delivery_id, by)


def _close(close: Callable[[int, str], Delivery | None], outbox: EventOutbox, delivery_id: int, by: str) -> Delivery:
    _dead(outbox, delivery_id)
    done = close(delivery_id, by)
    if done is None:
        raise NotDead(f"delivery {delivery_id} was replayed or discarded meanwhile")
    return done


# --- testing a receiver ----------------------------------------------------------------------------
def probe_event(subscription: Subscription, requested_by: str, settings: Settings) -> CloudEvent:
    """The `subscription.test` CloudEvent for `subscription` (a fresh id each time; sequence 0)."""
    event = BusinessEvent(
        event_id=f"subscription-test:{subscription.subscription_id}:{uuid4()}",
        type=TEST_EVENT_TYPE,
        subject=subscription.subscription_id,
        occurred_at=datetime.now(UTC),
        data={"subscription_id": subscription.subscription_id, "requested_by": requested_by},
    )
    return cloud_event(event, source=settings.events_source, sequence=0)


async def send_test_event(
    subscription: Subscription, sinks: Sinks, settings: Settings, requested_by: str
) -> ReceiverAnswer:
    """Deliver one test event to the subscription's receiver through its channel's sink."""
    event = probe_event(subscription, requested_by, settings)
    answer = ReceiverAnswer(subscription_id=subscription.subscription_id, event_id=event.get_id(), ok=True)
    sink = sinks.get(subscription.channel)
    if sink is None:
        return answer.model_copy(update={"ok": False, "error": f"no {subscription.channel.value} sink is configured"})
    try:
        await sink.deliver(subscription, event)
    except DeliveryFailed as failed:
        return answer.model_copy(update={"ok": False, "error": failed.reason})
    return answer


@asynccontextmanager
async def settings_sinks(settings: Settings) -> AsyncIterator[Sinks]:
    """The sinks of the settings, closed afterwards (the CLI and the API; tests replace this)."""
    from runtime.event_sinks import build_sinks, close_sinks  # imported when used, not with this module

    sinks = build_sinks(settings)
    try:
        yield sinks
    finally:
        await close_sinks(sinks)
