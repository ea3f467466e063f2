"""The purchase-order and invoice workflows' inputs, states, results and activity models, and
the pure rules they apply: supplier eligibility, contract terms and acknowledgement changes."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator

from domain.base import DomainModel
from domain.matching import CONTRACTING_TEAM, PRICING_TEAM, Discrepancy, MatchResult, MatchTolerance
from domain.purchasing import (
    AckLineStatus,
    ApInvoice,
    Dispute,
    ErpInvoice,
    ErpPoLineChange,
    ErpPurchaseOrder,
    InventoryBalance,
    Invoice,
    PoAcknowledgement,
    PurchaseOrder,
    Receipt,
    ReceiptLine,
    ReservationRequest,
    VendorNotification,
)
from domain.reference import Contract, Item
from domain.supplier import CredentialDocument
from domain.validation import ValidationIssue

PURCHASING_TEAM = "purchasing"

# --- decisions (pricing approvals, contract exceptions, invoice exceptions) ------------------


class DecisionKind(StrEnum):
    PRICING_APPROVAL = "pricing_approval"
    CONTRACT_EXCEPTION = "contract_exception"
    INVOICE_EXCEPTION = "invoice_exception"
    SUPPLIER_REVIEW = "supplier_review"  # a possible duplicate supplier, from onboarding


class ExceptionAction(StrEnum):
    APPROVE = "approve"  # PO: release despite the exception
    REJECT = "reject"  # PO: do not release; invoice: refuse it
    ACCEPT_VARIANCE = "accept_variance"  # invoice: pay as billed
    REQUEST_CREDIT_MEMO = "request_credit_memo"  # invoice: hold, ask the supplier for a credit memo
    SHORT_PAY = "short_pay"  # invoice: pay what was received at the PO price


ACTIONS_FOR: dict[DecisionKind, tuple[ExceptionAction, ...]] = {
    DecisionKind.PRICING_APPROVAL: (ExceptionAction.APPROVE, ExceptionAction.REJECT),
    DecisionKind.CONTRACT_EXCEPTION: (ExceptionAction.APPROVE, ExceptionAction.REJECT),
    DecisionKind.SUPPLIER_REVIEW: (ExceptionAction.APPROVE, ExceptionAction.REJECT),
    DecisionKind.INVOICE_EXCEPTION: (
        ExceptionAction.ACCEPT_VARIANCE,
        ExceptionAction.REQUEST_CREDIT_MEMO,
        ExceptionAction.SHORT_PAY,
        ExceptionAction.REJECT,
    ),
}


class ExceptionResolution(DomainModel):
    """A person's resolution of an open exception, sent as the `resolve_exception` Update."""

    action: ExceptionAction
    reason: str = Field(min_length=3, max_length=500)
    resolved_by: str = Field(default="unknown", min_length=1, max_length=120)

    @field_validator("reason")
    @classmethod
    def _reason_has_words(cls, value: str) -> str:
        if len(value.strip()) < 3:
            raise ValueError("a reason of at least 3 characters is required")
        return value.strip()


class OpenException(DomainModel):
    """A decision a team owes a workflow: what, why, with which evidence, by when."""

    exception_id: str = Field(description="the workflow id: one open exception per PO or invoice")
    kind: DecisionKind
    team: str
    summary: str
    raised_at: datetime
    due_at: datetime
    escalation_level: int = 0
    record: str = Field(description="the PO or invoice number")
    supplier_id: str
    discrepancies: list[Discrepancy] = Field(default_factory=list)
    evidence: dict[str, Any] = Field(default_factory=dict)
    allowed_actions: list[ExceptionAction] = Field(default_factory=list)


class DecisionRecord(DomainModel):
    kind: DecisionKind
    team: str
    resolution: ExceptionResolution
    decided_at: datetime
    escalation_level: int = 0


# --- purchase order: rules -------------------------------------------------------------------


class SupplierStanding(DomainModel):
    supplier_id: str
    exists: bool
    erp_status: str | None = None
    hold_reason: str | None = None
    vendor_status: str | None = None
    credentials: list[CredentialDocument] = Field(default_factory=list)


