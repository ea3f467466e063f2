"""Supplier status sync: vendor status events put the ERP supplier on hold and release it."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from temporalio.client import WorkflowHandle

from domain.events import CrossReference, VendorStatusEvent
from domain.status_sync import StatusSyncInput, StatusSyncResult, StatusSyncState, status_sync_workflow_id
from domain.supplier import VendorStatus
from starter.operations.processes import signal_name
from tests.support.harness import Harness
from workflows.status_sync import SupplierStatusSyncWorkflow


def event(
    status: VendorStatus, vendor_id: str = "VM-100002", erp_id: str | None = None, **kw: object
) -> VendorStatusEvent:
    return VendorStatusEvent(
        event_id=kw.pop("event_id", f"evt-{uuid.uuid4().hex}"),  # type: ignore[arg-type]
        vendor_id=vendor_id,
        erp_supplier_id=erp_id,
        status=status,
        reason="annual review",
        occurred_at=datetime.now(UTC),
    )


async def signal_with_start(h: Harness, evt: VendorStatusEvent, suffix: str) -> WorkflowHandle:
    return await h.client.start_workflow(
        SupplierStatusSyncWorkflow.run,
        StatusSyncInput(vendor_id=evt.vendor_id),
        id=status_sync_workflow_id(evt.vendor_id) + suffix,
        task_queue=h.task_queue,
        start_signal=signal_name(SupplierStatusSyncWorkflow.status_changed),
        start_signal_args=[evt],
        result_type=StatusSyncResult,
    )


async def until_applied(handle: WorkflowHandle, count: int) -> StatusSyncState:
    for _ in range(200):
        state: StatusSyncState = await handle.query(SupplierStatusSyncWorkflow.status)
        if state.applied_count >= count:
            return state
    raise AssertionError(f"only {state.applied_count} applied")


async def test_suspension_holds_and_reinstatement_releases(harness: Harness) -> None:
    suffix = uuid.uuid4().hex[:6]
    handle = await signal_with_start(harness, event(VendorStatus.SUSPENDED, erp_id="SUP-0002"), suffix)
    state = await until_applied(handle, 1)
    assert state.erp_status == "on_hold"
    assert harness.systems.erp.suppliers["SUP-0002"].hold_reason == "vendor management: suspended (annual review)"

    await signal_with_start(harness, event(VendorStatus.REINSTATED, erp_id="SUP-0002"), suffix)
    state = await until_applied(handle, 2)
    assert state.erp_status == "active"
    assert harness.systems.erp.suppliers["SUP-0002"].status.value == "active"
    assert "supplier.hold_released" in harness.systems.store.event_types()


async def test_vendor_is_resolved_through_the_cross_reference(harness: Harness) -> None:
    harness.systems.store.record_cross_reference(
        CrossReference(
            entity="supplier",
            source_system="vendor_management",
            source_id="VM-200417",
            target_system="erp",
            target_id="SUP-0001",
        )
    )
    handle = await signal_with_start(harness, event(VendorStatus.CREDENTIAL_EXPIRED, vendor_id="VM-200417"), "")
    state = await until_applied(handle, 1)
    assert state.erp_supplier_id == "SUP-0001" and state.erp_status == "on_hold"


async def test_repeated_event_is_applied_once_and_unknown_vendor_is_noted(harness: Harness) -> None:
    evt = event(VendorStatus.SUSPENDED, vendor_id="VM-999999", event_id="evt-same")
    handle = await signal_with_start(harness, evt, "")
    await until_applied(handle, 1)
    await handle.signal(SupplierStatusSyncWorkflow.status_changed, evt)
    await handle.signal(
        SupplierStatusSyncWorkflow.status_changed, event(VendorStatus.REINSTATED, vendor_id="VM-999999")
    )
    state = await until_applied(handle, 2)
    assert state.applied_count == 2
    assert state.last_change is not None and state.last_change.note is not None
    assert not any(name == "place_hold" for name, _ in harness.systems.erp.calls)


async def test_closes_after_a_quiet_period(harness: Harness) -> None:
    handle = await signal_with_start(harness, event(VendorStatus.SUSPENDED, erp_id="SUP-0002"), "-quiet")
    result: StatusSyncResult = await handle.result()  # time skipping jumps the quiet period
    assert result.applied_count == 1


async def test_a_suspension_holds_the_suppliers_open_pos_and_reinstatement_releases_them(harness: Harness) -> None:
    from tests.workflows.po_support import open_po, purchase_order, until, with_procurement_seed

    with_procurement_seed(harness.systems)
    po_handle = await open_po(harness, purchase_order())
    suspended = event(VendorStatus.SUSPENDED, erp_id="SUP-0002")
    sync = await signal_with_start(harness, suspended, "-po")
    status = await until(po_handle, lambda s: s.on_hold)
    assert status.hold_reason and "suspended" in status.hold_reason
    erp_po = harness.systems.procurement.pos["PO-2026-000451"]
    assert erp_po.hold is not None and erp_po.hold.kind == "supplier_status"

    await sync.signal(SupplierStatusSyncWorkflow.status_changed, event(VendorStatus.REINSTATED, erp_id="SUP-0002"))
    await until(po_handle, lambda s: not s.on_hold)
    assert harness.systems.procurement.pos["PO-2026-000451"].hold is None
    state: StatusSyncState = await sync.query(SupplierStatusSyncWorkflow.status)
    assert state.last_change is not None and state.last_change.purchase_orders == ["PO-2026-000451"]
