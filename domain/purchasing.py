"""Procure-to-pay documents: purchase orders, vendor acknowledgements, receipts and invoices
(the systems' records of them are in domain/system_records.py).

Money and quantities are `Decimal` end to end (JSON carries them as strings); a quantity may be
fractional once converted between units of measure (3 EA of a 30-EA case is 0.1 CS).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import Field, model_validator

from domain.base import DomainModel, IsoDate, LenientModel, decimal_text

MAX_LINES = 500
MONEY_PLACES = 4  # unit prices; extended amounts are rounded to cents only for display

# One pattern for every business id that becomes part of a workflow id and of an API path (PO and
# invoice numbers, vendor ids, ERP ids): no `/`, no `%`, no space, never `.` or `..` alone, so
# whatever is accepted stays addressable at `/v1/purchase-orders/{po_number}` and its kin.
BUSINESS_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
BUSINESS_ID_RULE = "1 to 40 letters, digits and . _ - (starting with a letter or digit)"
DocumentNumber = Annotated[
    str, Field(min_length=1, max_length=40, pattern=BUSINESS_ID_PATTERN, description=BUSINESS_ID_RULE)
]
SystemId = Annotated[str, Field(min_length=1, max_length=40, pattern=BUSINESS_ID_PATTERN, description=BUSINESS_ID_RULE)]
UnitOfMeasure = Annotated[
    str, Field(min_length=1, max_length=8, pattern=r"^[A-Z0-9]+$", description="item-master unit, e.g. CS, BX, EA")
]
# Hard limits no approval can lift: past them a document is a typo or an attack, never an order.
# (Amounts a person must approve first are settings: PoPolicy's approval thresholds.)
MAX_QUANTITY = Decimal("999999.9999")
MAX_UNIT_PRICE = Decimal("9999999.9999")
MAX_ORDER_AMOUNT = Decimal(50_000_000)
Quantity = Annotated[
    Decimal,
    Field(gt=0, le=MAX_QUANTITY, max_digits=14, decimal_places=4),
    *decimal_text(
        pattern=r"^(?=[0-9.]*[1-9])[0-9]{1,6}(\.[0-9]{1,4})?$",
        integer_min=1,
        integer_max=999_999,
        description="more than zero, at most 999999.9999",
    ),
]
Price = Annotated[
    Decimal,
    Field(ge=0, le=MAX_UNIT_PRICE, max_digits=14, decimal_places=MONEY_PLACES),
    *decimal_text(
        pattern=r"^[0-9]{1,7}(\.[0-9]{1,4})?$",
        integer_min=0,
        integer_max=9_999_999,
        description="zero or more, at most 9999999.9999",
    ),
]
Amount = Annotated[
    Decimal,
    Field(ge=0, max_digits=16, decimal_places=2),
    *decimal_text(
        pattern=r"^[0-9]{1,14}(\.[0-9]{1,2})?$",
        integer_min=0,
        integer_max=99_999_999_999_999,
        description="zero or more, in cents",
    ),
]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD")]
Shipping = Literal["standard", "expedited"]


def _unique_lines(lines: Sequence[Any], what: str) -> None:
    seen: set[int] = set()
    for line in lines:
        if line.line in seen:
            raise ValueError(f"{what} line {line.line} appears twice: line numbers must be unique")
        seen.add(line.line)


def extended(quantity: Decimal, price: Decimal) -> Decimal:
    return (quantity * price).quantize(Decimal("0.01"))


# --- purchase orders -------------------------------------------------------------------------


class PurchaseOrderLine(DomainModel):
    line: int = Field(ge=1, le=9999)
    item_id: SystemId
    quantity: Quantity
    uom: UnitOfMeasure
    unit_price: Price
    need_by: IsoDate | None = Field(default=None, description="defaults to the order's need_by")
    description: str | None = Field(default=None, max_length=240)


class PurchaseOrder(DomainModel):
    """A purchase order as requisitioning submits it (shared/examples/purchase-orders/)."""

    po_number: DocumentNumber
    supplier_id: SystemId = Field(description="ERP supplier id")
    contract_ref: SystemId | None = Field(default=None, description="the contract whose prices apply")
    ship_to: SystemId = Field(description="location id")
    bill_to: SystemId = Field(description="location id")
    requester: str = Field(min_length=1, max_length=120)
    currency: Currency = "USD"
    order_date: IsoDate | None = Field(default=None, description="defaults to the day the workflow starts")
    need_by: IsoDate | None = None
    shipping: Shipping = Field(default="standard", description="expedited: the vendor ships by the fastest way")
    lines: list[PurchaseOrderLine] = Field(min_length=1, max_length=MAX_LINES)

    @model_validator(mode="after")
    def _check_lines(self) -> PurchaseOrder:
        _unique_lines(self.lines, "purchase order")
        if self.total > MAX_ORDER_AMOUNT:
            raise ValueError(
                f"the order's total {self.total} {self.currency} is above the hard limit of {MAX_ORDER_AMOUNT}"
            )
        return self

    def line(self, number: int) -> PurchaseOrderLine | None:
        return next((line for line in self.lines if line.line == number), None)

    @property
    def total(self) -> Decimal:
        return sum((extended(line.quantity, line.unit_price) for line in self.lines), Decimal(0))


def purchase_order_workflow_id(po_number: str) -> str:
    return f"purchase-order-{po_number}"


# --- acknowledgements ------------------------------------------------------------------------


class AckLineStatus(StrEnum):
    ACCEPTED = "accepted"
    BACKORDERED = "backordered"
    PRICE_CHANGED = "price_changed"
    QUANTITY_CHANGED = "quantity_changed"
    REJECTED = "rejected"


class AcknowledgementLine(LenientModel):
    line: int
    status: AckLineStatus
    quantity: Decimal | None = Field(default=None, description="quantity the vendor confirms (quantity_changed)")
    unit_price: Decimal | None = Field(default=None, description="price the vendor confirms (price_changed)")
    backordered_quantity: Decimal | None = Field(default=None, description="part of the line shipped later")
    promised_date: date | None = None
    note: str | None = None


class PoAcknowledgement(LenientModel):
    """The vendor channel's answer to a PO notification. Lines it does not mention are accepted."""

    event_id: str
    type: str = "po.acknowledged"
    po_number: str
    supplier_id: str | None = None
    acknowledged_at: datetime
    lines: list[AcknowledgementLine] = Field(default_factory=list)
    source: str | None = Field(
        default=None,
        description="who delivered it (set by the API from the caller's identity, never from the body): "
        "part of the acknowledgement's identity, so an event id another caller used cannot shadow it",
    )

    @property
    def identity(self) -> str:
        return self.event_id if self.source is None else f"{self.source}:{self.event_id}"


