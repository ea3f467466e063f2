"""Decisions people owe a workflow, and every team and routing rule.

One mechanism for every human decision: a workflow opens an `OpenException` (what, why, with
which evidence, by when) for one team, a person answers with an `ExceptionResolution` through the
workflow's `resolve_exception` Update, and an unanswered decision escalates once to the team's
managers when its SLA passes. The kinds: PO pricing approvals and contract exceptions, invoice
exceptions, and onboarding's possible-duplicate supplier reviews.

Teams are plain strings (they are also the `Team` search attribute and the task inbox's filter);
`team=None` always means "no team owns the run's next step".
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any

from pydantic import Field, field_validator, model_validator

from domain.base import DomainModel
from domain.matching import Discrepancy, DiscrepancyKind

PRICING_TEAM = "pricing"
RECEIVING_TEAM = "receiving"
AP_TEAM = "accounts-payable"
CONTRACTING_TEAM = "contracting"
VENDOR_MASTER_TEAM = "vendor-master-data"
COMPLIANCE_TEAM = "compliance"
PURCHASING_TEAM = "purchasing"
# every team a run can wait on (each escalates to its `manager_team`)
TEAMS = (
    PURCHASING_TEAM,
    PRICING_TEAM,
    CONTRACTING_TEAM,
    RECEIVING_TEAM,
    AP_TEAM,
    VENDOR_MASTER_TEAM,
    COMPLIANCE_TEAM,
)


class DecisionKind(StrEnum):
    PRICING_APPROVAL = "pricing_approval"
    CONTRACT_EXCEPTION = "contract_exception"
    INVOICE_EXCEPTION = "invoice_exception"
    SUPPLIER_REVIEW = "supplier_review"  # a possible duplicate supplier, from onboarding
    PURCHASE_APPROVAL = "purchase_approval"  # a PO above the value thresholds, for purchasing
    MASTER_DATA_CONFLICT = "master_data_conflict"  # a difference survivorship must not settle alone
    COMPLIANCE_REVIEW = "compliance_review"  # a supplier the rescreen found excluded, now on hold
    CREDENTIAL_RENEWAL = "credential_renewal"  # a credential about to expire
    SOURCING_EXCEPTION = "sourcing_exception"  # stock to replenish and no eligible contracted vendor
    CATALOG_PRICE_DISCREPANCY = "catalog_price_discrepancy"  # a supplier's 832 price differs from its contract
    SHIP_NOTICE_EXCEPTION = "ship_notice_exception"  # an 856 line not on the PO, or more shipped than ordered
    FUNCTIONAL_ACK_OVERDUE = "functional_ack_overdue"  # an 850 we sent that no 997/999 answered in time


class ExceptionAction(StrEnum):
    APPROVE = "approve"  # PO: release despite the exception
    REJECT = "reject"  # PO: do not release; invoice: refuse it
    ACCEPT_VARIANCE = "accept_variance"  # invoice: pay as billed
    REQUEST_CREDIT_MEMO = "request_credit_memo"  # invoice: hold, ask the supplier for a credit memo
    SHORT_PAY = "short_pay"  # invoice: pay what was received at the PO price
    ORDER_FROM = "order_from"  # sourcing exception: order from the supplier and price the resolution names
    DISMISS = "dismiss"  # sourcing exception: order nothing


ACTIONS_FOR: dict[DecisionKind, tuple[ExceptionAction, ...]] = {
    DecisionKind.PRICING_APPROVAL: (ExceptionAction.APPROVE, ExceptionAction.REJECT),
    DecisionKind.CONTRACT_EXCEPTION: (ExceptionAction.APPROVE, ExceptionAction.REJECT),
    DecisionKind.SUPPLIER_REVIEW: (ExceptionAction.APPROVE, ExceptionAction.REJECT),
    DecisionKind.PURCHASE_APPROVAL: (ExceptionAction.APPROVE, ExceptionAction.REJECT),
    # approve: apply the surviving value (a sensitive one: the steward corrected it at the source);
    # reject: leave the systems as they are
    DecisionKind.MASTER_DATA_CONFLICT: (ExceptionAction.APPROVE, ExceptionAction.REJECT),
    # approve: the exclusion is confirmed, the supplier stays on hold; reject: a false match, reinstated
    DecisionKind.COMPLIANCE_REVIEW: (ExceptionAction.APPROVE, ExceptionAction.REJECT),
    # approve: the renewed document is on file; reject: it will not be renewed (it expires)
    DecisionKind.CREDENTIAL_RENEWAL: (ExceptionAction.APPROVE, ExceptionAction.REJECT),
    DecisionKind.SOURCING_EXCEPTION: (ExceptionAction.ORDER_FROM, ExceptionAction.DISMISS),
    # approve: contracting will take it up with the supplier (the contract is never changed here); reject: ignore it
    DecisionKind.CATALOG_PRICE_DISCREPANCY: (ExceptionAction.APPROVE, ExceptionAction.REJECT),
    # approve: receiving will take what arrives as shipped (and sort it out with the supplier); reject: refuse it
    DecisionKind.SHIP_NOTICE_EXCEPTION: (ExceptionAction.APPROVE, ExceptionAction.REJECT),
    # approve: purchasing confirmed the partner has the order (by phone, portal); reject: it will be sent again
    DecisionKind.FUNCTIONAL_ACK_OVERDUE: (ExceptionAction.APPROVE, ExceptionAction.REJECT),
    DecisionKind.INVOICE_EXCEPTION: (
        ExceptionAction.ACCEPT_VARIANCE,
        ExceptionAction.REQUEST_CREDIT_MEMO,
        ExceptionAction.SHORT_PAY,
        ExceptionAction.REJECT,
    ),
}


class OrderFrom(DomainModel):
    """A sourcing exception's resolution: the supplier and price to order from (outside contract
    when `contract_ref` is None)."""

    supplier_id: str = Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
    unit_price: Decimal = Field(gt=0, max_digits=11, decimal_places=4)
    uom: str | None = Field(default=None, min_length=1, max_length=8, pattern=r"^[A-Z0-9]+$",
                            description="defaults to the balance's unit")  # fmt: skip
    contract_ref: str | None = Field(default=None, min_length=1, max_length=40,
                                     pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")  # fmt: skip


class ExceptionResolution(DomainModel):
    """A person's resolution of an open exception, sent as the `resolve_exception` Update."""

    action: ExceptionAction
    reason: str = Field(
        min_length=3,
        max_length=500,
        pattern=r"^\s*\S[\s\S]*\S[\s\S]*\S\s*$",
        description="why: at least 3 characters besides spaces",
    )
    resolved_by: str = Field(default="unknown", min_length=1, max_length=120)
    order_from: OrderFrom | None = Field(default=None, description="with order_from: the supplier and price")

    @model_validator(mode="after")
    def _order_from_with_its_action(self) -> ExceptionResolution:
        if self.action is ExceptionAction.ORDER_FROM and self.order_from is None:
            raise ValueError("order_from: name the supplier and unit price to order from")
        if self.action is not ExceptionAction.ORDER_FROM and self.order_from is not None:
            raise ValueError(f"order_from: only with the action order_from, not {self.action.value}")
        return self

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


