"""The records the ERP, inventory, vendor channel and AP systems keep of procure-to-pay
documents (domain/purchasing.py): ERP purchase orders and invoice vouchers, reservations and
stock balances, the vendor notification, AP invoices and disputes."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import Field, computed_field, field_validator

from domain.base import DomainModel, LenientModel
from domain.purchasing import Invoice, PurchaseOrderLine


class ErpPoStatus(StrEnum):
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class ErpPoLine(LenientModel):
    line: int
    item_id: str
    quantity: Decimal
    uom: str
    unit_price: Decimal
    need_by: date | None = None
    status: str = "open"  # open | cancelled
    promised_date: date | None = None
    backordered_quantity: Decimal | None = None


class ErpHold(LenientModel):
    reason: str
    kind: str = "manual"  # supplier_status | manual
    placed_at: datetime | None = None


class ErpPurchaseOrder(LenientModel):
    po_number: str
    supplier_id: str
    contract_ref: str | None = None
    ship_to: str | None = None
    bill_to: str | None = None
    currency: str = "USD"
    order_date: date | None = None
    status: ErpPoStatus = ErpPoStatus.OPEN
    hold: ErpHold | None = None
    lines: list[ErpPoLine] = Field(default_factory=list)
    status_reason: str | None = None

    def line(self, number: int) -> ErpPoLine | None:
        return next((line for line in self.lines if line.line == number), None)


class ErpPoLineChange(DomainModel):
    """A change to one PO line (from a vendor acknowledgement). Unset fields stay as they are."""

    quantity: Decimal | None = None
    unit_price: Decimal | None = None
    promised_date: date | None = None
    backordered_quantity: Decimal | None = None
    status: str | None = Field(default=None, pattern=r"^(open|cancelled)$")


class MatchedLine(LenientModel):
    """Quantity of a PO line (in the line's unit) an approved invoice pays for."""

    po_line: int
    quantity: Decimal


class ErpInvoiceHold(LenientModel):
    code: str
    reason: str


class ErpInvoice(LenientModel):
    """The ERP's invoice voucher: matched to a PO, held while an exception is open."""

    erp_invoice_id: str
    invoice_number: str
    supplier_id: str
    po_number: str | None = None
    status: str = "approved"  # approved | on_hold | cancelled
    holds: list[ErpInvoiceHold] = Field(default_factory=list)
    amount: Decimal = Decimal(0)
    approved_amount: Decimal | None = None
    payment_status: str = "unpaid"
    matched_lines: list[MatchedLine] = Field(default_factory=list, description="set once approved")


class ErpInvoiceDraft(DomainModel):
    invoice: Invoice
    status: str = Field(pattern=r"^(approved|on_hold)$")
    holds: list[ErpInvoiceHold] = Field(default_factory=list)
    approved_amount: Decimal | None = None
    matched_lines: list[MatchedLine] = Field(default_factory=list)


class Reservation(LenientModel):
    reservation_id: str
    location_id: str
    item_id: str
    quantity: Decimal
    uom: str
    reference: str | None = None
    status: str = "active"  # active | released | fulfilled
    fulfilled_quantity: Decimal = Decimal(0)


class ReservationRequest(DomainModel):
    location_id: str
    item_id: str
    quantity: Decimal = Field(gt=0)
    uom: str
    reference: str = Field(description="what the stock is reserved for, e.g. the PO number and line")


class InventoryBalance(LenientModel):
    """A location's stock of an item, in the balance's unit. `reserved` is the open quantity our
    purchase orders reserved for the location, i.e. what is on order (`on_order`, the name
    replenishment reads); `in_transit` has shipped but is not on the shelf yet."""

    location_id: str
    item_id: str
    uom: str
    on_hand: Decimal
    par: Decimal | None = None
    reorder_point: Decimal | None = None
    reserved: Decimal = Decimal(0)
    in_transit: Decimal = Decimal(0)

    @computed_field  # type: ignore[prop-decorator]
    @property
    def on_order(self) -> Decimal:
        return self.reserved

    @property
    def below_reorder_point(self) -> bool:
        """On hand at or below the reorder point; never without a reorder point."""
        return self.reorder_point is not None and self.on_hand <= self.reorder_point


class VendorNotification(DomainModel):
    """What the vendor channel receives for a new PO."""

    po_number: str
    supplier_id: str
    order_date: date
    ship_to: str
    currency: str
    shipping: str = "standard"
    bill_to: str | None = None
    requester: str | None = None
    contract_ref: str | None = None
    need_by: date | None = None
    lines: list[PurchaseOrderLine]


class ApInvoiceStatus(StrEnum):
    CAPTURED = "captured"
    EXCEPTION = "exception"
    APPROVED = "approved"
    CREDIT_MEMO_REQUESTED = "credit_memo_requested"
    REJECTED = "rejected"


class ApInvoice(LenientModel):
    """An invoice in AP automation: captured, then approved for payment (once) or not."""

    ap_invoice_id: str
    invoice_number: str
    normalised_number: str | None = None
    supplier_id: str
    po_number: str | None = None
    invoice_date: date | None = None
    amount: Decimal = Decimal(0)
    status: ApInvoiceStatus = ApInvoiceStatus.CAPTURED
    approved_amount: Decimal | None = None
    payment_status: str = "unpaid"  # unpaid | scheduled | paid
    captured_by: str | None = Field(default=None, description="the workflow run that captured it")
    exception: dict[str, Any] | None = None


class Dispute(LenientModel):
    """One invoice dispute in a supplier's history with AP."""

    dispute_id: str
    supplier_id: str
    invoice_number: str
    kind: str
    status: str  # open | resolved
    amount: Decimal | None = None
    opened_on: date | None = None
    resolution: str | None = None

    @field_validator("amount", mode="before")
    @classmethod
    def _empty_amount(cls, value: object) -> object:
        return None if value == "" else value