def supplier_issues(standing: SupplierStanding, on: date) -> list[ValidationIssue]:
    """Why this supplier may not be ordered from on this day (empty when it may)."""
    if not standing.exists:
        return [ValidationIssue(field="supplier_id", reason=f"ERP supplier {standing.supplier_id} does not exist")]
    issues = []
    if standing.erp_status != "active":
        why = f" ({standing.hold_reason})" if standing.hold_reason else ""
        issues.append(
            ValidationIssue(
                field="supplier_id",
                reason=f"supplier {standing.supplier_id} is {standing.erp_status} in the ERP{why}",
            )
        )
    if standing.vendor_status in ("suspended", "credential_expired", "denied"):
        issues.append(
            ValidationIssue(
                field="supplier_id", reason=f"vendor management reports the supplier {standing.vendor_status}"
            )
        )
    for document in standing.credentials:
        if document.expires_on is not None and document.expires_on < on:
            issues.append(
                ValidationIssue(
                    field="supplier_id",
                    reason=f"credential {document.kind} expired on {document.expires_on.isoformat()}",
                )
            )
    return issues


class LineAboveContract(DomainModel):
    line: int
    item_id: str
    uom: str
    quantity: Decimal
    po_price: Decimal
    contract_price: Decimal


class ProcurementTerms(DomainModel):
    """Reference data a PO is checked against (contract management and the item master)."""

    contract: Contract | None = None
    items: dict[str, Item] = Field(default_factory=dict)
    locations: list[str] = Field(default_factory=list)


class PoAssessment(DomainModel):
    rejections: list[ValidationIssue] = Field(default_factory=list)
    contract_issues: list[ValidationIssue] = Field(default_factory=list)
    above_contract: list[LineAboveContract] = Field(default_factory=list)


def contract_price(contract: Contract, item: Item, uom: str, quantity: Decimal) -> Decimal | None:
    """The contract's tier price for this quantity, in `uom`: priced in that unit when the
    contract lists it, else converted from a unit it lists (a CS at 10 BX costs 10 BX prices)."""
    direct = contract.price_for(item.item_id, uom, quantity)
    if direct is not None:
        return direct
    base_quantity = item.to_base(quantity, uom)
    for tier_uom in sorted({t.uom for t in contract.prices if t.item_id == item.item_id and t.uom in item.uoms}):
        per = Decimal(item.uoms[tier_uom])
        price = contract.price_for(item.item_id, tier_uom, base_quantity / per)
        if price is not None:
            return price / per * Decimal(item.uoms[uom])
    return None


def assess_purchase_order(po: PurchaseOrder, terms: ProcurementTerms, order_date: date) -> PoAssessment:
    """Reference checks (items, units, locations), then contract checks, then prices."""
    result = PoAssessment()
    for field, location in (("ship_to", po.ship_to), ("bill_to", po.bill_to)):
        if location not in terms.locations:
            result.rejections.append(ValidationIssue(field=field, reason=f"location {location} is not known"))
    for index, line in enumerate(po.lines):
        item = terms.items.get(line.item_id)
        if item is None:
            result.rejections.append(
                ValidationIssue(field=f"lines.{index}.item_id", reason=f"item {line.item_id} is not in the item master")
            )
        elif line.uom not in item.uoms:
            result.rejections.append(
                ValidationIssue(
                    field=f"lines.{index}.uom",
                    reason=f"{line.uom} is not a unit of {line.item_id} (units: {', '.join(sorted(item.uoms))})",
                )
            )
    if result.rejections or po.contract_ref is None:
        return result

    contract = terms.contract
    if contract is None:
        result.contract_issues.append(
            ValidationIssue(field="contract_ref", reason=f"contract {po.contract_ref} does not exist")
        )
        return result
    if contract.supplier_id not in (None, po.supplier_id):
        result.contract_issues.append(
            ValidationIssue(
                field="contract_ref",
                reason=f"contract {contract.contract_id} belongs to supplier {contract.supplier_id}",
            )
        )
    if not contract.in_force_on(order_date):
        state = "expired" if contract.effective_to < order_date or contract.status == "expired" else contract.status
        result.contract_issues.append(
            ValidationIssue(
                field="contract_ref",
                reason=(
                    f"contract {contract.contract_id} is not in force on {order_date.isoformat()} ({state}; "
                    f"{contract.effective_from.isoformat()} to {contract.effective_to.isoformat()})"
                ),
            )
        )
    if result.contract_issues:
        return result
    for index, line in enumerate(po.lines):
        item = terms.items[line.item_id]
        price = contract_price(contract, item, line.uom, line.quantity)
        if price is None:
            result.contract_issues.append(
                ValidationIssue(
                    field=f"lines.{index}.item_id",
                    reason=f"contract {contract.contract_id} has no price for {line.item_id} in {line.uom}",
                )
            )
        elif line.unit_price > price:
            result.above_contract.append(
                LineAboveContract(
                    line=line.line,
                    item_id=line.item_id,
                    uom=line.uom,
                    quantity=line.quantity,
                    po_price=line.unit_price,
                    contract_price=price,
                )
            )
    return result


