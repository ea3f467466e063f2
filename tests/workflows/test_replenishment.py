"""Replenishment over fakes holding the seed's items, contracts and central-supply balances: a
breach orders par minus what is there or coming from the cheapest eligible contracted vendor as a
child PO; further breaches join the open run; a suspended supplier is passed over; no eligible
vendor is a sourcing exception for purchasing; critical items ship expedited; the scan hands every
breached balance to its replenishment."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from temporalio.client import WorkflowHandle

from adapters.replenishment_events_temporal import deliver_stock_breach
from domain.decisions import PURCHASING_TEAM, DecisionKind, ExceptionAction, ExceptionResolution, OrderFrom
from domain.po_models import PoPolicy
from domain.purchasing import purchase_order_workflow_id
from domain.replenishment_models import (
    ReplenishmentOutcome,
    ReplenishmentPolicy,
    ReplenishmentStage,
    ReplenishmentStatus,
    StockBreach,
    replenishment_workflow_id,
)
from domain.supplier import VendorRegistration
from domain.system_records import InventoryBalance
from tests.support.harness import Harness, Systems, seeded_systems
from tests.workflows.po_support import ack, receive, refused, with_procurement_seed
from workflows.purchase_order import PurchaseOrderWorkflow
from workflows.replenishment import ReplenishmentWorkflow
from workflows.replenishment_scan import ReplenishmentScanWorkflow

CENTRAL = "LOC-CS-01"
GLOVES = "ITM-1001"
SYRINGES = "ITM-1005"
POLICY = ReplenishmentPolicy(po=PoPolicy(ack_sla=timedelta(hours=4), ack_cancel_after=timedelta(hours=4)))


@pytest.fixture
def systems() -> Systems:
    systems = with_procurement_seed(seeded_systems())
    systems.erp.seed("SUP-0003", "Cascadia Infusion Therapeutics Inc", "91-2233445")
    for location, item, on_hand, par, reorder in ((CENTRAL, GLOVES, 9, 40, 12), (CENTRAL, SYRINGES, 3, 10, 4)):
        systems.inventory.set_balance(InventoryBalance(location_id=location, item_id=item, uom="CS",
                                                       on_hand=Decimal(on_hand), par=Decimal(par),
                                                       reorder_point=Decimal(reorder)))  # fmt: skip
    return systems


def suspend(systems: Systems, *supplier_ids: str) -> None:
    for supplier in supplier_ids:
        systems.vendor_management.registrations[supplier] = VendorRegistration(
            vendor_id=f"VM-{supplier}", legal_name=supplier, status="suspended", erp_supplier_id=supplier
        )


def breach(item: str = GLOVES, on_hand: int = 9, reorder: int = 12) -> StockBreach:
    return StockBreach(event_id=f"evt-{uuid.uuid4().hex[:10]}", location_id=CENTRAL, item_id=item, uom="CS",
                       on_hand=Decimal(on_hand), reorder_point=Decimal(reorder),
                       occurred_at=datetime.now(UTC))  # fmt: skip


async def report(h: Harness, event: StockBreach, policy: ReplenishmentPolicy = POLICY) -> WorkflowHandle[Any, Any]:
    workflow_id = await deliver_stock_breach(h.client, h.task_queue, event, policy)
    return h.client.get_workflow_handle_for(ReplenishmentWorkflow.run, workflow_id)


async def until(
    handle: WorkflowHandle[Any, Any], predicate: Callable[[ReplenishmentStatus], bool], timeout: float = 20
) -> ReplenishmentStatus:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await handle.query(ReplenishmentWorkflow.status)
        if predicate(status):
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached; last status {status.model_dump_json()}")
        await asyncio.sleep(0.05)


async def test_gloves_below_reorder_are_ordered_from_the_cheapest_supplier_and_a_second_breach_joins(
    harness: Harness,
) -> None:
    handle = await report(harness, breach())
    assert handle.id == replenishment_workflow_id(CENTRAL, GLOVES)
    status = await until(handle, lambda s: s.stage is ReplenishmentStage.AWAITING_ACKNOWLEDGEMENT)

    order = status.order
    assert order is not None
    assert (order.supplier_id, order.contract_id, order.quantity, order.uom, order.unit_price) == (
        "SUP-0001", "CTR-2026-0112", Decimal(31), "CS", Decimal("59.25"),
    )  # fmt: skip
    assert order.shipping == "standard" and order.approval.startswith("no approval")
    created = harness.systems.procurement.pos[order.po_number]
    assert (created.supplier_id, created.ship_to, created.lines[0].quantity) == ("SUP-0001", CENTRAL, Decimal(31))

    await report(harness, breach(on_hand=7))  # the run is open: it joins
    joined = await until(handle, lambda s: s.breaches == 2)
    assert joined.order == order and len(harness.systems.procurement.pos) == 1

    po = harness.client.get_workflow_handle_for(PurchaseOrderWorkflow.run, purchase_order_workflow_id(order.po_number))
    await po.signal(PurchaseOrderWorkflow.acknowledgement_received, ack(order.po_number))
    await until(handle, lambda s: s.stage is ReplenishmentStage.AWAITING_DELIVERY)
    await receive(po, 1, "31")
    done: ReplenishmentStatus = await handle.result()
    assert (done.outcome, done.reason) == (ReplenishmentOutcome.REPLENISHED, f"PO {order.po_number} received in full")
    assert "replenishment.ordered" in harness.systems.store.event_types()


async def test_a_suspended_supplier_is_passed_over_for_the_other_contract(harness: Harness) -> None:
    suspend(harness.systems, "SUP-0001")

    status = await until(await report(harness, breach()), lambda s: s.order is not None)

    assert status.order is not None and status.sourcing is not None
    assert (status.order.supplier_id, status.order.unit_price) == ("SUP-0002", Decimal("61.00"))
    refusals = {c.contract_id: c.refused for c in status.sourcing.considered}
    assert refusals["CTR-2026-0112"] == "supplier SUP-0001 suspended in vendor management"


async def test_no_eligible_vendor_is_a_sourcing_exception_purchasing_resolves_with_a_supplier_and_price(
    harness: Harness,
) -> None:
    suspend(harness.systems, "SUP-0001", "SUP-0002")
    handle = await report(harness, breach())
    status = await until(handle, lambda s: s.open_exception is not None)
    assert status.stage is ReplenishmentStage.AWAITING_SOURCING_DECISION
    opened = status.open_exception
    assert opened is not None and (opened.kind, opened.team) == (DecisionKind.SOURCING_EXCEPTION, PURCHASING_TEAM)
    assert {c["contract_id"] for c in opened.evidence["considered"]} == {"CTR-2026-0107", "CTR-2026-0112"}
    eaches = OrderFrom(supplier_id="SUP-0004", unit_price=Decimal("60"), uom="EA")
    in_eaches = ExceptionResolution(action=ExceptionAction.ORDER_FROM, reason="spot buy", resolved_by="pat",
                                    order_from=eaches)  # fmt: skip
    await refused(handle.execute_update(ReplenishmentWorkflow.resolve_exception, in_eaches), "order_from.uom")

    await handle.execute_update(ReplenishmentWorkflow.resolve_exception, ExceptionResolution(
        action=ExceptionAction.ORDER_FROM, reason="spot buy from Bayview", resolved_by="pat",
        order_from=OrderFrom(supplier_id="SUP-0004", unit_price=Decimal("60.00"))))  # fmt: skip

    status = await until(handle, lambda s: s.order is not None)
    assert status.order is not None
    assert (status.order.supplier_id, status.order.quantity, status.order.chosen_by) == ("SUP-0004", Decimal(31), "pat")


async def test_a_dismissed_sourcing_exception_orders_nothing(harness: Harness) -> None:
    suspend(harness.systems, "SUP-0001", "SUP-0002")
    handle = await report(harness, breach())
    await until(handle, lambda s: s.open_exception is not None)

    await handle.execute_update(ReplenishmentWorkflow.resolve_exception, ExceptionResolution(
        action=ExceptionAction.DISMISS, reason="item discontinued", resolved_by="pat"))  # fmt: skip

    done: ReplenishmentStatus = await handle.result()
    assert done.outcome is ReplenishmentOutcome.DISMISSED and harness.systems.procurement.pos == {}


async def test_a_critical_item_ships_expedited_and_above_its_limit_waits_for_purchasing(harness: Harness) -> None:
    status = await until(await report(harness, breach(SYRINGES, 3, 4)), lambda s: s.po_stage is not None)
    assert status.critical and status.order is not None
    assert (status.order.supplier_id, status.order.quantity, status.order.shipping) == ("SUP-0003", 7, "expedited")
    assert harness.systems.procurement.pos[status.order.po_number].lines[0].quantity == 7

    low_limit = POLICY.model_copy(update={"approval_limit": Decimal(100), "critical_approval_limit": Decimal(100)})
    gloves = await report(harness, breach(), low_limit)
    waiting = await until(gloves, lambda s: s.po_stage is not None and s.po_stage.value == "awaiting_approval")
    assert waiting.order is not None and waiting.order.approval.startswith("purchasing approves")


async def test_stock_on_order_means_nothing_more_is_ordered(harness: Harness) -> None:
    covered = InventoryBalance(location_id=CENTRAL, item_id=GLOVES, uom="CS", on_hand=Decimal(9), par=Decimal(40),
                               reorder_point=Decimal(12), reserved=Decimal(31))  # fmt: skip
    harness.systems.inventory.set_balance(covered)
    done: ReplenishmentStatus = await (await report(harness, breach())).result()

    assert done.outcome is ReplenishmentOutcome.NOT_NEEDED and harness.systems.procurement.pos == {}
    assert done.reason is not None and "on order 31" in done.reason


async def test_the_scan_hands_every_breached_balance_to_its_replenishment(harness: Harness) -> None:
    result = await harness.client.execute_workflow(
        ReplenishmentScanWorkflow.run, POLICY, id=f"replenishment-scan-{uuid.uuid4().hex[:6]}",
        task_queue=harness.task_queue,
    )  # fmt: skip

    assert sorted(result.breaches) == [replenishment_workflow_id(CENTRAL, GLOVES),
                                       replenishment_workflow_id(CENTRAL, SYRINGES)]  # fmt: skip
    for workflow_id in result.breaches:
        handle = harness.client.get_workflow_handle_for(ReplenishmentWorkflow.run, workflow_id)
        status = await until(handle, lambda s: s.order is not None)
        assert status.last_breach is not None and status.last_breach.source == "scan"
