"""832 price/sales catalog -> `CatalogPrices` (domain/catalog.py).

Decisions:
- BCT02 is the catalog id, DTM 007 the date its prices take effect, the supplier the partner's
  (an N1 VN/SU naming another supplier by our id is refused), CUR02 the currency (else USD).
- Each LIN is an item (product ids from LIN02 on); each CTP after it a price: CTP03 the unit
  price for the unit of CTP05 (its first component), CTP04 the quantity it is for, CTP02 the
  price type. A CTP without CTP03 or CTP05 is skipped (it states no unit price); a PID F gives
  the description.
- An item we cannot resolve is listed in `unmatched` with its ids, not an error: a catalog lists
  what the supplier sells, most of which we may not stock. Bad values (a price that is not a
  number, a unit code we do not know) are errors.
"""

from __future__ import annotations

from typing import Any

from domain.catalog import CatalogPrices
from domain.x12 import map_common as x
from domain.x12.codes import DATE_EFFECTIVE, UnknownCode, unit_from_x12
from domain.x12.context import ItemNotFound, MappingContext, MappingError
from domain.x12.model import Segment, TransactionSet

SUPPLIER_PARTIES = ("VN", "SU", "SE")


def map_832(ts: TransactionSet, ctx: MappingContext) -> CatalogPrices:
    sources = x.Sources()
    bct: Segment | None = None
    supplier_n1: Segment | None = None
    data: dict[str, Any] = {"event_id": ctx.event_id, "prices": [], "unmatched": []}
    entry: dict[str, Any] | None = None
    entries: list[dict[str, Any]] = []
    for segment in x.body(ts, "BCT"):
        tag = segment.tag
        if tag == "BCT" and bct is None:
            bct = segment
        elif tag == "DTM" and segment.element(1) == DATE_EFFECTIVE and entry is None:
            data["effective_from"] = x.ccyymmdd(segment, 2, "effective_from")
            sources.note("effective_from", segment, 2)
        elif tag == "CUR" and segment.element(2) and entry is None:
            data["currency"] = segment.element(2)
            sources.note("currency", segment, 2)
        elif tag == "N1" and segment.element(1) in SUPPLIER_PARTIES and entry is None:
            supplier_n1 = segment if supplier_n1 is None or segment.element(3) == "92" else supplier_n1
        elif tag == "LIN":
            entry = {"lin": segment, "ctps": [], "description": None}
            entries.append(entry)
        elif tag == "PID" and entry is not None and segment.element(1) == "F" and segment.element(5):
            entry["description"] = entry["description"] or segment.element(5)[:240]
        elif tag == "CTP" and entry is not None:
            entry["ctps"].append(segment)
    assert bct is not None  # x.body checked
    data["catalog_id"] = x.text(bct, 2, "catalog_id")
    sources.note("catalog_id", bct, 2)
    data["supplier_id"] = x.partner_supplier(ctx, supplier_n1)
    for found in entries:
        lin = found["lin"]
        try:
            item_id = ctx.reference.resolve_item(x.product_ids(lin, 2)).item_id
        except ItemNotFound as error:
            ids = {pid.qualifier: pid.value for pid in x.product_ids(lin, 2)}
            data["unmatched"].append({"product_ids": ids, "reason": str(error), "position": lin.position})
            continue
        for ctp in found["ctps"]:
            if ctp.element(3) and ctp.element(5):
                data["prices"].append(_price(len(data["prices"]), item_id, ctp, found["description"], ctx, sources))
    return sources.build(CatalogPrices, data, root_field="prices")


def _price(
    index: int, item_id: str, ctp: Segment, description: str | None, ctx: MappingContext, sources: x.Sources
) -> dict[str, Any]:
    at = f"prices[{index}]"
    sources.note(at, ctp)
    sources.note(f"{at}.unit_price", ctp, 3)
    sources.note(f"{at}.min_quantity", ctp, 4)
    code = ctp.components(5, ctx.delimiters)[0].strip()
    try:
        uom = unit_from_x12(code)
    except UnknownCode as error:
        raise MappingError(f"{at}.uom", str(error), ctp.position, "CTP05", x.INVALID_CODE) from None
    return {
        "item_id": item_id,
        "uom": uom,
        "unit_price": x.decimal(ctp, 3, f"{at}.unit_price"),
        "min_quantity": x.optional_decimal(ctp, 4, f"{at}.min_quantity"),
        "price_type": ctp.element(2) or None,
        "description": description,
    }
