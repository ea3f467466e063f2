"""Recorded workflow histories for the replay tests.

`python -m tests.workflows.histories` runs each scenario over the fakes and writes its history
to tests/workflows/histories/<name>.json. Re-record only on purpose: a history recorded by the
previous code that no longer replays means the change breaks running workflows (it needs
`workflow.patched`), not that the file is stale.
"""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path

from temporalio.client import Client, WorkflowHandle
from temporalio.testing import WorkflowEnvironment

from domain.decisions import ExceptionAction, ExceptionResolution
from domain.events import VendorStatusEvent
from domain.onboarding import OnboardSupplierInput
from domain.po_models import PoInvoiceNotice
from domain.purchasing import AckLineStatus, ReceiptLine
from domain.status_sync import StatusSyncInput
from domain.supplier import VendorStatus
from starter.operations.processes import signal_name
from tests.examples import supplier_request
from tests.support.harness import Systems, running_harness
from workflows.onboarding import SupplierOnboardingWorkflow
from workflows.purchase_order import PurchaseOrderWorkflow
from workflows.status_sync import SupplierStatusSyncWorkflow

HISTORY_DIR = Path(__file__).parent / "histories"
Scenario = Callable[[Client, str, WorkflowEnvironment], Awaitable[WorkflowHandle]]


async def _onboard(client: Client, queue: str, name: str) -> WorkflowHandle:
    return await client.start_workflow(
        SupplierOnboardingWorkflow.run,
        OnboardSupplierInput(request=supplier_request(name), review_sla=timedelta(hours=2)),
        id=f"replay-{name}-{uuid.uuid4().hex[:6]}",
        task_queue=queue,
    )


