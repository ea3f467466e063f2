"""Three-way match: the invoice against the PO (price, item, unit) and the receipts (quantity).

A pure function over plain models, so it is property-tested without Temporal or HTTP and the
invoice workflow calls it directly (no activity for pure computation).

Rules (every discrepancy found is returned, not only the first):
- `duplicate_invoice`: the supplier already has an invoice with this normalised number.
- `unknown_po_line`: the invoice line bills a PO line the PO does not have, a cancelled line,
  or another item than the PO line's.
- `uom_mismatch`: the invoice's unit of measure is not one the item master defines for the item
  (a convertible unit is converted: 1 CS of ITM-1001 is 10 BX, and is compared as such).
- `price_variance`: per line, the billed unit price (converted to the PO line's unit) differs
  from the PO price by more than the tolerance. The tolerance is on the line's extended
  variance: at most `price_percent` % of the line's PO value or `price_amount` (per line),
  whichever is less. Defaults 2 % and $50.00; over- and under-billing are both flagged.
- `no_receipt`: nothing has been received on the PO line.
- `quantity_variance`: what this invoice bills on a PO line plus what earlier approved invoices
  billed exceeds what was received (plus `quantity_tolerance` % of it, default 0).
- `total_mismatch`: the invoice states a total that is not lines + freight + tax (to the cent),
  or its currency is not the PO's.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from domain.base import DomainModel
from domain.purchasing import Invoice, extended
from domain.reference import Item

CENT = Decimal("0.01")


class DiscrepancyKind(StrEnum):
    PRICE_VARIANCE = "price_variance"
    QUANTITY_VARIANCE = "quantity_variance"
    NO_RECEIPT = "no_receipt"
    DUPLICATE_INVOICE = "duplicate_invoice"
    UNKNOWN_PO_LINE = "unknown_po_line"
    UOM_MISMATCH = "uom_mismatch"
    TOTAL_MISMATCH = "total_mismatch"


class MatchTolerance(DomainModel):
    price_percent: Decimal = Field(default=Decimal("2"), ge=0, le=100)
    price_amount: Decimal = Field(default=Decimal("50.00"), ge=0)
    quantity_percent: Decimal = Field(default=Decimal("0"), ge=0, le=100)
    total_amount: Decimal = Field(default=CENT, ge=0)


class PoLineFacts(DomainModel):
    """A PO line as the ERP knows it now (after acknowledgement changes), with what was received
    and what earlier approved invoices billed, both in the line's unit."""

    line: int
    item_id: str
    quantity: Decimal
    uom: str
    unit_price: Decimal
    cancelled: bool = False
    received: Decimal = Decimal(0)
    invoiced: Decimal = Decimal(0)


class Discrepancy(DomainModel):
    kind: DiscrepancyKind
    invoice_line: int | None = None
    po_line: int | None = None
    message: str
    expected: str | None = None
    actual: str | None = None
    amount: Decimal | None = Field(default=None, description="money at stake, when it can be priced")


class LineMatch(DomainModel):
    """How one invoice line matched: its quantity and price in the PO line's unit."""

    invoice_line: int
    po_line: int
    quantity: Decimal
    billed_unit_price: Decimal
    po_unit_price: Decimal
    payable_quantity: Decimal = Field(description="the part of the quantity that was received and not yet billed")


class MatchResult(DomainModel):
    discrepancies: list[Discrepancy] = Field(default_factory=list)
    lines: list[LineMatch] = Field(default_factory=list)
    invoice_amount: Decimal
    payable_amount: Decimal = Field(
        description="received, not yet billed quantity at the PO price, plus freight and tax: what a short-pay pays"
    )

    @property
    def clean(self) -> bool:
        return not self.discrepancies

    @property
    def kinds(self) -> list[DiscrepancyKind]:
        return list(dict.fromkeys(d.kind for d in self.discrepancies))


