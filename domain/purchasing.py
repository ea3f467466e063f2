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
from typing import Annotated, Any

from pydantic import Field, model_validator

from domain.base import DomainModel, LenientModel

MAX_LINES = 500
MONEY_PLACES = 4  # unit prices; extended amounts are rounded to cents only for display

DocumentNumber = Annotated[
    str,
    Field(
        min_length=1,
        max_length=40,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._/-]*$",
        description="letters, digits and . _ / - (starting with a letter or digit)",
    ),
]
SystemId = Annotated[str, Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")]
UnitOfMeasure = Annotated[
    str, Field(min_length=1, max_length=8, pattern=r"^[A-Z0-9]+$", description="item-master unit, e.g. CS, BX, EA")
]
Quantity = Annotated[Decimal, Field(gt=0, max_digits=14, decimal_places=4, description="more than zero")]
Price = Annotated[Decimal, Field(ge=0, max_digits=14, decimal_places=MONEY_PLACES, description="zero or more")]
Amount = Annotated[Decimal, Field(ge=0, max_digits=16, decimal_places=2, description="zero or more, in cents")]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. USD")]


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
    need_by: date | None = Field(default=None, description="defaults to the order's need_by")
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
    order_date: date | None = Field(default=None, description="defaults to the day the workflow starts")
    need_by: date | None = None
    lines: list[PurchaseOrderLine] = Field(min_length=1, max_length=MAX_LINES)

    @model_validator(mode="after")
    def _check_lines(self) -> PurchaseOrder:
        _unique_lines(self.lines, "purchase order")
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
    invoice_date: date
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
