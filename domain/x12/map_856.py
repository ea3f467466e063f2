"""856 advance ship notice -> `ShipNotice` (domain/shipping.py).

Decisions:
- One notice per PO: the PRF01 of the order level; an 856 naming two different POs is an error
  (a person splits it), one without PRF cannot be put on a PO.
- BSN02 is the notice number; the ship date is DTM 011 (shipped), else BSN03; the expected
  delivery DTM 017. Carrier: TD503 (SCAC) with its name from TD505, else from our SCAC table;
  tracking from REF 2I, else CN, else BM (codes.TRACKING_QUALIFIERS).
- Lines: each LIN starts one (item from its product ids, LIN02 on), the SN1 after it gives the
  quantity (SN102) and unit (SN103); the PO line is LIN01, else SN101. The same PO line shipped in
  several packs is one line, its quantities added (converted to the first pack's unit through
  the item master when units differ).
- Ship-to: the N1 ST by GLN or our id; one we do not know is an error (a shipment to a place that
  is not ours), none at all is fine.
"""

from __future__ import annotations

from typing import Any

from domain.shipping import ShipNotice
from domain.x12 import map_common as x
from domain.x12.codes import CARRIERS, DATE_DELIVERY_ESTIMATED, DATE_SHIPPED, TRACKING_QUALIFIERS
from domain.x12.context import MappingContext, MappingError
from domain.x12.model import Segment, TransactionSet

SUPPLIER_PARTIES = ("SF", "SU", "VN")


def map_856(ts: TransactionSet, ctx: MappingContext) -> ShipNotice:
    sources = x.Sources()
    bsn: Segment | None = None
    found: dict[str, Segment] = {}
    references: dict[str, Segment] = {}
    lines: list[dict[str, Any]] = []
    current: dict[str, Any] | None = None
    for segment in x.body(ts, "BSN"):
        tag, first = segment.tag, segment.element(1)
        if tag == "BSN" and bsn is None:
            bsn = segment
        elif tag == "PRF":
            _one_order(found, segment)
        elif tag == "TD5" and segment.element(3) and "TD5" not in found:
            found["TD5"] = segment
        elif tag == "REF" and first in TRACKING_QUALIFIERS and segment.element(2):
            references.setdefault(first, segment)
        elif tag == "DTM" and first in (DATE_SHIPPED, DATE_DELIVERY_ESTIMATED):
            found.setdefault(f"DTM{first}", segment)
        elif tag == "N1" and first == "ST":
            found.setdefault("ST", segment)
        elif tag == "N1" and first in SUPPLIER_PARTIES and segment.element(3) == "92":
            found.setdefault("supplier", segment)
        elif tag == "LIN":
            current = {"lin": segment, "sn1": None}
            lines.append(current)
        elif tag == "SN1" and current is not None and current["sn1"] is None:
            current["sn1"] = segment
    assert bsn is not None  # x.body checked
    if "PRF" not in found:
        raise MappingError("po_number", "no PRF segment names the PO shipped", bsn.position, "PRF01", x.MISSING)
    sources.note("asn_number", bsn, 2)
    sources.note("po_number", found["PRF"], 1)
    shipped = found.get(f"DTM{DATE_SHIPPED}")
    data: dict[str, Any] = {
        "event_id": ctx.event_id,
        "asn_number": x.text(bsn, 2, "asn_number"),
        "po_number": x.text(found["PRF"], 1, "po_number"),
        "supplier_id": x.partner_supplier(ctx, found.get("supplier")),
        "shipped_on": x.ccyymmdd(shipped, 2, "shipped_on") if shipped else x.ccyymmdd(bsn, 3, "shipped_on"),
        "lines": _merged_lines(lines, ctx, sources),
    }
    if "TD5" in found:
        td5 = found["TD5"]
        data["carrier_code"] = td5.element(3)
        data["carrier_name"] = td5.element(5) or CARRIERS.get(td5.element(3))
        sources.note("carrier_code", td5, 3)
    tracking = next((references[q] for q in TRACKING_QUALIFIERS if q in references), None)
    if tracking is not None:
        data["tracking_number"] = tracking.element(2)
        sources.note("tracking_number", tracking, 2)
    if f"DTM{DATE_DELIVERY_ESTIMATED}" in found:
        data["expected_delivery"] = x.ccyymmdd(found[f"DTM{DATE_DELIVERY_ESTIMATED}"], 2, "expected_delivery")
    if "ST" in found:
        data["ship_to"] = x.location(ctx, found["ST"], "ship_to").location_id
    return sources.build(ShipNotice, data)


def _one_order(found: dict[str, Segment], prf: Segment) -> None:
    earlier = found.setdefault("PRF", prf)
    if earlier.element(1) != prf.element(1):
        raise MappingError(
            "po_number",
            f"the notice ships PO {earlier.element(1)} and PO {prf.element(1)}: one notice per PO",
            prf.position,
            "PRF01",
        )


def _merged_lines(found: list[dict[str, Any]], ctx: MappingContext, sources: x.Sources) -> list[dict[str, Any]]:
    merged: dict[int, dict[str, Any]] = {}
    for entry in found:
        lin, sn1 = entry["lin"], entry["sn1"]
        at = f"lines[{len(merged)}]"
        if sn1 is None:
            raise MappingError(f"{at}.quantity", "the LIN has no SN1 with the quantity shipped", lin.position, "SN102")
        number = x.integer(lin, 1, f"{at}.line") if lin.element(1) else x.integer(sn1, 1, f"{at}.line")
        item = x.item(ctx, lin, 2, f"{at}.item_id")
        quantity, uom = x.decimal(sn1, 2, f"{at}.quantity"), x.unit(sn1, 3, f"{at}.uom")
        line = merged.get(number)
        if line is None:
            sources.note(at, lin)
            sources.note(f"{at}.quantity", sn1, 2)
            merged[number] = {"line": number, "item_id": item.item_id, "quantity": quantity, "uom": uom}
            continue
        at = f"lines[{list(merged).index(number)}]"
        if line["item_id"] != item.item_id:
            raise MappingError(
                f"{at}.item_id",
                f"PO line {number} ships {line['item_id']} and {item.item_id}",
                lin.position,
                "LIN03",
            )
        try:
            line["quantity"] += item.convert(quantity, uom, line["uom"])
        except ValueError as error:
            raise MappingError(f"{at}.uom", str(error), sn1.position, "SN103") from None
    return list(merged.values())