def inventory_warnings(po: PurchaseOrder, balances: list[InventoryBalance], items: dict[str, Item]) -> list[str]:
    """What the ship-to stock says about the order (informational: it never blocks a PO):
    lines that would take the location above its par level, and items it does not stock."""
    warnings = []
    by_item = {balance.item_id: balance for balance in balances if balance.location_id == po.ship_to}
    for line in po.lines:
        balance = by_item.get(line.item_id)
        item = items.get(line.item_id)
        if balance is None:
            warnings.append(f"line {line.line}: {po.ship_to} does not stock {line.item_id}")
            continue
        if balance.par is None or item is None or line.uom not in item.uoms or balance.uom not in item.uoms:
            continue
        ordered = item.to_base(line.quantity, line.uom) / Decimal(item.uoms[balance.uom])
        after = balance.on_hand + balance.reserved + ordered
        if after > balance.par:
            warnings.append(
                f"line {line.line}: {po.ship_to} would hold {after.normalize():f} {balance.uom} of {line.item_id} "
                f"(on hand {balance.on_hand.normalize():f}, on order {balance.reserved.normalize():f}, "
                f"par {balance.par.normalize():f})"
            )
    return warnings


def decision_team(kind: DecisionKind) -> str:
    return CONTRACTING_TEAM if kind is DecisionKind.CONTRACT_EXCEPTION else PRICING_TEAM


# --- purchase order: workflow models ---------------------------------------------------------


class PoPolicy(DomainModel):
    """Service levels of one PO (defaults from settings; the demo shortens them)."""

    ack_sla: timedelta = timedelta(hours=24)
    ack_cancel_after: timedelta = Field(
        default=timedelta(hours=24), description="after the escalation, how long until the PO is cancelled"
    )
    decision_sla: timedelta = timedelta(hours=24)
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
    invoices: list[str] = Field(default_factory=list)
    decisions: list[DecisionRecord] = Field(default_factory=list)
    runs: int = 1

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


def acknowledgement_changes(lines: list[PoLineProgress], ack: PoAcknowledgement) -> list[tuple[int, ErpPoLineChange]]:
    """The ERP line changes an acknowledgement asks for (accepted lines change nothing)."""
    changes: list[tuple[int, ErpPoLineChange]] = []
    known = {line.line for line in lines}
    for ack_line in ack.lines:
        if ack_line.line not in known:
            continue
        if ack_line.status is AckLineStatus.REJECTED:
            changes.append((ack_line.line, ErpPoLineChange(status="cancelled")))
        elif ack_line.status is AckLineStatus.QUANTITY_CHANGED and ack_line.quantity is not None:
            changes.append((ack_line.line, ErpPoLineChange(quantity=ack_line.quantity)))
        elif ack_line.status is AckLineStatus.PRICE_CHANGED and ack_line.unit_price is not None:
            changes.append((ack_line.line, ErpPoLineChange(unit_price=ack_line.unit_price)))
        elif ack_line.status is AckLineStatus.BACKORDERED:
            changes.append(
                (
                    ack_line.line,
                    ErpPoLineChange(
                        backordered_quantity=ack_line.backordered_quantity, promised_date=ack_line.promised_date
                    ),
                )
            )
    return changes


