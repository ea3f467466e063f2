"""810 invoice -> `Invoice`, the same model a JSON invoice is (shared/examples/invoices/).

Decisions:
- BIG01 invoice date, BIG02 invoice number, BIG04 PO number (required: our invoices are against
  one PO).
- Lines are numbered 1..n in file order; IT101 (assigned identification) is the PO line they bill,
  as suppliers echo PO101 there. Quantity IT102, unit IT103 (X12 code -> ours), price IT104, item
  from the IT106.. product ids. Whether the unit fits the item is the three-way match's question
  (`uom_mismatch`), not the mapping's.
- The supplier is the partner's; an N1 RE/VN/SU naming another supplier by our id (92) is refused.
- TDS01 (two implied decimals) is the stated total; freight is the SAC C D240 charges, tax the
  TXI amounts plus SAC C H850. Other SAC charges and allowances are not fields of our invoice:
  they are left out and the stated total then differs from the computed one, which the match
  reports as `total_mismatch` for a person (never paid silently).
- Currency: CUR02 when CUR01 is BY or SE, else USD.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from domain.purchasing import Invoice
from domain.x12 import map_common as x
from domain.x12.context import MappingContext
from domain.x12.model import Segment, TransactionSet

SUPPLIER_PARTIES = ("RE", "VN", "SU")
FREIGHT, TAX = "D240", "H850"


def map_810(ts: TransactionSet, ctx: MappingContext) -> Invoice:
    sources = x.Sources()
    big: Segment | None = None
    supplier_n1: Segment | None = None
    data: dict[str, Any] = {"lines": []}
    freight, tax = Decimal(0), Decimal(0)
    for segment in x.body(ts, "BIG"):
        if segment.tag == "BIG" and big is None:
            big = segment
        elif segment.tag == "N1" and segment.element(1) in SUPPLIER_PARTIES:
            if supplier_n1 is None or segment.element(3) == "92":
                supplier_n1 = segment
        elif segment.tag == "CUR" and segment.element(1) in ("BY", "SE") and segment.element(2):
            data["currency"] = segment.element(2)
            sources.note("currency", segment, 2)
        elif segment.tag == "IT1":
            data["lines"].append(_line(len(data["lines"]), segment, ctx, sources))
        elif segment.tag == "TDS":
            data["total"] = x.decimal(segment, 1, "total", implied_places=2)
            sources.note("total", segment, 1)
        elif segment.tag == "TXI" and segment.element(2):
            tax += x.decimal(segment, 2, "tax")
            sources.note("tax", segment, 2)
        elif segment.tag == "SAC" and segment.element(1) == "C" and segment.element(2) in (FREIGHT, TAX):
            name = "freight" if segment.element(2) == FREIGHT else "tax"
            amount = x.decimal(segment, 5, name, implied_places=2)
            freight, tax = (freight + amount, tax) if name == "freight" else (freight, tax + amount)
            sources.note(name, segment, 5)
    assert big is not None  # x.body checked
    for name, number in (("invoice_date", 1), ("invoice_number", 2), ("po_number", 4)):
        sources.note(name, big, number)
    data.update(
        invoice_number=x.text(big, 2, "invoice_number"),
        invoice_date=x.ccyymmdd(big, 1, "invoice_date"),
        po_number=x.text(big, 4, "po_number"),
        supplier_id=x.partner_supplier(ctx, supplier_n1),
        freight=freight.quantize(Decimal("0.01")),
        tax=tax.quantize(Decimal("0.01")),
    )
    if supplier_n1 is not None:
        sources.note("supplier_id", supplier_n1, 4)
    return sources.build(Invoice, data)


def _line(index: int, it1: Segment, ctx: MappingContext, sources: x.Sources) -> dict[str, Any]:
    at = f"lines[{index}]"
    sources.note(at, it1)
    for name, number in (("po_line", 1), ("quantity", 2), ("uom", 3), ("unit_price", 4), ("item_id", 7)):
        sources.note(f"{at}.{name}", it1, number)
    return {
        "line": index + 1,
        "po_line": x.integer(it1, 1, f"{at}.po_line"),
        "item_id": x.item(ctx, it1, 6, f"{at}.item_id").item_id,
        "quantity": x.decimal(it1, 2, f"{at}.quantity"),
        "uom": x.unit(it1, 3, f"{at}.uom"),
        "unit_price": x.decimal(it1, 4, f"{at}.unit_price"),
    }
