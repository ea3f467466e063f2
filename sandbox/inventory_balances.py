"""The inventory system's balances (one document per location and item), shared by reservations
(sandbox/inventory.py) and consumption (sandbox/inventory_consumption.py).

Quantities are decimal strings in the balance's unit. `reserved` is the open quantity of the
reservations our purchase orders made (goods ordered for the location); `on_order` shows the
same number under the name replenishment reads, and `in_transit` what has shipped but is not on
the shelf yet ("0" unless a seed row says otherwise). Both are kept on every stored balance and
filled in on read for documents written before they existed.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from domain.reference import Item
from sandbox.db import Documents, utc_now
from sandbox.errors import SandboxError

NAME = "inventory"
BALANCE = "balance"


def inventory_documents(session: Session) -> Documents:
    return Documents(session, NAME)


def balance_key(location_id: str, item_id: str) -> str:
    return f"{location_id}:{item_id}"


def shown_balance(balance: dict[str, Any]) -> dict[str, Any]:
    """The balance with `on_order` (= `reserved`) and `in_transit` (default "0") filled in."""
    return {**balance, "on_order": balance.get("reserved", "0"), "in_transit": balance.get("in_transit", "0")}


def new_balance(location_id: str, item_id: str, uom: str, **fields: Any) -> dict[str, Any]:
    """A balance document: nothing on hand, no par or reorder point, unless `fields` say otherwise."""
    body = {
        "location_id": location_id,
        "item_id": item_id,
        "uom": uom,
        "on_hand": "0",
        "par": None,
        "reorder_point": None,
        "reserved": "0",
        "in_transit": "0",
        **fields,
    }
    return shown_balance(body)


def put_balance(docs: Documents, balance: dict[str, Any]) -> dict[str, Any]:
    return docs.put(BALANCE, balance_key(balance["location_id"], balance["item_id"]), shown_balance(balance))


def is_below_reorder_point(balance: dict[str, Any]) -> bool:
    """On hand at or below the reorder point; a balance without a reorder point never is."""
    reorder_point = balance.get("reorder_point")
    return reorder_point is not None and Decimal(balance["on_hand"]) <= Decimal(reorder_point)


def convert_quantity(session: Session, item_id: str, quantity: Decimal, from_uom: str, to_uom: str) -> Decimal:
    """`quantity` of `from_uom` in `to_uom`, through the item master the contract system keeps
    (422 `uom_mismatch` naming `uom` when the item master does not convert between them)."""
    if from_uom == to_uom:
        return quantity
    record = Documents(session, "contracts").get("item", item_id)
    item = Item.model_validate(record) if record else None
    if item is None or not item.converts(from_uom, to_uom):
        raise SandboxError(422, "uom_mismatch", f"uom: {from_uom} cannot be converted to {to_uom} for {item_id}")
    return item.convert(quantity, from_uom, to_uom)


def adjust_balance(session: Session, location_id: str, item_id: str, **deltas: Decimal) -> dict[str, Any] | None:
    """Add `deltas` to the balance's quantities (`on_hand=-2`); None when there is no balance."""
    docs = inventory_documents(session)
    balance = docs.get(BALANCE, balance_key(location_id, item_id))
    if balance is None:
        return None
    for field, delta in deltas.items():
        balance[field] = str(Decimal(balance[field]) + delta)
    return put_balance(docs, {**balance, "updated_at": utc_now()})
