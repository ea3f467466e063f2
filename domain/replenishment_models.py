"""The replenishment workflow's input, the breach it reacts to, what it shows and returns, and the
input/output of its activities (the rules are in domain/replenishment.py).

One workflow per location and item (`replenishment-<location>-<item>`): the inventory system's
`stock.below_reorder_point` webhook, the `replenishment-scan` schedule and the CLI all reach it
by signal-with-start of `breach_reported`, so while one is open every further breach joins it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Final, Literal

from pydantic import Field

from domain.base import DomainModel, LenientModel
from domain.decisions import DecisionRecord, OpenException
from domain.po_models import PoPolicy, PoStage, SupplierStanding
from domain.purchasing import SystemId, UnitOfMeasure
from domain.reference import Contract, Item
from domain.replenishment import Sourcing, StockPosition

BREACH_EVENT_TYPE: Final = "stock.below_reorder_point"
REPLENISHMENT_PREFIX = "replenishment-"
SCAN_WORKFLOW_ID = "replenishment-scan"


def replenishment_workflow_id(location_id: str, item_id: str) -> str:
    return f"{REPLENISHMENT_PREFIX}{location_id}-{item_id}"


class StockBreach(LenientModel):
    """A balance at or below its reorder point: the inventory system's webhook body, or what the
    scan found. `on_hand` is what the sender saw; the workflow reads the balance again."""

    event_id: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    type: Literal["stock.below_reorder_point"] = BREACH_EVENT_TYPE
    location_id: SystemId
    item_id: SystemId
    uom: UnitOfMeasure
    on_hand: Decimal = Field(max_digits=14, decimal_places=4)
    reorder_point: Decimal = Field(max_digits=14, decimal_places=4)
    par: Decimal | None = Field(default=None, max_digits=14, decimal_places=4)
    occurred_at: datetime
    source: str = Field(default="inventory", max_length=60, description="inventory webhook, scan, cli")


class ReplenishmentPolicy(DomainModel):
    """Settings of one replenishment (from SUPPLYBRIDGE_* settings; the demo shortens the SLAs)."""

    approval_limit: Decimal = Field(
        default=Decimal(5_000), gt=0, description="an order worth more waits for a purchasing approval"
    )
    critical_approval_limit: Decimal = Field(
        default=Decimal(25_000), gt=0, description="the same for an item the item master flags critical"
    )
    decision_sla: timedelta = timedelta(hours=4)
    po: PoPolicy = Field(default_factory=PoPolicy, description="the child PO's policy")


class ReplenishmentInput(DomainModel):
    location_id: SystemId
    item_id: SystemId
    policy: ReplenishmentPolicy = Field(default_factory=ReplenishmentPolicy)
    submitted_by: str = "replenishment"


class ReplenishmentStage(StrEnum):
    RECEIVED = "received"
    ASSESSING = "assessing"  # reading the balance, the item master, contracts and suppliers
    AWAITING_SOURCING_DECISION = "awaiting_sourcing_decision"  # no eligible vendor: purchasing decides
    ORDERING = "ordering"  # the child PO is validated, approved, created in the ERP
    AWAITING_ACKNOWLEDGEMENT = "awaiting_acknowledgement"  # sent to the vendor
    AWAITING_DELIVERY = "awaiting_delivery"  # acknowledged, not yet received in full
    COMPLETED = "completed"
    FAILED = "failed"


class ReplenishmentOutcome(StrEnum):
    REPLENISHED = "replenished"  # the order was received in full
    NOT_NEEDED = "not_needed"  # on hand, on order and in transit cover the reorder point
    DISMISSED = "dismissed"  # purchasing dismissed the sourcing exception
    ORDER_FAILED = "order_failed"  # the PO was rejected or cancelled


class PlannedOrder(DomainModel):
    po_number: str
    supplier_id: str
    contract_id: str | None
    uom: str
    quantity: Decimal
    unit_price: Decimal
    value: Decimal
    shipping: Literal["standard", "expedited"] = "standard"
    approval: str = Field(description="why purchasing must approve it, or why not")
    chosen_by: str = Field(default="sourcing", description="sourcing, or the person who resolved the exception")


_STAGE_AFTER = {
    "purchase_order.released": PoStage.AWAITING_ACKNOWLEDGEMENT,
    "purchase_order.acknowledged": PoStage.OPEN,
}


def stage_for_po(notice: PoProgressNotice) -> tuple[ReplenishmentStage, PoStage]:
    """What the replenishment shows, and the PO's stage, once its PO sent `notice` (the PO tells
    of its release and acknowledgement just before it moves to the stage that follows)."""
    po_stage = _STAGE_AFTER.get(notice.event, notice.stage)
    if po_stage is PoStage.AWAITING_ACKNOWLEDGEMENT:
        return ReplenishmentStage.AWAITING_ACKNOWLEDGEMENT, po_stage
    if po_stage in (PoStage.OPEN, PoStage.ON_HOLD, PoStage.CLOSING) or notice.received_in_full:
        return ReplenishmentStage.AWAITING_DELIVERY, po_stage
    return ReplenishmentStage.ORDERING, po_stage


class PoProgressNotice(DomainModel):
    """What a purchase-order workflow started as a child tells its parent as it moves on."""

    po_number: str
    event: str = Field(description="the PO's business event, e.g. purchase_order.released")
    stage: PoStage
    received_in_full: bool = False


class ReplenishmentStatus(DomainModel):
    workflow_id: str
    run_id: str | None = Field(default=None, description="this run (a location and item is replenished by many)")
    location_id: str
    item_id: str
    stage: ReplenishmentStage
    outcome: ReplenishmentOutcome | None = None
    reason: str | None = None
    breaches: int = Field(default=0, description="breaches reported to this run (the first and those that joined)")
    last_breach: StockBreach | None = None
    critical: bool = False
    position: StockPosition | None = None
    quantity_needed: Decimal | None = Field(default=None, description="in the balance's unit")
    sourcing: Sourcing | None = None
    order: PlannedOrder | None = None
    po_stage: PoStage | None = None
    open_exception: OpenException | None = None
    assigned_team: str | None = None
    decisions: list[DecisionRecord] = Field(default_factory=list)


# --- activities --------------------------------------------------------------------------------


class StockInput(DomainModel):
    location_id: str
    item_id: str


class StockAssessment(DomainModel):
    """The balance (on order and in transit counted) and the item, or why there is nothing to do."""

    position: StockPosition | None = None
    item: Item | None = None
    missing: str | None = Field(default=None, description="why the stock cannot be assessed")


class SourcesInput(DomainModel):
    item_id: str
    extra_supplier_ids: list[str] = Field(default_factory=list, description="suppliers named by a person")


class Sources(DomainModel):
    """Every contract that prices the item, and the standing of each of their suppliers."""

    contracts: list[Contract] = Field(default_factory=list)
    standings: dict[str, SupplierStanding] = Field(default_factory=dict)


class ScanInput(DomainModel):
    scan_id: str = Field(description="names the breaches it reports (their event ids)")
    scanned_at: datetime
    policy: ReplenishmentPolicy = Field(default_factory=ReplenishmentPolicy)


class ScanResult(DomainModel):
    balances_read: int = 0
    breaches: list[str] = Field(default_factory=list, description="workflow ids signalled")
    failures: list[str] = Field(default_factory=list)
