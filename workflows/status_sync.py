"""Supplier status sync: one long-lived workflow per vendor (`supplier-status-<vendor id>`),
fed by signal-with-start from the vendor system's webhook. Each status change is applied to the
ERP in arrival order (suspended / credential expired -> hold; reinstated / active -> release);
a repeated event id is applied once. The workflow closes after a quiet period and continues as
new when its history grows, carrying events not yet applied."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.procurement import ProcurementActivities
    from activities.status_sync import StatusSyncActivities
    from domain.events import VendorStatusEvent
    from domain.po_models import HoldPurchaseOrdersInput, SupplierHoldNotice
    from domain.purchasing import purchase_order_workflow_id
    from domain.status_sync import (
        AppliedStatusChange,
        ErpAction,
        ErpHoldInput,
        ResolveErpSupplierInput,
        StatusSyncInput,
        StatusSyncResult,
        StatusSyncState,
        erp_action_for,
        hold_reason,
    )
    from workflows import search_attributes as sa
    from workflows.kit.calls import call
    from workflows.kit.events import EventPublisher
    from workflows.purchase_order import PurchaseOrderWorkflow

QUIET_PERIOD = timedelta(minutes=10)
MAX_EVENTS_PER_RUN = 200
SEEN_IDS_KEPT = 500


@workflow.defn(name="SupplierStatusSync")
class SupplierStatusSyncWorkflow:
    def __init__(self) -> None:
        self._pending: list[VendorStatusEvent] = []
        self._seen: list[str] = []
        self._state = StatusSyncState(vendor_id="")
        self._events = EventPublisher(local=False)

    @workflow.run
    async def run(self, params: StatusSyncInput) -> StatusSyncResult:
        self._state = StatusSyncState(vendor_id=params.vendor_id, applied_count=params.applied_count)
        self._seen = list(params.seen_event_ids)
        self._pending = list(params.pending) + self._pending
        applied_this_run = 0
        while True:
            try:
                await workflow.wait_condition(lambda: bool(self._pending), timeout=QUIET_PERIOD)
            except TimeoutError:
                if not self._pending:
                    return StatusSyncResult(
                        vendor_id=params.vendor_id,
                        applied_count=self._state.applied_count,
                        last_change=self._state.last_change,
                    )
            while self._pending:
                event = self._pending.pop(0)
                if event.event_id in self._seen:
                    continue
                await self._apply(event)
                self._seen = [*self._seen, event.event_id][-SEEN_IDS_KEPT:]
                applied_this_run += 1
            if applied_this_run >= MAX_EVENTS_PER_RUN or workflow.info().is_continue_as_new_suggested():
                self._continue_as_new(params.vendor_id)

    def _continue_as_new(self, vendor_id: str) -> None:
        workflow.continue_as_new(
            StatusSyncInput(
                vendor_id=vendor_id,
                pending=self._pending,
                seen_event_ids=self._seen,
                applied_count=self._state.applied_count,
            )
        )

    async def _apply(self, event: VendorStatusEvent) -> None:
        resolved = await call(
            StatusSyncActivities.resolve_erp_supplier,
            ResolveErpSupplierInput(vendor_id=event.vendor_id, erp_supplier_id_hint=event.erp_supplier_id),
        )
        action = erp_action_for(event.status)
        change = AppliedStatusChange(
            event_id=event.event_id, status=event.status, action=None, erp_supplier_id=None, erp_status=None
        )
        if resolved.erp_supplier_id is None:
            change.note = "no ERP supplier is cross-referenced to this vendor; nothing to hold"
        else:
            state = await call(
                StatusSyncActivities.apply_erp_hold,
                ErpHoldInput(
                    erp_supplier_id=resolved.erp_supplier_id,
                    action=action,
                    reason=hold_reason(event),
                    idempotency_key=f"{workflow.info().workflow_id}:{event.event_id}:{action.value}",
                ),
                start_to_close=timedelta(seconds=15),
            )
            change = AppliedStatusChange(
                event_id=event.event_id,
                status=event.status,
                action=action,
                erp_supplier_id=state.erp_supplier_id,
                erp_status=state.status,
            )
            self._state.erp_supplier_id = state.erp_supplier_id
            self._state.erp_status = state.status
            if workflow.patched("hold-open-purchase-orders"):  # runs recorded before this step replay as they were
                change.purchase_orders = await self._hold_purchase_orders(state.erp_supplier_id, action, event)
        workflow.upsert_search_attributes([sa.STAGE.value_set(f"erp_{self._state.erp_status or 'unlinked'}")])
        event_type = "supplier.hold_placed" if action is ErpAction.HOLD else "supplier.hold_released"
        await self._events.publish(
            event.vendor_id,
            event_type if change.action else "supplier.status_change_unmatched",
            change.model_dump(mode="json"),
        )
        self._state.applied_count += 1  # counted once the change is applied and published
        self._state.last_change = change

    async def _hold_purchase_orders(
        self, erp_supplier_id: str, action: ErpAction, event: VendorStatusEvent
    ) -> list[str]:
        """Hold (or release) the supplier's open ERP POs, then tell each PO workflow."""
        on_hold = action is ErpAction.HOLD
        held = await call(
            ProcurementActivities.hold_supplier_purchase_orders,
            HoldPurchaseOrdersInput(
                supplier_id=erp_supplier_id,
                on_hold=on_hold,
                reason=hold_reason(event),
                idempotency_prefix=f"{workflow.info().workflow_id}:{event.event_id}:po-{action.value}",
            ),
            start_to_close=timedelta(seconds=60),
        )
        notice = SupplierHoldNotice(on_hold=on_hold, reason=hold_reason(event), event_id=event.event_id)
        for po_number in held.po_numbers:
            handle = workflow.get_external_workflow_handle(purchase_order_workflow_id(po_number))
            try:
                await handle.signal(PurchaseOrderWorkflow.supplier_hold_changed, notice)
            except Exception as error:  # a PO not run by a workflow (entered in the ERP directly)
                workflow.logger.info("PO %s has no running workflow to tell: %s", po_number, error)
        return held.po_numbers

    @workflow.signal(name="status_changed")
    def status_changed(self, event: VendorStatusEvent) -> None:
        self._pending.append(event)

    @workflow.query(name="status")
    def status(self) -> StatusSyncState:
        return self._state.model_copy(update={"pending": len(self._pending)})
