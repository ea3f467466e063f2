"""The purchase-order workflow's input, progress, status and result, the messages it takes
(receipts, cancel, invoice and hold notices), and the input/output model of each activity it calls."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import Field

from domain.base import DomainModel
from domain.decisions import DecisionRecord, OpenException
from domain.purchasing import AckLineStatus, PoAcknowledgement, PurchaseOrder, ReceiptLine
from domain.reference import Contract, Item
from domain.shipping import ShipNotice
from domain.supplier import CredentialDocument
from domain.system_records import (
    ErpPoLineChange,
    ErpPurchaseOrder,
    InventoryBalance,
    ReservationRequest,
    VendorNotification,
)
from domain.validation import ValidationIssue


class SupplierStanding(DomainModel):
    supplier_id: str
    exists: bool
    erp_status: str | None = None
    hold_reason: str | None = None
    vendor_status: str | None = None
    credentials: list[CredentialDocument] = Field(default_factory=list)


class ProcurementTerms(DomainModel):
    """Reference data a PO is checked against (contract management and the item master)."""

    contract: Contract | None = None
    items: dict[str, Item] = Field(default_factory=dict)
    locations: list[str] = Field(default_factory=list)


class PoPolicy(DomainModel):
    """Service levels of one PO (defaults from settings; the demo shortens them)."""

    ack_sla: timedelta = timedelta(hours=24)
    ack_cancel_after: timedelta = Field(
        default=timedelta(hours=24), description="after the escalation, how long until the PO is cancelled"
    )
    decision_sla: timedelta = timedelta(hours=24)
    approval_line_amount: Decimal | None = Field(
        default=None, description="a line worth more needs a purchasing approval (None: no threshold)"
    )
    approval_order_amount: Decimal | None = Field(
        default=None, description="an order worth more needs a purchasing approval (None: no threshold)"
    )
    invoice_sla: timedelta | None = Field(
        default=timedelta(days=30),
        description="once every line is received, how long the invoice may take before accounts-payable is asked",
    )
    continue_as_new_after: int = Field(default=5000, ge=50, description="history events per run")


class PoStage(StrEnum):
    RECEIVED = "received"
    VALIDATING = "validating"
    AWAITING_APPROVAL = "awaiting_approval"
    CREATING_IN_ERP = "creating_in_erp"
    RELEASING = "releasing"  # reserving inventory and notifying the vendor
    AWAITING_ACKNOWLEDGEMENT = "awaiting_acknowledgement"
    OPEN = "open"  # acknowledged: receipts and invoices follow
    ON_HOLD = "on_hold"
    IN_TRANSIT = "in_transit"  # shown while shipped quantities (an 856) are not received yet
    CLOSING = "closing"
    COMPENSATING = "compensating"
    COMPLETED = "completed"
    FAILED = "failed"


class PoOutcome(StrEnum):
    CLOSED = "closed"
    CANCELLED = "cancelled"
    REJECTED = "rejected"


class PoRejectionKind(StrEnum):
    VALIDATION = "validation"
    SUPPLIER_NOT_ELIGIBLE = "supplier_not_eligible"
    CONTRACT_REJECTED = "contract_rejected"
    PRICING_REJECTED = "pricing_rejected"
    VENDOR_REJECTED = "vendor_rejected"
    APPROVAL_REJECTED = "approval_rejected"  # above the value thresholds and refused by purchasing


class PoLineProgress(DomainModel):
    line: int
    item_id: str
    uom: str
    ordered: Decimal
    unit_price: Decimal
    cancelled: bool = False
    ack_status: AckLineStatus | None = None
    promised_date: date | None = None
    backordered: Decimal | None = None
    received: Decimal = Decimal(0)
    invoiced: Decimal = Decimal(0)
    reservation_id: str | None = None
    shipped: Decimal = Field(default=Decimal(0), description="what ship notices say left the supplier")

    @property
    def open_to_receive(self) -> Decimal:
        return Decimal(0) if self.cancelled else max(self.ordered - self.received, Decimal(0))

    @property
    def done(self) -> bool:
        return self.cancelled or (self.received >= self.ordered and self.invoiced >= self.ordered)


class PoInvoiceNotice(DomainModel):
    """Sent by an invoice workflow to its PO when the invoice is approved for payment."""

    invoice_workflow_id: str
    invoice_number: str
    outcome: str
    lines: list[tuple[int, Decimal]] = Field(default_factory=list, description="(PO line, quantity in its unit)")
    amount: Decimal = Decimal(0)


class PoInvoiceFailure(DomainModel):
    """Sent by an invoice workflow to its PO when the invoice run failed: the PO goes to
    accounts-payable with the reason instead of waiting silently for an approval that will not come."""

    invoice_workflow_id: str
    invoice_number: str
    reason: str


class SupplierHoldNotice(DomainModel):
    """Sent by the supplier status-sync workflow: the supplier was put on hold or released."""

    on_hold: bool
    reason: str
    event_id: str


class ReceiptRequest(DomainModel):
    """Goods received on one PO line (the `record_receipt` Update)."""

    line: int = Field(ge=1)
    quantity: Decimal = Field(gt=0, max_digits=14, decimal_places=4)
    uom: str | None = Field(default=None, description="defaults to the PO line's unit")
    received_by: str = Field(default="receiving", min_length=1, max_length=120)


class CancelRequest(DomainModel):
    reason: str = Field(min_length=3, max_length=500)
    requested_by: str = Field(default="unknown", min_length=1, max_length=120)


class PoProgress(DomainModel):
    """Everything the PO workflow knows; carried over continue-as-new."""

    stage: PoStage = PoStage.RECEIVED
    order_date: date | None = None
    lines: list[PoLineProgress] = Field(default_factory=list)
    items: dict[str, Item] = Field(default_factory=dict, description="item master entries of the PO's items")
    erp_created: bool = False
    vendor_notified: bool = False
    acknowledgement: PoAcknowledgement | None = None
    escalation_level: int = 0
    ack_due_at: datetime | None = None
    on_hold: bool = False
    hold_reason: str | None = None
    seen_events: list[str] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list, description="e.g. the order takes the ship-to above par")
    receipts: list[str] = Field(default_factory=list)
    receipt_count: int = 0
    received_in_full_at: datetime | None = None
    invoice_overdue: bool = False
    invoice_failures: list[str] = Field(default_factory=list, description="why invoice runs of this PO failed")
    invoices: list[str] = Field(default_factory=list)
    decisions: list[DecisionRecord] = Field(default_factory=list)
    shipments: list[ShipNotice] = Field(default_factory=list, description="advance ship notices (856)")
    runs: int = 1

    @property
    def in_transit(self) -> bool:
        return any(line.shipped > line.received and not line.cancelled for line in self.lines)

    def line(self, number: int) -> PoLineProgress | None:
        return next((line for line in self.lines if line.line == number), None)


class PurchaseOrderInput(DomainModel):
    po: PurchaseOrder
    policy: PoPolicy = Field(default_factory=PoPolicy)
    submitted_by: str = "unknown"
    resume: PoProgress | None = Field(default=None, description="set by continue-as-new")


class PoStatus(DomainModel):
    workflow_id: str
    po_number: str
    supplier_id: str
    stage: PoStage
    outcome: PoOutcome | None = None
    on_hold: bool = False
    hold_reason: str | None = None
    escalation_level: int = 0
    ack_due_at: datetime | None = None
    lines: list[PoLineProgress] = Field(default_factory=list)
    open_exception: OpenException | None = None
    receipts: list[str] = Field(default_factory=list)
    invoices: list[str] = Field(default_factory=list)
    assigned_team: str | None = None
    warnings: list[str] = Field(default_factory=list)
    shipments: list[ShipNotice] = Field(default_factory=list)


class PoResult(DomainModel):
    workflow_id: str
    po_number: str
    supplier_id: str
    outcome: PoOutcome
    rejection_kind: PoRejectionKind | None = None
    reasons: list[ValidationIssue] = Field(default_factory=list)
    cancel_reason: str | None = None
    assigned_team: str | None = None
    lines: list[PoLineProgress] = Field(default_factory=list)
    acknowledgement: PoAcknowledgement | None = None
    receipts: list[str] = Field(default_factory=list)
    invoices: list[str] = Field(default_factory=list)
    decisions: list[DecisionRecord] = Field(default_factory=list)
    compensations: list[str] = Field(default_factory=list)
    escalation_level: int = 0
    warnings: list[str] = Field(default_factory=list)


class SupplierCheckInput(DomainModel):
    supplier_id: str


class TermsInput(DomainModel):
    contract_ref: str | None
    item_ids: list[str]


class InventoryCheckInput(DomainModel):
    location_id: str
    item_ids: list[str]


class InventoryPosition(DomainModel):
    balances: list[InventoryBalance] = Field(default_factory=list)


class CreatePoInput(DomainModel):
    po: PurchaseOrder
    idempotency_key: str


class ReserveInput(DomainModel):
    reservations: list[tuple[int, ReservationRequest]]
    idempotency_prefix: str


class ReserveResult(DomainModel):
    reservation_ids: list[tuple[int, str]]


class ReleaseInput(DomainModel):
    reservation_ids: list[str]
    idempotency_prefix: str


class NotifyVendorInput(DomainModel):
    notification: VendorNotification
    idempotency_key: str


class PoActionInput(DomainModel):
    po_number: str
    reason: str
    idempotency_key: str


class ApplyAckInput(DomainModel):
    po_number: str
    changes: list[tuple[int, ErpPoLineChange]]
    release_reservation_ids: list[str] = Field(default_factory=list)
    idempotency_prefix: str


class RecordReceiptInput(DomainModel):
    po_number: str
    line: ReceiptLine
    received_by: str
    reservation_id: str | None = None
    idempotency_key: str


class Done(DomainModel):
    """An activity's answer when there is nothing to return."""

    ok: bool = True


class ErpPoState(DomainModel):
    po: ErpPurchaseOrder


class HoldPurchaseOrdersInput(DomainModel):
    supplier_id: str
    on_hold: bool
    reason: str
    idempotency_prefix: str


class HoldPurchaseOrdersResult(DomainModel):
    po_numbers: list[str] = Field(default_factory=list)
