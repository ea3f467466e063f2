"""Purchase-order controls: value thresholds that need a purchasing approval, acknowledgements
identified by who sent them, and receipt keys derived from the request, not from a counter."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal

import pytest
from temporalio.client import WorkflowFailureError

from adapters.errors import BusinessRuleError
from domain.decisions import ExceptionAction, ExceptionResolution
from domain.po_models import PoOutcome, PoPolicy, PoRejectionKind, PoResult, ReceiptRequest
from domain.purchasing import AckLineStatus
from tests.support.harness import Harness, Systems
from tests.workflows.po_support import (
    ack,
    invoice,
    line,
    open_po,
    purchase_order,
    start_invoice,
    start_po,
    until,
    with_procurement_seed,
)
from workflows.purchase_order import PurchaseOrderWorkflow

# po-northgate-gowns: line 1 is 20 CS x 84.50 = 1690.00, line 2 10 BX x 112.80 = 1128.00; 2818.00 in all
LINE_LIMIT = PoPolicy(approval_line_amount=Decimal(1500))
ORDER_LIMIT = PoPolicy(approval_order_amount=Decimal(2500))


@pytest.fixture
def systems(systems: Systems) -> Systems:
    return with_procurement_seed(systems)


async def decide(handle, action: ExceptionAction) -> None:  # type: ignore[no-untyped-def]
    resolution = ExceptionResolution(action=action, reason="checked the budget", resolved_by="pat")
    await handle.execute_update(PurchaseOrderWorkflow.resolve_exception, resolution)


@pytest.mark.parametrize(("policy", "fragment"), [(LINE_LIMIT, "line 1 is worth 1690.00"), (ORDER_LIMIT, "2818.00")])
async def test_a_po_above_a_value_threshold_waits_for_purchasing(
    harness: Harness, policy: PoPolicy, fragment: str
) -> None:
    handle = await start_po(harness, purchase_order(), policy)
    status = await until(handle, lambda s: s.open_exception is not None)
    task = status.open_exception
    assert task.kind == "purchase_approval" and task.team == "purchasing" and fragment in task.summary
    assert harness.systems.procurement.pos == {}  # nothing ordered before the approval

    await decide(handle, ExceptionAction.APPROVE)
    await until(handle, lambda s: s.stage == "awaiting_acknowledgement")
    assert "PO-2026-000451" in harness.systems.procurement.pos


async def test_a_refused_purchase_approval_rejects_the_po(harness: Harness) -> None:
    handle = await start_po(harness, purchase_order(), ORDER_LIMIT)
    await until(handle, lambda s: s.open_exception is not None)
    await decide(handle, ExceptionAction.REJECT)
    result: PoResult = await handle.result()
    assert result.outcome is PoOutcome.REJECTED and result.rejection_kind is PoRejectionKind.APPROVAL_REJECTED
    assert result.assigned_team == "purchasing" and harness.systems.procurement.pos == {}


async def test_below_the_thresholds_no_approval_is_asked(harness: Harness) -> None:
    policy = PoPolicy(approval_line_amount=Decimal(5000), approval_order_amount=Decimal(5000))
    handle = await start_po(harness, purchase_order(), policy)
    status = await until(handle, lambda s: s.stage == "awaiting_acknowledgement")
    assert status.open_exception is None


async def test_an_acknowledgement_is_identified_by_its_sender_and_event_id(harness: Harness) -> None:
    handle = await start_po(harness, purchase_order())
    await until(handle, lambda s: s.stage == "awaiting_acknowledgement")
    forged = ack("PO-2026-000451", line(1, AckLineStatus.REJECTED)).model_copy(update={"source": "jwt:intruder"})
    genuine = forged.model_copy(update={"source": "webhook:vendor-channel", "lines": []})
    assert forged.identity != genuine.identity
    await handle.signal(PurchaseOrderWorkflow.acknowledgement_received, genuine)
    status = await until(handle, lambda s: s.stage == "open")
    assert [line.ack_status for line in status.lines] == ["accepted", "accepted"]


async def test_each_receipt_is_keyed_by_its_request(harness: Harness) -> None:
    handle = await open_po(harness, purchase_order())
    for update_id in ("receipt-request-a", "receipt-request-b"):
        await handle.execute_update(
            PurchaseOrderWorkflow.record_receipt, ReceiptRequest(line=1, quantity=Decimal(5)), id=update_id
        )
    keys = [key for name, key in harness.systems.procurement.calls if name == "record_receipt"]
    assert keys == [
        "purchase-order-PO-2026-000451:receipt-receipt-request-a",
        "purchase-order-PO-2026-000451:receipt-receipt-request-b",
    ]
    # the same request again (a client retrying after a crash) is the same Update: applied once
    await handle.execute_update(
        PurchaseOrderWorkflow.record_receipt, ReceiptRequest(line=1, quantity=Decimal(5)), id="receipt-request-a"
    )
    assert len(harness.systems.procurement.receipts["PO-2026-000451"]) == 2


async def receive_everything(handle) -> None:  # type: ignore[no-untyped-def]
    for number, quantity in ((1, 20), (2, 10)):
        await handle.execute_update(
            PurchaseOrderWorkflow.record_receipt, ReceiptRequest(line=number, quantity=Decimal(quantity))
        )


async def test_an_invoice_that_never_comes_goes_to_accounts_payable_after_its_sla(harness: Harness) -> None:
    policy = PoPolicy(invoice_sla=timedelta(days=10))
    handle = await open_po(harness, purchase_order(), policy=policy)
    await receive_everything(handle)
    status = await until(handle, lambda s: all(line.received == line.ordered for line in s.lines))
    assert status.assigned_team is None

    await harness.env.sleep(timedelta(days=11))
    status = await until(handle, lambda s: s.assigned_team == "accounts-payable")
    assert status.stage == "open" and status.outcome is None  # still waiting for its invoice
    await until_event(harness, "purchase_order.invoice_overdue")


async def test_a_failed_invoice_run_hands_its_po_to_accounts_payable(harness: Harness) -> None:
    handle = await open_po(harness, purchase_order())
    await receive_everything(handle)
    harness.systems.ap.fail_next = [BusinessRuleError("ap", "capture_refused", "AP refused the capture")]
    run = await start_invoice(harness, invoice())
    with pytest.raises(WorkflowFailureError):
        await run.result()
    status = await until(handle, lambda s: s.assigned_team == "accounts-payable")
    assert status.outcome is None
    await until_event(harness, "purchase_order.invoice_failed")


async def until_event(harness: Harness, event_type: str) -> None:
    for _ in range(200):  # published by a local activity right after the stage changed
        if event_type in harness.systems.store.event_types():
            return
        await asyncio.sleep(0.02)
    raise AssertionError(f"{event_type} not published: {harness.systems.store.event_types()}")