# --- purchase order: activity models ---------------------------------------------------------


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


# --- invoices --------------------------------------------------------------------------------


class InvoicePolicy(DomainModel):
    resolution_sla: timedelta = timedelta(hours=48)
    tolerance: MatchTolerance = Field(default_factory=MatchTolerance)


class InvoiceStage(StrEnum):
    RECEIVED = "received"
    MATCHING = "matching"
    APPROVING = "approving"
    AWAITING_RESOLUTION = "awaiting_resolution"
    APPLYING_RESOLUTION = "applying_resolution"
    COMPLETED = "completed"
    FAILED = "failed"


class InvoiceOutcome(StrEnum):
    APPROVED = "approved"  # clean match: approved for payment
    APPROVED_WITH_VARIANCE = "approved_with_variance"
    SHORT_PAID = "short_paid"
    CREDIT_MEMO_REQUESTED = "credit_memo_requested"
    REJECTED = "rejected"
    DUPLICATE_INVOICE = "duplicate_invoice"  # never captured, never paid


class InvoiceInput(DomainModel):
    invoice: Invoice
    policy: InvoicePolicy = Field(default_factory=InvoicePolicy)
    submitted_by: str = "unknown"


class MatchFactsInput(DomainModel):
    invoice: Invoice
    workflow_id: str


class MatchFacts(DomainModel):
    po: ErpPurchaseOrder | None = None
    receipts: list[Receipt] = Field(default_factory=list)
    approved_vouchers: list[ErpInvoice] = Field(default_factory=list)
    items: dict[str, Item] = Field(default_factory=dict)
    duplicate_of: ApInvoice | None = Field(
        default=None,
        description="the supplier's invoice with this normalised number, unless an unfinished earlier run "
        "of this same workflow captured it",
    )


class EvidenceInput(DomainModel):
    supplier_id: str
    contract_ref: str | None


class ExceptionEvidence(DomainModel):
    disputes: list[Dispute] = Field(default_factory=list)
    contract: Contract | None = None


class PostInvoiceInput(DomainModel):
    """Capture in AP, then approve (clean) or hold (exception) in AP and the ERP, in one step."""

    invoice: Invoice
    captured_by: str
    approve: bool
    amount: Decimal
    matched_lines: list[tuple[int, Decimal]] = Field(default_factory=list)
    holds: list[tuple[str, str]] = Field(default_factory=list, description="(code, reason) when not approved")
    team: str | None = None
    summary: str = ""
    approved_by: str = "supplybridge"
    idempotency_prefix: str


class PostedInvoice(DomainModel):
    ap: ApInvoice
    erp: ErpInvoice


class ApplyResolutionInput(DomainModel):
    action: ExceptionAction
    reason: str
    resolved_by: str
    ap_invoice_id: str
    erp_invoice_id: str
    amount: Decimal
    matched_lines: list[tuple[int, Decimal]] = Field(default_factory=list)
    dispute: Dispute
    idempotency_prefix: str


class RecordDisputeInput(DomainModel):
    dispute: Dispute
    idempotency_key: str


class InvoiceStatus(DomainModel):
    workflow_id: str
    invoice_number: str
    supplier_id: str
    po_number: str
    stage: InvoiceStage
    outcome: InvoiceOutcome | None = None
    open_exception: OpenException | None = None
    assigned_team: str | None = None
    escalation_level: int = 0


class InvoiceResult(DomainModel):
    workflow_id: str
    invoice_number: str
    supplier_id: str
    po_number: str
    outcome: InvoiceOutcome
    match: MatchResult | None = None
    discrepancies: list[Discrepancy] = Field(default_factory=list)
    assigned_team: str | None = None
    ap_invoice_id: str | None = None
    erp_invoice_id: str | None = None
    approved_amount: Decimal | None = None
    duplicate_of: str | None = None
    resolution: DecisionRecord | None = None
    escalation_level: int = 0
    evidence: dict[str, Any] = Field(default_factory=dict)
