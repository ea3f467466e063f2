"""The invoice workflow's input, status and result, and the input/output model of each activity it
calls."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import Field

from domain.base import DomainModel
from domain.decisions import DecisionRecord, ExceptionAction, OpenException
from domain.matching import Discrepancy, MatchResult, MatchTolerance
from domain.purchasing import Invoice, Receipt
from domain.reference import Contract, Item
from domain.system_records import ApInvoice, Dispute, ErpInvoice, ErpPurchaseOrder


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
    capture_id: str | None = Field(
        default=None, description="who this run captures the invoice as in AP (`<workflow id>:<run id>`)"
    )


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
