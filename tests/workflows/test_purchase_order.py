"""Purchase-order workflow over fake systems: release, approvals, every acknowledgement kind,
SLAs with time skipping, receipts, invoices, holds, cancel with compensation, continue-as-new."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest

from domain.decisions import ExceptionAction, ExceptionResolution
from domain.po_models import (
    CancelRequest,
    PoInvoiceNotice,
    PoOutcome,
    PoPolicy,
    PoRejectionKind,
    PoResult,
    PoStatus,
    ReceiptRequest,
    SupplierHoldNotice,
)
from domain.purchasing import AckLineStatus, purchase_order_workflow_id
from domain.supplier import CredentialDocument, VendorRegistration
from domain.system_records import ErpPoStatus
from runtime.settings import Settings
from starter import operations as ops
from starter.operations import messages, runs
from tests.support.harness import Harness, Systems
from tests.workflows.po_support import (
    SHORT,
    ack,
    line,
    open_po,
    purchase_order,
    receive,
    refused,
    start_po,
    until,
    with_procurement_seed,
)
from workflows.purchase_order import PurchaseOrderWorkflow


@pytest.fixture
def systems(systems: Systems) -> Systems:
    return with_procurement_seed(systems)


async def resolve(handle, action: ExceptionAction, reason: str = "checked with the buyer") -> PoStatus:  # type: ignore[no-untyped-def]
    status: PoStatus = await handle.execute_update(
        PurchaseOrderWorkflow.resolve_exception,
        ExceptionResolution(action=action, reason=reason, resolved_by="pat"),
    )
    return status


async def invoice_all(handle, *lines: tuple[int, str]) -> None:  # type: ignore[no-untyped-def]
    await handle.signal(
        PurchaseOrderWorkflow.invoice_recorded,
        PoInvoiceNotice(
            invoice_workflow_id="invoice-test",
            invoice_number="T-1",
            outcome="approved",
            lines=[(n, Decimal(q)) for n, q in lines],
        ),
    )


async def test_compliant_po_is_created_reserved_notified_then_closed_by_receipts_and_invoices(harness: Harness) -> None:
    s = harness.systems
    po = purchase_order()
    handle = await open_po(harness, po)

    erp_po = s.procurement.pos["PO-2026-000451"]
    assert erp_po.status is ErpPoStatus.OPEN and [ln.quantity for ln in erp_po.lines] == [20, 10]
    assert sorted((r.item_id, r.quantity, r.uom, r.location_id) for r in s.inventory.active()) == [
        ("ITM-1002", 20, "CS", "LOC-OR-02"),
        ("ITM-1003", 10, "BX", "LOC-OR-02"),
    ]
    assert s.vendor_channel.sent["PO-2026-000451"].lines[0].need_by is not None

    await receive(handle, 1, "20")
    status = await receive(handle, 2, "10")
    assert [ln.received for ln in status.lines] == [20, 10] and len(status.receipts) == 2
    await invoice_all(handle, (1, "20"), (2, "10"))
    result: PoResult = await handle.result()

    assert result.outcome is PoOutcome.CLOSED
    assert s.procurement.pos["PO-2026-000451"].status is ErpPoStatus.CLOSED
    assert s.procurement.names().count("create_purchase_order") == 1
    assert [r.fulfilled_quantity for r in s.inventory.reservations.values()] == [20, 10]
    assert {"purchase_order.released", "purchase_order.acknowledged", "purchase_order.closed"} <= set(
        s.store.event_types()
    )


async def test_price_above_contract_waits_for_pricing_approval_then_releases(harness: Harness) -> None:
    handle = await start_po(harness, purchase_order("po-off-contract-price"))
    status = await until(handle, lambda s: s.open_exception is not None)

    exception = status.open_exception
    assert status.stage == "awaiting_approval" and exception.kind == "pricing_approval" and exception.team == "pricing"
    assert exception.evidence["lines_above_contract"][0]["contract_price"] == "59.25"
    assert "64.00" in exception.summary and "59.25" in exception.summary
    assert harness.systems.procurement.pos == {}  # held: not released before the approval

    await resolve(handle, ExceptionAction.APPROVE)
    await until(handle, lambda s: s.stage == "awaiting_acknowledgement")
    assert "PO-2026-000452" in harness.systems.procurement.pos


async def test_rejected_pricing_approval_rejects_the_po_and_creates_nothing(harness: Harness) -> None:
    handle = await start_po(harness, purchase_order("po-off-contract-price"))
    await until(handle, lambda s: s.open_exception is not None)
    await refused(resolve(handle, ExceptionAction.SHORT_PAY), "does not apply")  # an invoice action
    await resolve(handle, ExceptionAction.REJECT, "renegotiate first")
    result: PoResult = await handle.result()

    assert result.outcome is PoOutcome.REJECTED and result.rejection_kind is PoRejectionKind.PRICING_REJECTED
    assert result.reasons[0].field == "lines.0.unit_price"
    assert harness.systems.procurement.pos == {} and harness.systems.vendor_channel.sent == {}


async def test_expired_contract_is_not_released_and_goes_to_contracting(harness: Harness) -> None:
    handle = await start_po(harness, purchase_order("po-expired-contract"))
    status = await until(handle, lambda s: s.open_exception is not None)

    assert status.open_exception.kind == "contract_exception" and status.open_exception.team == "contracting"
    assert "CTR-2025-0044" in status.open_exception.summary and "expired" in status.open_exception.summary
    await resolve(handle, ExceptionAction.REJECT, "no contract in force")
    result: PoResult = await handle.result()
    assert result.rejection_kind is PoRejectionKind.CONTRACT_REJECTED and result.assigned_team == "contracting"
    assert harness.systems.procurement.pos == {}


async def test_an_undecided_approval_escalates_to_the_managers_after_its_sla(harness: Harness) -> None:
    handle = await start_po(harness, purchase_order("po-off-contract-price"), SHORT)
    await until(handle, lambda s: s.open_exception is not None)
    await harness.env.sleep(timedelta(hours=9))
    status = await until(handle, lambda s: s.open_exception and s.open_exception.escalation_level == 1)

    assert status.open_exception.team == "pricing-managers"
    await resolve(handle, ExceptionAction.APPROVE)
    await until(handle, lambda s: s.stage == "awaiting_acknowledgement")


@pytest.mark.parametrize(
    ("ack_line", "check"),
    [
        (line(1, AckLineStatus.ACCEPTED), lambda erp, st: st.lines[0].ordered == 20),
        (
            line(1, AckLineStatus.BACKORDERED, backordered_quantity=Decimal(8), promised_date="2027-01-05"),
            lambda erp, st: erp.lines[0].backordered_quantity == 8 and str(st.lines[0].promised_date) == "2027-01-05",
        ),
        (
            line(1, AckLineStatus.QUANTITY_CHANGED, quantity=Decimal(15)),
            lambda erp, st: erp.lines[0].quantity == 15 and st.lines[0].ordered == 15,
        ),
        (
            line(1, AckLineStatus.PRICE_CHANGED, unit_price=Decimal("80.00")),  # lower: applied as acknowledged
            lambda erp, st: erp.lines[0].unit_price == Decimal("80.00") and st.lines[0].unit_price == 80,
        ),
        (
            line(1, AckLineStatus.REJECTED),
            lambda erp, st: erp.lines[0].status == "cancelled" and st.lines[0].cancelled,
        ),
    ],
    ids=["accepted", "backordered", "quantity_changed", "price_changed", "rejected_line"],
)
async def test_every_acknowledgement_kind_is_applied_to_the_erp(harness: Harness, ack_line, check) -> None:  # type: ignore[no-untyped-def]
    handle = await open_po(harness, purchase_order(), ack_line)
    status = await until(handle, lambda s: s.lines[0].ack_status is not None)

    assert status.lines[0].ack_status == ack_line.status and status.lines[1].ack_status == "accepted"
    assert check(harness.systems.procurement.pos["PO-2026-000451"], status)
    if ack_line.status is AckLineStatus.REJECTED:
        assert [r.item_id for r in harness.systems.inventory.active()] == ["ITM-1003"]


async def test_a_price_increase_in_the_acknowledgement_needs_pricing_approval(harness: Harness) -> None:
    handle = await start_po(harness, purchase_order())
    await until(handle, lambda s: s.stage == "awaiting_acknowledgement")
    await handle.signal(
        PurchaseOrderWorkflow.acknowledgement_received,
        ack("PO-2026-000451", line(2, AckLineStatus.PRICE_CHANGED, unit_price=Decimal("118.44"))),
    )
    status = await until(handle, lambda s: s.open_exception is not None)
    assert status.open_exception.kind == "pricing_approval" and "118.44" in status.open_exception.summary

    await resolve(handle, ExceptionAction.REJECT, "not at that price")
    result: PoResult = await handle.result()
    assert result.outcome is PoOutcome.REJECTED and result.rejection_kind is PoRejectionKind.PRICING_REJECTED
    assert harness.systems.procurement.pos["PO-2026-000451"].status is ErpPoStatus.CANCELLED
    assert harness.systems.inventory.active() == []


async def test_every_line_rejected_by_the_vendor_compensates_and_rejects(harness: Harness) -> None:
    handle = await start_po(harness, purchase_order())
    await until(handle, lambda s: s.stage == "awaiting_acknowledgement")
    await handle.signal(
        PurchaseOrderWorkflow.acknowledgement_received,
        ack("PO-2026-000451", line(1, AckLineStatus.REJECTED), line(2, AckLineStatus.REJECTED)),
    )
    result: PoResult = await handle.result()

    assert result.outcome is PoOutcome.REJECTED and result.rejection_kind is PoRejectionKind.VENDOR_REJECTED
    assert result.compensations == ["release_reservations", "cancel_po_with_vendor", "cancel_po_in_erp"]


async def test_no_acknowledgement_escalates_then_cancels_and_compensates_in_reverse(harness: Harness) -> None:
    s = harness.systems
    handle = await start_po(harness, purchase_order(), SHORT)
    await until(handle, lambda st: st.stage == "awaiting_acknowledgement")
    await harness.env.sleep(timedelta(hours=5))
    status = await until(handle, lambda st: st.escalation_level == 1)
    assert status.assigned_team == "purchasing-managers"

    result: PoResult = await handle.result()  # time skips through the second wait
    assert result.outcome is PoOutcome.CANCELLED and "no acknowledgement" in (result.cancel_reason or "")
    assert result.compensations == ["release_reservations", "cancel_po_with_vendor", "cancel_po_in_erp"]
    order = [n for n in s.inventory.names() + s.vendor_channel.names() + s.procurement.names()]
    assert "release" in order and s.vendor_channel.cancelled == ["PO-2026-000451"]
    assert s.procurement.pos["PO-2026-000451"].status is ErpPoStatus.CANCELLED
    assert s.inventory.active() == []
    assert "purchase_order.acknowledgement_overdue" in s.store.event_types()


async def test_cancel_while_awaiting_approval_has_nothing_to_compensate(harness: Harness) -> None:
    handle = await start_po(harness, purchase_order("po-off-contract-price"))
    await until(handle, lambda s: s.open_exception is not None)
    status: PoStatus = await handle.execute_update(
        "cancel", CancelRequest(reason="requisition withdrawn", requested_by="pat"), result_type=PoStatus
    )
    assert status.outcome is PoOutcome.CANCELLED
    result: PoResult = await handle.result()
    assert result.compensations == [] and harness.systems.procurement.pos == {}


@pytest.mark.parametrize("stage", ["awaiting_acknowledgement", "open"])
async def test_cancel_after_release_compensates_in_reverse_order(harness: Harness, stage: str) -> None:
    s = harness.systems
    po = purchase_order()
    if stage == "open":
        handle = await open_po(harness, po)
    else:
        handle = await start_po(harness, po)
        await until(handle, lambda st: st.stage == stage)
    await handle.execute_update(PurchaseOrderWorkflow.cancel, CancelRequest(reason="no longer needed"))
    result: PoResult = await handle.result()

    assert result.outcome is PoOutcome.CANCELLED and "no longer needed" in (result.cancel_reason or "")
    assert result.compensations == ["release_reservations", "cancel_po_with_vendor", "cancel_po_in_erp"]
    assert s.procurement.pos["PO-2026-000451"].status is ErpPoStatus.CANCELLED and s.inventory.active() == []


async def test_receipts_refuse_over_receipt_and_convert_units(harness: Harness) -> None:
    handle = await open_po(harness, purchase_order())
    status = await receive(handle, 1, "30", "EA")  # 30 EA of ITM-1002 is 1 CS
    assert status.lines[0].received == 1

    await refused(receive(handle, 1, "20"), "more than line 1 still expects")
    await refused(receive(handle, 9, "1"), "no line 9")
    await refused(receive(handle, 1, "1", "BX"), "cannot be converted")
    await refused(handle.execute_update(PurchaseOrderWorkflow.cancel, CancelRequest(reason="too late")), "has receipts")
    assert len(harness.systems.procurement.receipts["PO-2026-000451"]) == 1


async def test_a_supplier_hold_keeps_the_po_from_closing_until_released(harness: Harness) -> None:
    handle = await open_po(harness, purchase_order())
    await handle.signal(
        PurchaseOrderWorkflow.supplier_hold_changed, SupplierHoldNotice(on_hold=True, reason="suspended", event_id="e1")
    )
    await receive(handle, 1, "20")
    await receive(handle, 2, "10")
    await invoice_all(handle, (1, "20"), (2, "10"))
    status = await until(handle, lambda s: s.on_hold and s.lines[1].invoiced == 10)
    assert status.outcome is None and status.hold_reason == "suspended"

    await handle.signal(
        PurchaseOrderWorkflow.supplier_hold_changed,
        SupplierHoldNotice(on_hold=False, reason="reinstated", event_id="e2"),
    )
    result: PoResult = await handle.result()
    assert result.outcome is PoOutcome.CLOSED


@pytest.mark.parametrize(
    ("setup", "fragment"),
    [
        (lambda s: s.erp.seed("SUP-0002", "Northgate Surgical Supply LLC", "52-1987345", status="on_hold"), "on_hold"),
        (
            lambda s: s.vendor_management.registrations.__setitem__(
                "SUP-0002",
                VendorRegistration(
                    vendor_id="VM-100002",
                    status="active",
                    documents=[CredentialDocument(kind="certificate_of_insurance", expires_on="2026-01-31")],
                ),
            ),
            "certificate_of_insurance expired",
        ),
    ],
    ids=["on_hold", "credential_expired"],
)
async def test_an_ineligible_supplier_rejects_the_po(harness: Harness, setup, fragment: str) -> None:  # type: ignore[no-untyped-def]
    setup(harness.systems)
    result: PoResult = await (await start_po(harness, purchase_order())).result()

    assert result.outcome is PoOutcome.REJECTED and result.rejection_kind is PoRejectionKind.SUPPLIER_NOT_ELIGIBLE
    assert fragment in result.reasons[0].reason and harness.systems.procurement.pos == {}


async def test_unknown_item_and_location_are_validation_rejections(harness: Harness) -> None:
    po = purchase_order(ship_to="LOC-XX-99")
    po.lines[0].item_id = "ITM-9999"
    result: PoResult = await (await start_po(harness, po)).result()
    assert result.rejection_kind is PoRejectionKind.VALIDATION
    assert {r.field for r in result.reasons} == {"ship_to", "lines.0.item_id"}


async def test_a_long_po_continues_as_new_and_keeps_its_progress(harness: Harness) -> None:
    po = purchase_order()
    handle = await start_po(harness, po, PoPolicy(continue_as_new_after=50))
    await until(handle, lambda s: s.stage == "awaiting_acknowledgement")
    await handle.signal(PurchaseOrderWorkflow.acknowledgement_received, ack(po.po_number))
    first_run = handle.first_execution_run_id
    for _ in range(20):
        await receive(handle, 1, "1")
    await receive(handle, 2, "10")
    await invoice_all(handle, (1, "20"), (2, "10"))
    result: PoResult = await handle.result()

    assert result.outcome is PoOutcome.CLOSED and len(result.receipts) == 21
    latest = await harness.client.get_workflow_handle(handle.id).describe()
    assert latest.run_id != first_run


async def test_a_receipt_the_erp_is_slow_to_take_is_still_applying_then_applied(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The CLI's and API's bound on an Update, against a real Temporal: the SDK turns the bound's
    cancellation into its own error, which must still read as "still being applied" (the run has
    the receipt), never as a failure."""
    handle = await open_po(harness, purchase_order())
    erp = harness.systems.procurement
    released = asyncio.Event()
    record_receipt = erp.record_receipt

    async def slow_receipt(*args: Any, **kwargs: Any) -> Any:
        await released.wait()
        return await record_receipt(*args, **kwargs)

    monkeypatch.setattr(erp, "record_receipt", slow_receipt)
    monkeypatch.setattr(messages, "UPDATE_WAIT_SECONDS", 1.0)
    with pytest.raises(ops.StillApplying, match="still being applied"):
        await ops.record_receipt(harness.client, "PO-2026-000451", ReceiptRequest(line=1, quantity=Decimal(5)))

    released.set()
    await until(handle, lambda s: s.lines[0].received == 5)
    assert len(erp.receipts["PO-2026-000451"]) == 1


async def test_a_run_that_does_not_answer_its_status_query_is_shown_with_why(
    harness: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No worker polls the run's queue: its view has the stage of its search attributes and says
    why there is nothing more (the CLI's `status` and the API's run views print it)."""
    po = purchase_order(po_number="PO-2026-000452")
    settings = Settings(task_queue=f"unpolled-{harness.task_queue}")
    await ops.start_purchase_order(harness.client, settings, po, submitted_by="test")
    monkeypatch.setattr(runs, "QUERY_TIMEOUT", timedelta(milliseconds=500))

    view = await ops.describe_run(harness.client, settings, purchase_order_workflow_id(po.po_number))

    assert (view.status, view.result) == ("running", None)
    assert view.note is not None and "did not answer its status query within 0.5 s" in view.note
