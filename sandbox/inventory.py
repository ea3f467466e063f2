"""Inventory (`/inventory`): on hand, par, reorder point and reservations per location and item,
seeded from inventory.json. Quantities are decimal strings in the balance's unit; a reservation
in another unit is converted with the item master (kept by contract management)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from domain.reference import Item
from domain.system_records import ReservationRequest
from sandbox.db import DbSession, Documents, utc_now
from sandbox.errors import SandboxError
from sandbox.paging import Paging
from sandbox.seed import load_json
from sandbox.system import SandboxSystem

NAME = "inventory"
BALANCE = "balance"
RESERVATION = "reservation"

router = APIRouter(prefix=f"/{NAME}", tags=[NAME])


class Fulfilment(BaseModel):
    quantity: Decimal = Field(gt=0)
    uom: str = Field(min_length=1, max_length=8)


def _docs(session: Session) -> Documents:
    return Documents(session, NAME)


def _key(location_id: str, item_id: str) -> str:
    return f"{location_id}:{item_id}"


def _convert(session: Session, item_id: str, quantity: Decimal, from_uom: str, to_uom: str) -> Decimal:
    if from_uom == to_uom:
        return quantity
    record = Documents(session, "contracts").get("item", item_id)
    item = Item.model_validate(record) if record else None
    if item is None or not item.converts(from_uom, to_uom):
        raise SandboxError(422, "uom_mismatch", f"uom: {from_uom} cannot be converted to {to_uom} for {item_id}")
    return item.convert(quantity, from_uom, to_uom)


def _adjust(session: Session, location_id: str, item_id: str, **deltas: Decimal) -> None:
    docs = _docs(session)
    key = _key(location_id, item_id)
    balance = docs.get(BALANCE, key)
    if balance is None:
        return
    for field, delta in deltas.items():
        balance[field] = str(Decimal(balance[field]) + delta)
    docs.put(BALANCE, key, {**balance, "updated_at": utc_now()})


@router.get("/balances")
def list_balances(
    session: DbSession,
    paging: Paging,
    location_id: Annotated[str | None, Query()] = None,
    item_id: Annotated[list[str] | None, Query()] = None,
) -> dict[str, Any]:
    found = [
        b
        for b in _docs(session).all(BALANCE)
        if (not location_id or b["location_id"] == location_id) and (not item_id or b["item_id"] in item_id)
    ]
    return paging.page(found)


@router.post("/reservations", status_code=201)
def reserve(session: DbSession, request: ReservationRequest) -> dict[str, Any]:
    docs = _docs(session)
    key = _key(request.location_id, request.item_id)
    balance = docs.get(BALANCE, key)
    if balance is None:  # not stocked here yet: start a balance in the reserved unit
        balance = docs.put(
            BALANCE,
            key,
            {
                "location_id": request.location_id,
                "item_id": request.item_id,
                "uom": request.uom,
                "on_hand": "0",
                "par": None,
                "reorder_point": None,
                "reserved": "0",
            },
        )
    in_balance_unit = _convert(session, request.item_id, request.quantity, request.uom, balance["uom"])
    reservation_id = docs.next_id("RSV-", 6)
    body = {
        "reservation_id": reservation_id,
        **request.model_dump(mode="json"),
        "status": "active",
        "fulfilled_quantity": "0",
        "created_at": utc_now(),
    }
    docs.put(RESERVATION, reservation_id, body)
    _adjust(session, request.location_id, request.item_id, reserved=in_balance_unit)
    return body


@router.get("/reservations")
def list_reservations(
    session: DbSession, paging: Paging, reference: Annotated[str | None, Query()] = None
) -> dict[str, Any]:
    found = [r for r in _docs(session).all(RESERVATION) if not reference or str(r["reference"]).startswith(reference)]
    return paging.page(found)


def _open_quantity(reservation: dict[str, Any]) -> Decimal:
    return Decimal(reservation["quantity"]) - Decimal(reservation["fulfilled_quantity"])


@router.delete("/reservations/{reservation_id}")
def release(session: DbSession, reservation_id: str) -> dict[str, Any]:
    docs = _docs(session)
    reservation = docs.require(RESERVATION, reservation_id, label="reservation")
    if reservation["status"] != "active":
        return reservation
    balance = docs.get(BALANCE, _key(reservation["location_id"], reservation["item_id"])) or {}
    left = _convert(
        session, reservation["item_id"], _open_quantity(reservation), reservation["uom"], balance.get("uom", "")
    ) if balance else Decimal(0)  # fmt: skip
    _adjust(session, reservation["location_id"], reservation["item_id"], reserved=-left)
    return docs.put(RESERVATION, reservation_id, {**reservation, "status": "released", "updated_at": utc_now()})


@router.post("/reservations/{reservation_id}/fulfil")
def fulfil(session: DbSession, reservation_id: str, request: Fulfilment) -> dict[str, Any]:
    """Goods arrived for the reservation: reserved goes down, on hand goes up."""
    docs = _docs(session)
    reservation = docs.require(RESERVATION, reservation_id, label="reservation")
    if reservation["status"] == "released":
        raise SandboxError(409, "reservation_released", f"reservation {reservation_id} was released")
    quantity = _convert(session, reservation["item_id"], request.quantity, request.uom, reservation["uom"])
    applied = min(quantity, _open_quantity(reservation))
    balance = docs.get(BALANCE, _key(reservation["location_id"], reservation["item_id"]))
    if balance is not None:
        unit = balance["uom"]
        item = reservation["item_id"]
        _adjust(
            session,
            reservation["location_id"],
            item,
            reserved=-_convert(session, item, applied, reservation["uom"], unit),
            on_hand=_convert(session, item, quantity, reservation["uom"], unit),
        )
    fulfilled = Decimal(reservation["fulfilled_quantity"]) + applied
    status = "fulfilled" if fulfilled >= Decimal(reservation["quantity"]) else "active"
    body = {**reservation, "fulfilled_quantity": str(fulfilled), "status": status, "updated_at": utc_now()}
    return docs.put(RESERVATION, reservation_id, body)


def _seed(session: Session, seed_dir: Path) -> None:
    docs = _docs(session)
    for row in load_json(seed_dir, "inventory.json"):
        body = {
            "location_id": row["location_id"],
            "item_id": row["item_id"],
            "uom": row["uom"],
            "on_hand": str(row.get("on_hand", 0)),
            "par": None if row.get("par") is None else str(row["par"]),
            "reorder_point": None if row.get("reorder_point") is None else str(row["reorder_point"]),
            "reserved": "0",
        }
        docs.put(BALANCE, _key(row["location_id"], row["item_id"]), body)


SYSTEM = SandboxSystem(name=NAME, router=router, seed=_seed)
