"""The `data` of the business events about purchase orders, invoices and replenishment, as a
receiver gets it (the decisions behind these models are in domain/event_catalog_types.py).

Each workflow's `_publish` adds its own fields to every event it publishes: a PO's
`supplier_id` (workflows/purchase_order_state.py), an invoice's `po_number` and
`invoice_number` (workflows/invoice.py), a replenishment's `location_id` and `item_id`
(workflows/replenishment.py): the base model of each group carries them.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field

from domain.decisions import DecisionKind, ExceptionAction
from domain.event_catalog_types import DecimalText, EventData
from domain.matching import DiscrepancyKind
from domain.po_models import PoRejectionKind
from domain.purchasing import AckLineStatus
from domain.replenishment_models import ReplenishmentOutcome
from domain.system_records import ApInvoiceStatus

LineNumber = Annotated[str, Field(pattern=r"^[0-9]+$")]

# --- purchase orders (workflows/purchase_order*.py) ---------------------------------------------


class PoData(EventData):
    supplier_id: str = Field(description="the ERP supplier the PO is to (the subject is the PO number)")


class PoReleased(PoData):
    lines: int = Field(ge=1, description="how many lines the PO has")
    ship_to: str = Field(description="the location the goods go to")


class PoAcknowledged(PoData):
    lines: dict[LineNumber, AckLineStatus] = Field(description="line number -> the vendor's answer for it")


class PoClosed(PoData):
    receipts: int = Field(ge=0, description="receipts recorded against the PO")


class PoEscalated(PoData):
    escalated_to: str = Field(description="the team the PO is handed to")


class PoInvoiceOverdue(PoEscalated):
    due_at: datetime = Field(description="when the invoice was due (its SLA after the last receipt)")


class PoInvoiceFailed(PoEscalated):
    reason: str = Field(description="why the invoice's run failed")


class PoRejected(PoData):
    kind: PoRejectionKind
    fields: list[str] = Field(description="the fields the reasons name (never their values)")


class PoCancelled(PoData):
    reason: str
    compensations: list[str] = Field(description="the undo steps run, in order")


class PoExceptionRaised(PoData):
    kind: DecisionKind
    team: str = Field(description="the team that decides")


class PoExceptionResolved(PoData):
    kind: DecisionKind
    action: ExceptionAction
    by: str = Field(description="who resolved it")


# --- invoices (workflows/invoice.py) ---------------------------------------------------------------


class InvoiceData(EventData):
    """The subject is `<supplier id>/<normalised invoice number>`."""

    po_number: str
    invoice_number: str = Field(description="as the supplier wrote it")


class InvoiceDuplicateRefused(InvoiceData):
    original: str = Field(description="the AP invoice it duplicates")
    status: ApInvoiceStatus = Field(description="the original's status in AP")


class InvoiceApproved(InvoiceData):
    amount: DecimalText


class InvoiceExceptionRaised(InvoiceData):
    team: str = Field(description="the team that resolves it")
    kinds: list[DiscrepancyKind] = Field(min_length=1)


class InvoiceExceptionResolved(InvoiceData):
    action: Literal[
        ExceptionAction.ACCEPT_VARIANCE,
        ExceptionAction.REQUEST_CREDIT_MEMO,
        ExceptionAction.SHORT_PAY,
        ExceptionAction.REJECT,
    ]
    by: str = Field(description="who resolved it")
    amount: DecimalText = Field(description="approved for payment, or the credit memo requested (0 when rejected)")


class InvoiceExceptionEscalated(InvoiceData):
    team: str = Field(description="the managers' team it is escalated to")


# --- replenishment (workflows/replenishment.py) -----------------------------------------------


class ReplenishmentData(EventData):
    """The subject is `<location id>/<item id>`."""

    location_id: str
    item_id: str


class SourcingException(ReplenishmentData):
    summary: str = Field(description="what is needed and that no eligible contracted vendor has it")
    team: str = Field(description="the team that decides (purchasing)")


class ReplenishmentOrdered(ReplenishmentData):
    po_number: str = Field(description="the PO the replenishment starts")
    supplier_id: str
    contract_id: str | None = Field(description="null: ordered outside contract, as purchasing decided")
    uom: str
    quantity: DecimalText
    unit_price: DecimalText
    value: DecimalText
    shipping: Literal["standard", "expedited"]
    approval: str = Field(description="why purchasing must approve it, or why not")
    chosen_by: str = Field(description="sourcing, or the person who resolved the sourcing exception")


class ReplenishmentCompleted(ReplenishmentData):
    outcome: ReplenishmentOutcome
    reason: str | None
