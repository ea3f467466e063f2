"""Consumption at the inventory system (`POST /inventory/consumption`: a cart scan, a cabinet pull)
and the `stock.below_reorder_point` webhooks it raises (`GET /inventory/events`).

A consumption takes the quantity off the balance's on hand, in the balance's unit (a quantity in
another unit is converted with the item master, as reservations are); taking more than is on hand
is refused and changes nothing. When on hand is then at or below the balance's reorder point, the
same transaction records a `StockBreach` (domain/replenishment_models.py) in the inventory
outbox, handed after the commit to the shared `WebhookDispatcher` (sandbox/webhooks.py) under the
system name `inventory`, i.e. to `dispatcher.targets["inventory"]`.

Decisions:
- one event per consumption that leaves the balance at or below the reorder point, not only the
  one that crosses it: the receiver joins every breach of a location and item to one open
  replenishment, so a repeat costs nothing, and a lost first event is made good by the next scan;
- event ids are `INV-EVT-000001` (the sandbox's id counters, never reused until a reset);
- the event's quantities are rounded to the 4 decimal places a `StockBreach` carries (a balance
  kept in cases and consumed by the each holds a longer fraction); the balance keeps the exact one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from pydantic import Field

from domain.base import DomainModel
from domain.purchasing import MAX_QUANTITY, SystemId, UnitOfMeasure
from domain.replenishment_models import StockBreach
from sandbox.db import DbSession, Documents, utc_now
from sandbox.errors import SandboxError
from sandbox.inventory_balances import (
    BALANCE,
    NAME,
    adjust_balance,
    balance_key,
    convert_quantity,
    inventory_documents,
    is_below_reorder_point,
)
from sandbox.paging import Paging
from sandbox.webhooks import OUTBOX, WebhookDispatcher, new_outbox_entry, outbox_view

CONSUMPTION = "consumption"
EVENT_ID_PREFIX = "INV-EVT-"
BREACH_PLACES = Decimal("0.0001")

router = APIRouter()


class ConsumptionRequest(DomainModel):
    location_id: SystemId
    item_id: SystemId
    quantity: Decimal = Field(gt=0, le=MAX_QUANTITY, description="a decimal string or a number, more than zero")
    uom: UnitOfMeasure | None = Field(default=None, description="defaults to the balance's unit")
    reference: str | None = Field(default=None, max_length=120, description="e.g. the cart scan id")
    consumed_by: str | None = Field(default=None, max_length=120)


def _four_places(value: Decimal) -> Decimal:
    exponent = value.as_tuple().exponent
    return value if isinstance(exponent, int) and exponent >= -4 else value.quantize(BREACH_PLACES)


def _optional_four_places(value: str | None) -> Decimal | None:
    return None if value is None else _four_places(Decimal(value))


def breach_event(docs: Documents, balance: dict[str, Any]) -> dict[str, Any]:
    """The `stock.below_reorder_point` webhook body for a balance at or below its reorder point."""
    breach = StockBreach(
        event_id=docs.next_id(EVENT_ID_PREFIX, 6),
        location_id=balance["location_id"],
        item_id=balance["item_id"],
        uom=balance["uom"],
        on_hand=_four_places(Decimal(balance["on_hand"])),
        reorder_point=_four_places(Decimal(balance["reorder_point"])),
        par=_optional_four_places(balance.get("par")),
        occurred_at=datetime.now(UTC),
        source=NAME,
    )
    return breach.model_dump(mode="json")


@router.post("/consumption", status_code=201)
def consume(session: DbSession, http: Request, request: ConsumptionRequest) -> dict[str, Any]:
    """Take stock off a balance; 201 with the balance after it and the breach event raised, if any."""
    docs = inventory_documents(session)
    balance = docs.get(BALANCE, balance_key(request.location_id, request.item_id))
    if balance is None:
        raise SandboxError(
            404,
            "not_found",
            f"item_id: no balance of {request.item_id} at location_id {request.location_id}",
        )
    uom = request.uom or balance["uom"]
    quantity = convert_quantity(session, request.item_id, request.quantity, uom, balance["uom"])
    on_hand = Decimal(balance["on_hand"])
    if quantity > on_hand:
        raise SandboxError(
            409,
            "insufficient_stock",
            f"quantity: {quantity} {balance['uom']} is more than on_hand {on_hand} {balance['uom']}"
            f" of {request.item_id} at {request.location_id}",
        )
    after = adjust_balance(session, request.location_id, request.item_id, on_hand=-quantity)
    assert after is not None  # read above, in this transaction
    event_id = None
    if is_below_reorder_point(after):
        event = breach_event(docs, after)
        event_id = event["event_id"]
        docs.put(OUTBOX, event_id, new_outbox_entry(event))
    consumption_id = docs.next_id("CON-", 6)
    record = {
        "consumption_id": consumption_id,
        **request.model_dump(mode="json"),
        "uom": uom,
        "balance_quantity": str(quantity),
        "balance_uom": balance["uom"],
        "on_hand_after": after["on_hand"],
        "event_id": event_id,
        "consumed_at": utc_now(),
    }
    docs.put(CONSUMPTION, consumption_id, record)
    if event_id is not None:
        session.commit()  # the webhook worker reads the outbox entry from its own session
        dispatcher: WebhookDispatcher = http.app.state.webhooks
        dispatcher.submit(NAME, event_id)
    return {"consumption_id": consumption_id, "balance": after, "breached": event_id is not None, "event_id": event_id}


@router.get("/consumption")
def list_consumption(
    session: DbSession,
    paging: Paging,
    location_id: Annotated[str | None, Query()] = None,
    item_id: Annotated[str | None, Query()] = None,
) -> dict[str, Any]:
    found = [
        c
        for c in inventory_documents(session).all(CONSUMPTION)
        if (not location_id or c["location_id"] == location_id) and (not item_id or c["item_id"] == item_id)
    ]
    return paging.page(found)


@router.get("/events")
def list_events(session: DbSession, paging: Paging) -> dict[str, Any]:
    """The `stock.below_reorder_point` outbox, each event with its delivery state."""
    return paging.page([outbox_view(entry) for entry in inventory_documents(session).all(OUTBOX)])
