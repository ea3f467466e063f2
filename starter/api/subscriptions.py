"""Event subscriptions over HTTP: who receives the platform's business events (as CloudEvents), and
the deliveries and dead letters of the outbox (starter/operations/subscriptions.py does the work,
as for the CLI's `supplybridge subscriptions`).

- `GET /v1/subscriptions[?all=true]`, `GET /v1/subscriptions/{id}` (with its delivery counts by
  status), `GET /v1/subscriptions/{id}/deliveries?status=` and `GET /v1/subscriptions/dead-letters`
  need `subscriptions:read` (or `subscriptions:write`, which implies it: starter/api/access.py).
- `POST /v1/subscriptions` (201 with the subscription and, this once, a webhook's signing secret;
  409 for an id taken, also by a removed one), `DELETE /v1/subscriptions/{id}` (its pending
  deliveries cancelled: the answer says how many), `POST /v1/subscriptions/{id}/test` (200 with
  `ok`, or `ok: false` and the receiver's `error`) and `POST .../dead-letters/{delivery_id}/replay`
  or `/discard` (409 unless the delivery is dead) need `subscriptions:write`.

Decisions:
- A principal bound to suppliers (a vendor partner) is refused (403) on every route: subscriptions
  and their deliveries carry every supplier's events.
- The body's rules across fields (a team channel with types, a webhook without a URL) are checked
  here rather than by the body model, so that each 422 names its field (`body.types`), as a
  field's own rule does; a model-level rule would name only `body`.
- The add honours `Idempotency-Key` like every POST: a retry of the same request by the same
  principal replays the first answer, secret included (it is the answer that was lost). The
  secret is kept with the key for `SUPPLYBRIDGE_IDEMPOTENCY_RETENTION_HOURS`, in the store that
  already holds it to sign with.
- `dead-letters` is a route, not a subscription id (refused as one), and is declared before
  `/{id}`. Every change is audited, actor the principal.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi import Path as PathParam
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, model_validator

from domain.audit import AuditRecord
from domain.subscriptions import SUBSCRIPTION_ID, Delivery, DeliveryStatus, Subscription, SubscriptionRequest
from runtime.settings import Settings
from starter.api.access import reader
from starter.api.guards import idempotent
from starter.api.idempotency import audit_with_answer
from starter.api.intake_bodies import MAX_ID, DiscardBody
from starter.api.problems import PROBLEM_RESPONSES, ProblemError
from starter.api.security import Principal, require
from starter.operations import subscriptions as subscription_ops
from starter.operations.subscriptions import (
    AddedSubscription,
    ReceiverAnswer,
    RemovedSubscription,
    SubscriptionDetail,
    SubscriptionView,
)
from store import Store
from store.outbox import EventOutbox, SubscriptionExists

READ_SCOPE, WRITE_SCOPE = "subscriptions:read", "subscriptions:write"
router = APIRouter(prefix="/v1", tags=["subscriptions"], responses=PROBLEM_RESPONSES)
Reader = Annotated[Principal, reader(READ_SCOPE)]
Writer = Annotated[Principal, require(WRITE_SCOPE)]
SubscriptionIdPath = Annotated[
    str, PathParam(pattern=SUBSCRIPTION_ID, description="the subscription's id: lower-case letters, digits, dashes")
]
DeliveryIdPath = Annotated[int, PathParam(ge=1, le=MAX_ID, description="the delivery's id")]
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=1_000_000_000)]
Closer = Callable[[EventOutbox, int, str], Delivery]  # subscription_ops.replay or .discard


class SubscriptionBody(SubscriptionRequest):
    """A subscription as `POST /v1/subscriptions` takes it. Its rules across fields are checked by
    the route (see the module docstring), each refusal naming its field."""

    @model_validator(mode="after")
    def _fits_channel(self) -> SubscriptionBody:  # checked by the route, not here
        return self


class SubscriptionList(BaseModel):
    items: list[SubscriptionView]


class DeliveryPage(BaseModel):
    items: list[Delivery]
    limit: int
    offset: int


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _json(model: BaseModel, status: int = 200, location: str | None = None, **dump: Any) -> JSONResponse:
    headers = {"Location": location} if location else None
    return JSONResponse(model.model_dump(mode="json", **dump), status_code=status, headers=headers)


def _audit(request: Request, principal: Principal, action: str, record: tuple[str, str], **details: Any) -> None:
    outcome = details.pop("outcome", None)
    audit_with_answer(request, AuditRecord(actor=principal.subject, action=action, record_type=record[0],
                                           record_id=record[1], outcome=str(outcome) if outcome else None,
                                           details={"via": principal.via, **details}))  # fmt: skip


def _no_vendor_partner(principal: Principal) -> None:
    if principal.suppliers:
        raise ProblemError(403, "Not for a vendor partner", "subscriptions carry every supplier's events; "
                           "a principal bound to suppliers may not read or change them")  # fmt: skip


async def _existing(request: Request, subscription_id: str, *, active: bool = False) -> Subscription:
    """The subscription (404 when there is none; 409 when `active` and it was removed)."""
    find = subscription_ops.active if active else subscription_ops.existing
    try:
        return await asyncio.to_thread(find, _store(request).outbox, subscription_id)
    except LookupError as missing:
        raise ProblemError(404, "Not found", str(missing)) from None
    except ValueError as removed:
        raise ProblemError(409, "Removed", str(removed)) from None


# --- subscriptions ------------------------------------------------------------------------------
@router.options("/subscriptions", include_in_schema=False)
async def subscriptions_options() -> Response:
    """What the path allows (the router alone would name only its first route's GET)."""
    return Response(status_code=204, headers={"Allow": "GET, OPTIONS, POST"})


@router.options("/subscriptions/dead-letters", include_in_schema=False)
async def dead_letters_options() -> Response:
    return Response(status_code=204, headers={"Allow": "GET, OPTIONS"})


@router.options("/subscriptions/{subscription_id}", include_in_schema=False)
async def subscription_options() -> Response:
    return Response(status_code=204, headers={"Allow": "DELETE, GET, OPTIONS"})


@router.get("/subscriptions", response_model=SubscriptionList)
async def list_subscriptions(
    request: Request,
    principal: Reader,
    include_removed: Annotated[bool, Query(alias="all", description="also the removed ones")] = False,
) -> JSONResponse:
    """The subscriptions, oldest first; never their secrets (`signed` says whether there is one)."""
    _no_vendor_partner(principal)
    found = await asyncio.to_thread(_store(request).outbox.subscriptions, include_removed=include_removed)
    return _json(SubscriptionList(items=[SubscriptionView.of(s) for s in found]))


@router.post("/subscriptions", status_code=201, response_model=AddedSubscription)
async def add_subscription(request: Request, body: SubscriptionBody, principal: Writer) -> Response:
    """Add a subscription: a webhook (https; a secret is generated unless given, and shown in this
    answer only), the message broker, or a team's channel. It receives the events recorded from
    now on."""
    _no_vendor_partner(principal)
    try:
        wanted = subscription_ops.subscription_request(body.model_dump(exclude_unset=True))
    except subscription_ops.SubscriptionInvalid as invalid:
        errors = [{"field": f"body.{e['field']}", "reason": e["reason"]} for e in invalid.errors]
        detail = "; ".join(f"{e['field']}: {e['reason']}" for e in errors[:5])
        raise ProblemError(422, "Invalid request", detail, errors=errors) from None

    async def run() -> JSONResponse:
        subscription = subscription_ops.new_subscription(wanted, principal.subject)
        try:
            saved = await asyncio.to_thread(_store(request).outbox.add_subscription, subscription)
        except SubscriptionExists as taken:
            raise ProblemError(409, "Subscription exists", f"{taken} (ids stay unique, also once removed)",
                               field="subscription_id") from None  # fmt: skip
        _audit(request, principal, "subscription.added", ("subscription", saved.subscription_id), outcome="added",
               **subscription_ops.audit_details(saved))  # fmt: skip
        return _json(subscription_ops.added(saved), 201, f"/v1/subscriptions/{saved.subscription_id}")

    return await idempotent(request, principal, run)


@router.get("/subscriptions/dead-letters", response_model=DeliveryPage)
async def list_dead_letters(
    request: Request,
    principal: Reader,
    subscription: Annotated[str | None, Query(pattern=SUBSCRIPTION_ID, description="only this one's")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> JSONResponse:
    """Deliveries that failed for good, oldest first: the event, the attempts, the last error and
    when it first failed."""
    _no_vendor_partner(principal)
    outbox = _store(request).outbox
    found = await asyncio.to_thread(outbox.deliveries, subscription, DeliveryStatus.DEAD, limit, offset)
    return _json(DeliveryPage(items=found, limit=limit, offset=offset))


@router.post("/subscriptions/dead-letters/{delivery_id}/replay", response_model=Delivery)
async def replay_dead_letter(request: Request, delivery_id: DeliveryIdPath, principal: Writer) -> Response:
    """Deliver a dead delivery again, in its turn (before the subscription's pending ones)."""
    _no_vendor_partner(principal)

    async def run() -> JSONResponse:
        done = await _close(request, subscription_ops.replay, delivery_id, principal)
        _audit(request, principal, "event_delivery.replayed", ("event_delivery", str(delivery_id)),
               subscription_id=done.subscription_id, event_id=done.event_id, outcome="replayed")  # fmt: skip
        return _json(done)

    return await idempotent(request, principal, run)


@router.post("/subscriptions/dead-letters/{delivery_id}/discard", response_model=Delivery)
async def discard_dead_letter(
    request: Request, delivery_id: DeliveryIdPath, body: DiscardBody, principal: Writer
) -> Response:
    """Close a dead delivery without delivering it, with the reason why (kept in the audit trail)."""
    _no_vendor_partner(principal)

    async def run() -> JSONResponse:
        done = await _close(request, subscription_ops.discard, delivery_id, principal)
        _audit(request, principal, "event_delivery.discarded", ("event_delivery", str(delivery_id)),
               subscription_id=done.subscription_id, event_id=done.event_id, reason=body.reason,
               outcome="discarded")  # fmt: skip
        return _json(done)

    return await idempotent(request, principal, run)


async def _close(request: Request, close: Closer, delivery_id: int, principal: Principal) -> Delivery:
    """`close` (replay or discard) on a dead delivery: 404 for none, 409 unless it is dead."""
    try:
        done: Delivery = await asyncio.to_thread(close, _store(request).outbox, delivery_id, principal.subject)
    except LookupError as missing:
        raise ProblemError(404, "Not found", str(missing)) from None
    except ValueError as refused:
        raise ProblemError(409, "Not a dead letter", str(refused)) from None
    return done


@router.get("/subscriptions/{subscription_id}", response_model=SubscriptionDetail)
async def get_subscription(request: Request, subscription_id: SubscriptionIdPath, principal: Reader) -> JSONResponse:
    """One subscription (also a removed one), with how many of its deliveries are in each status."""
    _no_vendor_partner(principal)
    try:
        found = await asyncio.to_thread(subscription_ops.detail, _store(request).outbox, subscription_id)
    except LookupError as missing:
        raise ProblemError(404, "Not found", str(missing)) from None
    return _json(found)


@router.delete("/subscriptions/{subscription_id}", response_model=RemovedSubscription)
async def remove_subscription(request: Request, subscription_id: SubscriptionIdPath, principal: Writer) -> Response:
    """Remove a subscription: no new deliveries, its pending ones cancelled (409 if removed already)."""
    _no_vendor_partner(principal)

    async def run() -> JSONResponse:
        await _existing(request, subscription_id, active=True)
        try:
            removed = await asyncio.to_thread(subscription_ops.remove, _store(request).outbox, subscription_id)
        except ValueError as refused:  # removed by someone else since the check
            raise ProblemError(409, "Removed", str(refused)) from None
        _audit(request, principal, "subscription.removed", ("subscription", subscription_id),
               cancelled=removed.cancelled, outcome="removed")  # fmt: skip
        return _json(removed)

    return await idempotent(request, principal, run)


@router.post("/subscriptions/{subscription_id}/test", response_model=ReceiverAnswer, response_model_exclude_none=True)
async def probe_subscription(request: Request, subscription_id: SubscriptionIdPath, principal: Writer) -> Response:
    """Send one `subscription.test` CloudEvent straight to the receiver, through its channel (not
    through the outbox: nothing is recorded or retried), and say what it answered: `ok`, or
    `ok: false` with the `error` (200 either way: the request itself was carried out)."""
    _no_vendor_partner(principal)

    async def run() -> JSONResponse:
        subscription = await _existing(request, subscription_id, active=True)
        settings = _settings(request)
        async with subscription_ops.settings_sinks(settings) as sinks:
            answer = await subscription_ops.send_test_event(subscription, sinks, settings, principal.subject)
        _audit(request, principal, "subscription.tested", ("subscription", subscription_id), event_id=answer.event_id,
               error=answer.error, outcome="ok" if answer.ok else "failed")  # fmt: skip
        return _json(answer, exclude_none=True)

    return await idempotent(request, principal, run)


@router.get("/subscriptions/{subscription_id}/deliveries", response_model=DeliveryPage)
async def list_deliveries(
    request: Request,
    subscription_id: SubscriptionIdPath,
    principal: Reader,
    status: Annotated[DeliveryStatus | None, Query(description="only the deliveries in this status")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> JSONResponse:
    """A subscription's deliveries, in the order their events were recorded."""
    _no_vendor_partner(principal)
    outbox = _store(request).outbox
    await _existing(request, subscription_id)
    found = await asyncio.to_thread(outbox.deliveries, subscription_id, status, limit, offset)
    return _json(DeliveryPage(items=found, limit=limit, offset=offset))