async def new_supplier(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    handle = await _onboard(client, queue, "new-supplier")
    await handle.result()
    return handle


async def duplicate_escalated_then_approved(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    handle = await _onboard(client, queue, "possible-duplicate")
    await env.sleep(timedelta(hours=3))
    await handle.execute_update(
        SupplierOnboardingWorkflow.resolve_exception,
        ExceptionResolution(action=ExceptionAction.APPROVE, reason="recorded"),
    )
    await handle.result()
    return handle


async def bad_routing_number(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    handle = await _onboard(client, queue, "bad-routing-number")
    await handle.result()
    return handle


async def status_sync(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    def event(status: VendorStatus) -> VendorStatusEvent:
        return VendorStatusEvent(
            event_id=f"evt-{status.value}",
            vendor_id="VM-100002",
            erp_supplier_id="SUP-0002",
            status=status,
            occurred_at=datetime(2026, 11, 23, tzinfo=UTC),
        )

    handle = await client.start_workflow(
        SupplierStatusSyncWorkflow.run,
        StatusSyncInput(vendor_id="VM-100002"),
        id=f"replay-status-{uuid.uuid4().hex[:6]}",
        task_queue=queue,
        start_signal=signal_name(SupplierStatusSyncWorkflow.status_changed),
        start_signal_args=[event(VendorStatus.SUSPENDED)],
    )
    await handle.signal(SupplierStatusSyncWorkflow.status_changed, event(VendorStatus.REINSTATED))
    await handle.result()
    return handle


async def po_lifecycle(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    from tests.workflows import po_support as po

    handle = await po.start_po_on(client, queue, po.purchase_order())
    await po.until(handle, lambda s: s.stage == "awaiting_acknowledgement")
    await handle.signal(
        PurchaseOrderWorkflow.acknowledgement_received,
        po.ack("PO-2026-000451", po.line(1, AckLineStatus.BACKORDERED, backordered_quantity=Decimal(5))),
    )
    await po.receive(handle, 1, "20")
    await po.receive(handle, 2, "10")
    await handle.signal(
        PurchaseOrderWorkflow.invoice_recorded,
        PoInvoiceNotice(invoice_workflow_id="inv", invoice_number="I", outcome="approved",
                        lines=[(1, Decimal(20)), (2, Decimal(10))]),
    )  # fmt: skip
    await handle.result()
    return handle


async def po_pricing_then_no_ack(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    from tests.workflows import po_support as po

    handle = await po.start_po_on(client, queue, po.purchase_order("po-off-contract-price"), po.SHORT)
    await po.until(handle, lambda s: s.open_exception is not None)
    await env.sleep(timedelta(hours=9))
    await handle.execute_update(
        "resolve_exception", ExceptionResolution(action=ExceptionAction.APPROVE, reason="recorded"), result_type=dict
    )
    await handle.result()  # no acknowledgement: escalated, then cancelled and compensated
    return handle


async def invoice_short_pay(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    from tests.workflows import po_support as po

    handle = await po.start_invoice_on(client, queue, po.invoice("inv-over-receipt"))
    await po.until(handle, lambda s: s.open_exception is not None, invoice_run=True)
    await handle.execute_update(
        "resolve_exception", ExceptionResolution(action=ExceptionAction.SHORT_PAY, reason="recorded"), result_type=dict
    )
    await handle.result()
    return handle


async def invoice_clean(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    from tests.workflows import po_support as po

    handle = await po.start_invoice_on(client, queue, po.invoice("inv-clean"))
    await handle.result()
    return handle


async def master_data_sync(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    from domain.master_data.policy import Entity
    from domain.master_data.sync import MasterDataSyncInput
    from workflows.master_data_sync import MasterDataSyncWorkflow

    handle = await client.start_workflow(MasterDataSyncWorkflow.run, MasterDataSyncInput(entity=Entity.SUPPLIERS),
                                         id=f"replay-master-data-{uuid.uuid4().hex[:6]}", task_queue=queue)  # fmt: skip
    await handle.result()
    return handle


async def compliance_rescreen(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    from domain.compliance import ComplianceInput
    from workflows.compliance import ComplianceRescreenWorkflow

    handle = await client.start_workflow(ComplianceRescreenWorkflow.run, ComplianceInput(),
                                         id=f"replay-rescreen-{uuid.uuid4().hex[:6]}", task_queue=queue)  # fmt: skip
    await handle.result()
    return handle


async def _replenished(client: Client, queue: str) -> tuple[WorkflowHandle, WorkflowHandle]:
    """Gloves at central supply below their reorder point: ordered as a child PO, acknowledged,
    received in full; returns the replenishment's handle and its PO's."""
    from adapters.replenishment_events_temporal import deliver_stock_breach
    from domain.po_models import ReceiptRequest
    from domain.purchasing import PoAcknowledgement, purchase_order_workflow_id
    from domain.replenishment_models import ReplenishmentPolicy, StockBreach
    from workflows.replenishment import ReplenishmentWorkflow

    day = datetime(2026, 11, 24, tzinfo=UTC)
    breach = StockBreach(event_id="evt-replay", location_id="LOC-CS-01", item_id="ITM-1001", uom="CS",
                         on_hand=Decimal(9), reorder_point=Decimal(12), occurred_at=day)  # fmt: skip
    workflow_id = await deliver_stock_breach(client, queue, breach, ReplenishmentPolicy())
    handle = client.get_workflow_handle_for(ReplenishmentWorkflow.run, workflow_id)
    for _ in range(200):
        status = await handle.query(ReplenishmentWorkflow.status)
        if status.po_stage is not None and status.po_stage.value == "awaiting_acknowledgement":
            break
        await asyncio.sleep(0.05)
    assert status.order is not None
    po = client.get_workflow_handle_for(PurchaseOrderWorkflow.run, purchase_order_workflow_id(status.order.po_number))
    ack = PoAcknowledgement(event_id="ack-replay", po_number=status.order.po_number, acknowledged_at=day, lines=[])
    await po.signal(PurchaseOrderWorkflow.acknowledgement_received, ack)
    for _ in range(200):
        if (await po.query(PurchaseOrderWorkflow.status)).stage.value == "open":
            break
        await asyncio.sleep(0.05)
    await po.execute_update(PurchaseOrderWorkflow.record_receipt, ReceiptRequest(line=1, quantity=Decimal(31)))
    await handle.result()
    return handle, po


async def replenishment_received(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    return (await _replenished(client, queue))[0]


async def replenishment_child_po(client: Client, queue: str, env: WorkflowEnvironment) -> WorkflowHandle:
    return (await _replenished(client, queue))[1]


def _replenishment_seed(systems: Systems) -> None:
    from domain.system_records import InventoryBalance
    from tests.workflows.po_support import with_procurement_seed

    with_procurement_seed(systems)
    gloves = InventoryBalance(location_id="LOC-CS-01", item_id="ITM-1001", uom="CS", on_hand=Decimal(9),
                              par=Decimal(40), reorder_point=Decimal(12))  # fmt: skip
    systems.inventory.set_balance(gloves)


def _master_data_seed(systems: Systems) -> None:
    """A legal name changed in the ERP, a bank account that differs, a row missing in analytics."""
    from domain.master_data.policy import Entity, MasterSystem

    vm, erp, analytics = (systems.master_data[s] for s in (MasterSystem.VENDOR_MANAGEMENT, MasterSystem.ERP,
                                                            MasterSystem.ANALYTICS))  # fmt: skip
    vm.hold(Entity.SUPPLIERS, "VM-1", ((MasterSystem.ERP, "SUP-1"),), tax_id="111111111", legal_name="One Inc",
            status="active", bank_account="b1")  # fmt: skip
    erp.hold(Entity.SUPPLIERS, "SUP-1", ((MasterSystem.VENDOR_MANAGEMENT, "VM-1"),), tax_id="111111111",
             legal_name="ONE INC", status="active", bank_account="b2")  # fmt: skip
    analytics.hold(Entity.SUPPLIERS, "VM-0", legal_name="Gone Co")


def _compliance_seed(systems: Systems) -> None:
    from domain.exclusions import ExclusionRecord
    from domain.supplier import VendorRegistration

    systems.vendor_management.registrations["VM-1"] = VendorRegistration(
        vendor_id="VM-1", legal_name="Harborview Medical Supply LLC", status="active", erp_supplier_id="SUP-1"
    )
    systems.screening.exclusions = [ExclusionRecord(busname="HARBORVIEW MEDICAL SUPPLY")]


SCENARIOS: dict[str, Scenario] = {
    "onboarding-new-supplier": new_supplier,
    "onboarding-duplicate-escalated-approved": duplicate_escalated_then_approved,
    "onboarding-bad-routing-number": bad_routing_number,
    # the same journey, recorded after the review became a task of the inbox (workflow.patched)
    "onboarding-review-task-escalated-approved": duplicate_escalated_then_approved,
    # again, after every decision went through DecisionGate and short calls became local activities
    "onboarding-decision-gate-escalated-approved": duplicate_escalated_then_approved,
    "onboarding-new-supplier-local-activities": new_supplier,
    "status-sync-suspend-reinstate": status_sync,
    "po-backordered-received-invoiced-closed": po_lifecycle,
    "po-pricing-approved-then-no-acknowledgement": po_pricing_then_no_ack,
    "invoice-over-receipt-short-paid": invoice_short_pay,
    "invoice-clean-approved": invoice_clean,
    # recorded after a run that ends clears its Team and Decision (the `clear-team-at-end` patch)
    "onboarding-duplicate-approved-team-cleared": duplicate_escalated_then_approved,
    "po-no-acknowledgement-team-cleared": po_pricing_then_no_ack,
    "master-data-sync-corrected-and-conflict": master_data_sync,
    "compliance-rescreen-excluded": compliance_rescreen,
    "replenishment-ordered-received": replenishment_received,
    "replenishment-child-po-received": replenishment_child_po,
}


async def _procurement_seed(systems: Systems) -> None:
    from tests.workflows import po_support as po

    po.with_procurement_seed(systems)
    await systems.procurement.create_purchase_order(po.purchase_order(), idempotency_key="seed")
    await systems.procurement.record_receipt(
        "PO-2026-000451",
        [ReceiptLine(line=1, quantity=Decimal(20), uom="CS"), ReceiptLine(line=2, quantity=Decimal(10), uom="BX")],
        received_by="dock",
        idempotency_key="seed-receipt",
    )


async def record(names: list[str]) -> None:
    """Record the named scenarios, or (no names) those without a history yet."""
    HISTORY_DIR.mkdir(exist_ok=True)
    wanted = names or [name for name in SCENARIOS if not (HISTORY_DIR / f"{name}.json").exists()]
    for name in wanted:
        scenario = SCENARIOS[name]
        systems = Systems()
        systems.erp.seed("SUP-0001", "Lakeshore Medical Products Inc", "36-4412098")
        systems.erp.seed("SUP-0002", "Northgate Surgical Supply LLC", "52-1987345")
        if name.startswith("invoice"):
            await _procurement_seed(systems)
        elif name.startswith("master-data"):
            _master_data_seed(systems)
        elif name.startswith("compliance"):
            _compliance_seed(systems)
        elif name.startswith("replenishment"):
            _replenishment_seed(systems)
        elif name.startswith("po"):
            from tests.workflows.po_support import with_procurement_seed

            with_procurement_seed(systems)
        async with running_harness(systems) as h:
            handle = await scenario(h.client, h.task_queue, h.env)
            history = await handle.fetch_history()
        (HISTORY_DIR / f"{name}.json").write_text(history.to_json())
        print(f"recorded {name}: {len(history.events)} events")


if __name__ == "__main__":
    asyncio.run(record(sys.argv[1:]))
