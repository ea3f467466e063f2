"""Inventory (`/inventory`): on hand, par, reorder point, on order and in transit per location and
item (seeded from inventory.json), and reservations. Quantities are decimal strings in the
balance's unit; a reservation in another unit is converted with the item master (kept by contract
management). The balance documents are in sandbox/inventory_balances.py; consumption and the
`stock.below_reorder_point` webhooks it raises in sandbox/inventory_consumption.py."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from domain.system_records import ReservationRequest
from sandbox import inventory_consumption
from sandbox.db import DbSession, utc_now
from sandbox.errors import SandboxError
from sandbox.inventory_balances import (
    BALANCE,
    NAME,
    adjust_balance,
    balance_key,
    convert_quantity,
    inventory_documents,
    is_below_reorder_point,
    new_balance,
    put_balance,
    shown_balance,
)
from sandbox.paging import Paging
from sandbox.seed import load_json
from sandbox.system import SandboxSystem
from sandbox.webhooks import add_webhook_admin_routes

RESERVATION = "reservation"

router = APIRouter(prefix=f"/{NAME}", tags=[NAME])
router.include_router(inventory_consumption.router)
add_webhook_admin_routes(router, NAME, own_target=True)  # the target of the stock-breach webhooks


class Fulfilment(BaseModel):
    quantity: Decimal = Field(gt=0)
    uom: str = Field(min_length=1, max_length=8)


@router.get("/balances")
def list_balances(
    session: DbSession,
    paging: Paging,
    location_id: Annotated[str | None, Query()] = None,
    item_id: Annotated[list[str] | None, Query()] = None,
    below_reorder_point: Annotated[
        bool, Query(description="only balances whose on hand is at or below their reorder point")
    ] = False,
) -> dict[str, Any]:
    found = [
        shown_balance(b)
        for b in inventory_documents(session).all(BALANCE)
        if (not location_id or b["location_id"] == location_id)
        and (not item_id or b["item_id"] in item_id)
        and (not below_reorder_point or is_below_reorder_point(b))
    ]
    return paging.page(found)


@router.post("/reservations", status_code=201)
def reserve(session: DbSession, request: ReservationRequest) -> dict[str, Any]:
    docs = inventory_documents(session)
    balance = docs.get(BALANCE, balance_key(request.location_id, request.item_id))
    if balance is None:  # not stocked here yet: start a balance in the reserved unit
        balance = put_balance(docs, new_balance(request.location_id, request.item_id, request.uom))
    in_balance_unit = convert_quantity(session, request.item_id, request.quantity, request.uom, balance["uom"])
    reservation_id = docs.next_id("RSV-", 6)
    body = {
        "reservation_id": reservation_id,
        **request.model_dump(mode="json"),
        "status": "active",
        "fulfilled_quantity": "0",
        "created_at": utc_now(),
    }
    docs.put(RESERVATION, reservation_id, body)
    adjust_balance(session, request.location_id, request.item_id, reserved=in_balance_unit)
    return body


@router.get("/reservations")
def list_reservations(
    session: DbSession, paging: Paging, reference: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    reservations = inventory_documents(session).all(RESERVATION)
    found = [r for r in reservations if not reference or str(r["reference"]).startswith(reference)]
    return paging.page(found)


def _open_quantity(reservation: dict[str, Any]) -> Decimal:
    return Decimal(reservation["quantity"]) - Decimal(reservation["fulfilled_quantity"])


@router.delete("/reservations/{reservation_id}")
def release(session: DbSession, reservation_id: str) -> dict[str, Any]:
    docs = inventory_documents(session)
    reservation = docs.require(RESERVATION, reservation_id, label="reservation")
    if reservation["status"] != "active":
        return reservation
    balance = docs.get(BALANCE, balance_key(reservation["location_id"], reservation["item_id"])) or {}
    left = convert_quantity(
        session, reservation["item_id"], _open_quantity(reservation), reservation["uom"], balance.get("uom", "")
    ) if balance else Decimal(0)  # fmt: skip
    adjust_balance(session, reservation["location_id"], reservation["item_id"], reserved=-left)
    return docs.put(RESERVATION, reservation_id, {**reservation, "status": "released", "updated_at": utc_now()})


@router.post("/reservations/{reservation_id}/fulfil")
def fulfil(session: DbSession, reservation_id: str, request: Fulfilment) -> dict[str, Any]:
    """Goods arrived for the reservation: reserved goes down, on hand goes up."""
    docs = inventory_documents(session)
    reservation = docs.require(RESERVATION, reservation_id, label="reservation")
    if reservation["status"] == "released":
        raise SandboxError(409, "reservation_released", f"reservation {reservation_id} was released")
    quantity = convert_quantity(session, reservation["item_id"], request.quantity, request.uom, reservation["uom"])
    applied = min(quantity, _open_quantity(reservation))
    balance = docs.get(BALANCE, balance_key(reservation["location_id"], reservation["item_id"]))
    if balance is not None:
        unit = balance["uom"]
        item = reservation["item_id"]
        adjust_balance(
            session,
            reservation["location_id"],
            item,
            reserved=-convert_quantity(session, item, applied, reservation["uom"], unit),
            on_hand=convert_quantity(session, item, quantity, reservation["uom"], unit),
        )
    fulfilled = Decimal(reservation["fulfilled_quantity"]) + applied
    status = "fulfilled" if fulfilled >= Decimal(reservation["quantity"]) else "active"
    body = {**reservation, "fulfilled_quantity": str(fulfilled), "status": status, "updated_at": utc_now()}
    return docs.put(RESERVATION, reservation_id, body)


def _optional_text(value: Any) -> str | None:
    return None if value is None else str(value)


def _seed(session: Session, seed_dir: Path) -> None:
    docs = inventory_documents(session)
    for row in load_json(seed_dir, "inventory.json"):
        balance = new_balance(
            row["location_id"],
            row["item_id"],
            row["uom"],
            on_hand=str(row.get("on_hand", 0)),
            par=_optional_text(row.get("par")),
            reorder_point=_optional_text(row.get("reorder_point")),
            in_transit=str(row.get("in_transit", 0)),
        )
        put_balance(docs, balance)


SYSTEM = SandboxSystem(name=NAME, router=router, seed=_seed)