def three_way_match(
    invoice: Invoice,
    po_lines: Sequence[PoLineFacts],
    items: Mapping[str, Item],
    *,
    po_currency: str = "USD",
    po_exists: bool = True,
    duplicate_of: str | None = None,
    tolerance: MatchTolerance | None = None,
) -> MatchResult:
    tol = tolerance or MatchTolerance()
    found: list[Discrepancy] = []
    matched: list[LineMatch] = []
    by_line = {line.line: line for line in po_lines}
    billed: dict[int, Decimal] = {}  # PO line -> quantity this invoice bills on it, in the PO line's unit

    if duplicate_of:
        found.append(
            Discrepancy(
                kind=DiscrepancyKind.DUPLICATE_INVOICE,
                message=f"supplier {invoice.supplier_id} already has invoice {invoice.invoice_number} ({duplicate_of})",
                expected="a new invoice number",
                actual=invoice.invoice_number,
            )
        )

    for inv in invoice.lines:
        po = by_line.get(inv.po_line)
        line_amount = extended(inv.quantity, inv.unit_price)
        if po is None or po.cancelled or po.item_id != inv.item_id:
            why = (
                f"PO {invoice.po_number} does not exist"
                if not po_exists
                else f"PO {invoice.po_number} has no line {inv.po_line}"
                if po is None
                else f"PO line {inv.po_line} is cancelled"
                if po.cancelled
                else f"PO line {inv.po_line} is for {po.item_id}, not {inv.item_id}"
            )
            found.append(
                Discrepancy(
                    kind=DiscrepancyKind.UNKNOWN_PO_LINE,
                    invoice_line=inv.line,
                    po_line=inv.po_line,
                    message=why,
                    expected=po.item_id if po else None,
                    actual=inv.item_id,
                    amount=line_amount,
                )
            )
            continue
        item = items.get(po.item_id)
        if item is None or inv.uom not in item.uoms or po.uom not in item.uoms:
            found.append(
                Discrepancy(
                    kind=DiscrepancyKind.UOM_MISMATCH,
                    invoice_line=inv.line,
                    po_line=po.line,
                    message=(
                        f"{inv.uom} is not a unit of measure of {po.item_id}"
                        if item is not None
                        else f"item {po.item_id} is not in the item master"
                    ),
                    expected=", ".join(sorted(item.uoms)) if item else po.uom,
                    actual=inv.uom,
                    amount=line_amount,
                )
            )
            continue

        quantity = item.convert(inv.quantity, inv.uom, po.uom)
        # price per PO unit: price per invoice unit * (invoice units in one PO unit)
        price = inv.unit_price * Decimal(item.uoms[po.uom]) / Decimal(item.uoms[inv.uom])
        po_value = po.unit_price * quantity
        variance = (price - po.unit_price) * quantity
        allowed = min(po_value * tol.price_percent / 100, tol.price_amount)
        if abs(variance) > allowed:
            found.append(
                Discrepancy(
                    kind=DiscrepancyKind.PRICE_VARIANCE,
                    invoice_line=inv.line,
                    po_line=po.line,
                    message=(
                        f"{po.item_id} billed {_money(price)} per {po.uom} vs PO {_money(po.unit_price)}: "
                        f"{_money(variance)} on the line, tolerance {_money(allowed)}"
                    ),
                    expected=_money(po.unit_price),
                    actual=_money(price),
                    amount=variance.quantize(CENT),
                )
            )

        already = billed.get(po.line, Decimal(0))
        billed[po.line] = already + quantity
        open_to_bill = max(po.received - po.invoiced - already, Decimal(0))
        payable = min(quantity, open_to_bill)
        if po.received <= 0:
            found.append(
                Discrepancy(
                    kind=DiscrepancyKind.NO_RECEIPT,
                    invoice_line=inv.line,
                    po_line=po.line,
                    message=f"nothing has been received on PO line {po.line} ({po.item_id})",
                    expected=f"0 {po.uom}",
                    actual=f"{_qty(quantity)} {po.uom}",
                    amount=extended(quantity, po.unit_price),
                )
            )
        else:
            limit = po.received * (1 + tol.quantity_percent / 100)
            if po.invoiced + already + quantity > limit:
                over = po.invoiced + already + quantity - po.received
                found.append(
                    Discrepancy(
                        kind=DiscrepancyKind.QUANTITY_VARIANCE,
                        invoice_line=inv.line,
                        po_line=po.line,
                        message=(
                            f"{_qty(quantity)} {po.uom} of {po.item_id} billed"
                            + (f" (plus {_qty(po.invoiced)} billed before)" if po.invoiced else "")
                            + f" vs {_qty(po.received)} {po.uom} received"
                        ),
                        expected=f"{_qty(max(po.received - po.invoiced - already, Decimal(0)))} {po.uom}",
                        actual=f"{_qty(quantity)} {po.uom}",
                        amount=extended(over, po.unit_price),
                    )
                )
        matched.append(
            LineMatch(
                invoice_line=inv.line,
                po_line=po.line,
                quantity=quantity,
                billed_unit_price=price,
                po_unit_price=po.unit_price,
                payable_quantity=payable,
            )
        )

    if invoice.currency != po_currency:
        found.append(
            Discrepancy(
                kind=DiscrepancyKind.TOTAL_MISMATCH,
                message=f"invoice currency {invoice.currency} differs from the PO's {po_currency}",
                expected=po_currency,
                actual=invoice.currency,
            )
        )
    if invoice.total is not None and abs(invoice.total - invoice.computed_total) > tol.total_amount:
        found.append(
            Discrepancy(
                kind=DiscrepancyKind.TOTAL_MISMATCH,
                message=(
                    f"stated total {_money(invoice.total)} is not lines {_money(invoice.lines_amount)} + freight "
                    f"{_money(invoice.freight)} + tax {_money(invoice.tax)}"
                ),
                expected=_money(invoice.computed_total),
                actual=_money(invoice.total),
                amount=(invoice.total - invoice.computed_total).quantize(CENT),
            )
        )

    payable = sum((extended(m.payable_quantity, m.po_unit_price) for m in matched), Decimal(0))
    return MatchResult(
        discrepancies=found,
        lines=matched,
        invoice_amount=invoice.computed_total,
        payable_amount=payable + invoice.freight + invoice.tax,
    )


def _money(value: Decimal) -> str:
    return str(value.quantize(CENT))


def _qty(value: Decimal) -> str:
    text = format(value.normalize(), "f")
    return text
