"""Supplier status sync (event-driven exceptions): a vendor-management status change puts the
ERP supplier on hold or releases it. Models for the workflow and its activities."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from domain.base import DomainModel
from domain.events import VendorStatusEvent
from domain.supplier import BLOCKS_PURCHASING, VendorStatus

RELEASE_STATUSES = {VendorStatus.REINSTATED, VendorStatus.ACTIVE}


def status_sync_workflow_id(vendor_id: str) -> str:
    return f"supplier-status-{vendor_id}"


class ErpAction(StrEnum):
    HOLD = "hold"
    RELEASE = "release"


def erp_action_for(status: VendorStatus) -> ErpAction:
    return ErpAction.HOLD if status in BLOCKS_PURCHASING else ErpAction.RELEASE


def hold_reason(event: VendorStatusEvent) -> str:
    label = event.status.value.replace("_", " ")
    return f"vendor management: {label}" + (f" ({event.reason})" if event.reason else "")


class StatusSyncInput(DomainModel):
    """Carried across continue-as-new: events not yet applied and the ids already seen."""

    vendor_id: str
    pending: list[VendorStatusEvent] = Field(default_factory=list)
    seen_event_ids: list[str] = Field(default_factory=list)
    applied_count: int = 0


class AppliedStatusChange(DomainModel):
    event_id: str
    status: VendorStatus
    action: ErpAction | None
    erp_supplier_id: str | None
    erp_status: str | None
    note: str | None = None
    purchase_orders: list[str] = Field(default_factory=list, description="open POs held or released with it")


class StatusSyncState(DomainModel):
    vendor_id: str
    erp_supplier_id: str | None = None
    erp_status: str | None = None
    applied_count: int = 0
    last_change: AppliedStatusChange | None = None
    pending: int = 0


class StatusSyncResult(DomainModel):
    vendor_id: str
    applied_count: int
    last_change: AppliedStatusChange | None = None


class ResolveErpSupplierInput(DomainModel):
    vendor_id: str
    erp_supplier_id_hint: str | None = None


class ResolveErpSupplierResult(DomainModel):
    erp_supplier_id: str | None


class ErpHoldInput(DomainModel):
    erp_supplier_id: str
    action: ErpAction
    reason: str
    idempotency_key: str