def decision_team(kind: DecisionKind) -> str:
    """The team that decides a PO's exception of this kind."""
    if kind is DecisionKind.CONTRACT_EXCEPTION:
        return CONTRACTING_TEAM
    if kind is DecisionKind.PURCHASE_APPROVAL:
        return PURCHASING_TEAM
    return PRICING_TEAM


def manager_team(team: str) -> str:
    """Where a decision escalates when its SLA passes."""
    return f"{team}-managers"


VENDOR_MASTER_ESCALATION_TEAM = manager_team(VENDOR_MASTER_TEAM)

# One exception per invoice goes to one team: the first kind in this order that was found.
INVOICE_ROUTING: tuple[tuple[DiscrepancyKind, str], ...] = (
    (DiscrepancyKind.DUPLICATE_INVOICE, AP_TEAM),
    (DiscrepancyKind.UNKNOWN_PO_LINE, AP_TEAM),
    (DiscrepancyKind.UOM_MISMATCH, AP_TEAM),
    (DiscrepancyKind.PRICE_VARIANCE, PRICING_TEAM),
    (DiscrepancyKind.NO_RECEIPT, RECEIVING_TEAM),
    (DiscrepancyKind.QUANTITY_VARIANCE, RECEIVING_TEAM),
    (DiscrepancyKind.TOTAL_MISMATCH, AP_TEAM),
)


def team_for(kinds: Sequence[DiscrepancyKind]) -> str:
    """The team an invoice exception with these discrepancies goes to."""
    for kind, team in INVOICE_ROUTING:
        if kind in kinds:
            return team
    return AP_TEAM
