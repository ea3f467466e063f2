"""850 purchase order (from a legacy materials-management export, or our own 850 read back) ->
`PurchaseOrder`, the same model `supplybridge po submit` takes.

Decisions:
- BEG03 PO number, BEG05 order date; REF CT the contract; CUR02 (CUR01 BY) the currency.
- Ship-to: N1 ST by GLN (`UL`) or our location id (`92`), required; bill-to: N1 BT the same way,
  else the ship-to (a legacy export often names one place).
- Supplier: N1 SU/VN by our id (`92`), else the partner's supplier; an 850 comes from our side,
  so the N1 is not checked against the partner.
- Requester: PER BD (buyer) or PER OC (order contact) name, else `x12 <sender id>`.
- Need-by: DTM 002 (delivery requested) of the header, and of a line after its PO1.
- Shipping: `expedited` when a TD5 carries a fast service level in TD512 (ES, ND, ...).
- Lines: PO101 line, PO102 quantity, PO103 unit, PO104 price, item from PO106 on, PID F description.
"""

from __future__ import annotations

from typing import Any

from domain.purchasing import PurchaseOrder
from domain.x12 import map_common as x
from domain.x12.codes import DATE_DELIVERY_REQUESTED, EXPEDITED_SERVICE_LEVELS
from domain.x12.context import MappingContext, MappingError
from domain.x12.model import Segment, TransactionSet

SUPPLIER_PARTIES = ("SU", "VN", "SE")
REQUESTER_FUNCTIONS = ("BD", "OC")


def map_850(ts: TransactionSet, ctx: MappingContext) -> PurchaseOrder:
    sources = x.Sources()
    beg: Segment | None = None
    parties: dict[str, Segment] = {}
    data: dict[str, Any] = {"lines": []}
    line: dict[str, Any] | None = None
    for segment in x.body(ts, "BEG"):
        tag, first = segment.tag, segment.element(1)
        if tag == "BEG" and beg is None:
            beg = segment
        elif tag == "N1" and first in ("ST", "BT", *SUPPLIER_PARTIES):
            parties.setdefault("supplier" if first in SUPPLIER_PARTIES else first, segment)
        elif tag == "REF" and first == "CT" and segment.element(2):
            data["contract_ref"] = segment.element(2)
            sources.note("contract_ref", segment, 2)
        elif tag == "CUR" and first == "BY" and segment.element(2):
            data["currency"] = segment.element(2)
            sources.note("currency", segment, 2)
        elif tag == "PER" and first in REQUESTER_FUNCTIONS and segment.element(2) and "requester" not in data:
            data["requester"] = segment.element(2)
            sources.note("requester", segment, 2)
        elif tag == "TD5" and segment.element(12) in EXPEDITED_SERVICE_LEVELS:
            data["shipping"] = "expedited"
        elif tag == "DTM" and first == DATE_DELIVERY_REQUESTED:
            field = "need_by" if line is None else f"lines[{len(data['lines']) - 1}].need_by"
            (data if line is None else line)["need_by"] = x.ccyymmdd(segment, 2, field)
            sources.note(field, segment, 2)
        elif tag == "PO1":
            line = _line(len(data["lines"]), segment, ctx, sources)
            data["lines"].append(line)
        elif tag == "PID" and line is not None and first == "F" and segment.element(5):
            line.setdefault("description", segment.element(5)[:240])
    assert beg is not None  # x.body checked
    for name, number in (("po_number", 3), ("order_date", 5)):
        sources.note(name, beg, number)
    if "ST" not in parties:
        raise MappingError("ship_to", "no N1 ST names where to deliver", beg.position, "N101", x.MISSING)
    ship_to = x.location(ctx, parties["ST"], "ship_to").location_id
    bill_to = x.location(ctx, parties["BT"], "bill_to").location_id if "BT" in parties else ship_to
    data.update(
        po_number=x.text(beg, 3, "po_number"),
        order_date=x.optional_date(beg, 5, "order_date"),
        ship_to=ship_to,
        bill_to=bill_to,
        supplier_id=_supplier(ctx, parties.get("supplier"), beg),
    )
    data.setdefault("requester", f"x12 {ctx.identity.sender_id}")
    return sources.build(PurchaseOrder, data)


def _supplier(ctx: MappingContext, n1: Segment | None, beg: Segment) -> str:
    if n1 is not None and n1.element(3) == "92" and n1.element(4):
        return n1.element(4)
    if ctx.supplier_id is None:
        raise MappingError("supplier_id", "no N1 SU/VN names the supplier by our id (92)", beg.position, "N104")
    return ctx.supplier_id


def _line(index: int, po1: Segment, ctx: MappingContext, sources: x.Sources) -> dict[str, Any]:
    at = f"lines[{index}]"
    sources.note(at, po1)
    for name, number in (("line", 1), ("quantity", 2), ("uom", 3), ("unit_price", 4), ("item_id", 7)):
        sources.note(f"{at}.{name}", po1, number)
    return {
        "line": x.integer(po1, 1, f"{at}.line"),
        "item_id": x.item(ctx, po1, 6, f"{at}.item_id").item_id,
        "quantity": x.decimal(po1, 2, f"{at}.quantity"),
        "uom": x.unit(po1, 3, f"{at}.uom"),
        "unit_price": x.decimal(po1, 4, f"{at}.unit_price"),
    }