# --- receipts --------------------------------------------------------------------------------


class ReceiptLine(LenientModel):
    line: int
    quantity: Decimal
    uom: str


class Receipt(LenientModel):
    """Goods received against a PO, as the ERP records it."""

    receipt_id: str
    po_number: str
    lines: list[ReceiptLine]
    received_at: datetime | None = None
    received_by: str | None = None


# --- invoices --------------------------------------------------------------------------------


class InvoiceLine(DomainModel):
    line: int = Field(ge=1, le=9999)
    po_line: int = Field(ge=1, le=9999, description="the PO line this bills")
    item_id: SystemId
    quantity: Quantity
    uom: UnitOfMeasure
    unit_price: Price
    description: str | None = Field(default=None, max_length=240)


class Invoice(DomainModel):
    """A supplier invoice against one PO (shared/examples/invoices/)."""

    invoice_number: DocumentNumber
    supplier_id: SystemId
    po_number: DocumentNumber
    invoice_date: IsoDate
    currency: Currency = "USD"
    lines: list[InvoiceLine] = Field(min_length=1, max_length=MAX_LINES)
    freight: Amount = Decimal("0.00")
    tax: Amount = Decimal("0.00")
    total: Amount | None = Field(default=None, description="the total stated on the invoice, if any")

    @model_validator(mode="after")
    def _check_lines(self) -> Invoice:
        _unique_lines(self.lines, "invoice")
        return self

    @property
    def lines_amount(self) -> Decimal:
        return sum((extended(line.quantity, line.unit_price) for line in self.lines), Decimal(0))

    @property
    def computed_total(self) -> Decimal:
        return self.lines_amount + self.freight + self.tax


_NUMBER_NOISE = re.compile(r"[^A-Z0-9]")


def normalise_invoice_number(number: str) -> str:
    """`nss-0889120`, `NSS 889120` and `NSS889120` are one invoice: case, punctuation, spaces
    and leading zeros of the numeric part do not distinguish invoices."""
    unpadded = re.sub(r"(?<![0-9])0+(?=[0-9])", "", number.upper())
    return _NUMBER_NOISE.sub("", unpadded)


def invoice_workflow_id(supplier_id: str, invoice_number: str) -> str:
    """`invoice-<supplier>-<invoice number>`; characters a workflow id should not carry become `_`."""
    return f"invoice-{supplier_id}-{re.sub(r'[^A-Za-z0-9._-]', '_', invoice_number)}"
