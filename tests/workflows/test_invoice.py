"""Invoice workflow over fake systems: clean approval, each exception route with its evidence,
every resolution, the SLA escalation, duplicates never paid twice, and the PO closing."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import pytest

from domain.decisions import ExceptionAction, ExceptionResolution
from domain.invoice_models import InvoiceOutcome, InvoicePolicy, InvoiceResult, InvoiceStatus
from domain.po_models import PoOutcome, PoResult
from domain.purchasing import ReceiptLine
from domain.system_records import Dispute
from tests.support.harness import Harness, Systems
from tests.workflows.po_support import (
    invoice,
    open_po,
    purchase_order,
    receive,
    refused,
    start_invoice,
    until,
    with_procurement_seed,
)
from workflows.invoice import InvoiceWorkflow


@pytest.fixture
async def systems(systems: Systems) -> Systems:
    """PO-2026-000451 in the ERP with 20 CS of ITM-1002 and 10 BX of ITM-1003 received."""
    with_procurement_seed(systems)
    erp = systems.procurement
    await erp.create_purchase_order(purchase_order(), idempotency_key="seed")
    await erp.record_receipt(
        "PO-2026-000451",
        [ReceiptLine(line=1, quantity=Decimal(20), uom="CS"), ReceiptLine(line=2, quantity=Decimal(10), uom="BX")],
        received_by="dock",
        idempotency_key="seed-receipt",
    )
    systems.ap.disputes["DSP-1"] = Dispute(
        dispute_id="DSP-1",
        supplier_id="SUP-0002",
        invoice_number="NSS-870001",
        kind="price_variance",
        status="resolved",
        amount=Decimal("42.00"),
        opened_on="2026-03-02",
        resolution="credit memo received",
    )
    return systems


async def resolve(handle, action: ExceptionAction) -> InvoiceStatus:  # type: ignore[no-untyped-def]
    status: InvoiceStatus = await handle.execute_update(
        InvoiceWorkflow.resolve_exception,
        ExceptionResolution(action=action, reason="agreed with the supplier", resolved_by="ana"),
    )
    return status


async def exception_of(handle):  # type: ignore[no-untyped-def]
    status = await until(handle, lambda s: s.open_exception is not None, invoice_run=True)
    return status.open_exception


async def test_clean_invoice_is_approved_for_payment_once(harness: Harness) -> None:
    s = harness.systems
    result: InvoiceResult = await (await start_invoice(harness, invoice("inv-clean"))).result()

    assert result.outcome is InvoiceOutcome.APPROVED and result.discrepancies == []
    assert result.approved_amount == Decimal("2818.00")  # 20 x 84.50 + 10 x 112.80
    assert s.ap.approvals == [result.ap_invoice_id]
    voucher = s.procurement.invoices[result.erp_invoice_id]  # type: ignore[index]
    assert voucher.status == "approved" and [(m.po_line, m.quantity) for m in voucher.matched_lines] == [
        (1, 20),
        (2, 10),
    ]


async def test_price_variance_goes_to_pricing_with_contract_receipts_and_dispute_history(harness: Harness) -> None:
    handle = await start_invoice(harness, invoice("inv-price-variance"))
    exception = await exception_of(handle)

    assert exception.team == "pricing" and [d.kind for d in exception.discrepancies] == ["price_variance"]
    assert "91.25" in exception.summary and "84.50" in exception.summary
    pricing = exception.evidence["contract_pricing"]
    assert pricing["contract_id"] == "CTR-2026-0107" and pricing["lines"][0]["contract_price"] == "84.50"
    assert exception.evidence["receipt_status"][0]["status"] == "fully received"
    assert exception.evidence["dispute_history"]["recent"][0]["dispute_id"] == "DSP-1"
    s = harness.systems
    captured = next(iter(s.ap.invoices.values()))
    assert captured.status == "exception" and s.ap.approvals == []
    assert [h.code for h in next(iter(s.procurement.invoices.values())).holds] == ["price_variance"]

    await resolve(handle, ExceptionAction.ACCEPT_VARIANCE)
    result: InvoiceResult = await handle.result()
    assert result.outcome is InvoiceOutcome.APPROVED_WITH_VARIANCE
    assert result.approved_amount == Decimal("2953.00") and s.ap.approvals == [captured.ap_invoice_id]
    assert s.ap.disputes[f"DSP-{handle.id}"].status == "resolved"


async def test_over_receipt_goes_to_receiving_and_short_pay_pays_what_was_received(harness: Harness) -> None:
    handle = await start_invoice(harness, invoice("inv-over-receipt"))
    exception = await exception_of(handle)
    assert exception.team == "receiving" and [d.kind for d in exception.discrepancies] == ["quantity_variance"]
    assert exception.discrepancies[0].po_line == 1 and "25" in exception.discrepancies[0].message

    await resolve(handle, ExceptionAction.SHORT_PAY)
    result: InvoiceResult = await handle.result()
    assert result.outcome is InvoiceOutcome.SHORT_PAID and result.approved_amount == Decimal("2818.00")


@pytest.mark.parametrize(
    ("action", "outcome", "ap_status", "voucher_status"),
    [
        (ExceptionAction.REJECT, InvoiceOutcome.REJECTED, "rejected", "cancelled"),
        (ExceptionAction.REQUEST_CREDIT_MEMO, InvoiceOutcome.CREDIT_MEMO_REQUESTED, "credit_memo_requested", "on_hold"),
    ],
)
async def test_reject_and_credit_memo_are_applied_in_ap_and_the_erp(
    harness: Harness, action: ExceptionAction, outcome: InvoiceOutcome, ap_status: str, voucher_status: str
) -> None:
    handle = await start_invoice(harness, invoice("inv-price-variance"))
    await exception_of(handle)
    await refused(resolve(handle, ExceptionAction.APPROVE), "does not apply")
    await resolve(handle, action)
    result: InvoiceResult = await handle.result()

    s = harness.systems
    assert result.outcome is outcome and s.ap.approvals == []
    assert next(iter(s.ap.invoices.values())).status == ap_status
    assert next(iter(s.procurement.invoices.values())).status == voucher_status


async def test_an_unresolved_exception_escalates_to_the_team_managers(harness: Harness) -> None:
    policy = InvoicePolicy(resolution_sla=timedelta(hours=8))
    handle = await start_invoice(harness, invoice("inv-over-receipt"), policy)
    await exception_of(handle)
    await harness.env.sleep(timedelta(hours=9))
    status = await until(handle, lambda s: s.escalation_level == 1, invoice_run=True)
    assert status.open_exception.team == "receiving-managers" and status.assigned_team == "receiving-managers"
    assert "invoice.exception_escalated" in harness.systems.store.event_types()


async def test_a_duplicate_is_refused_and_never_paid_twice(harness: Harness) -> None:
    s = harness.systems
    first: InvoiceResult = await (await start_invoice(harness, invoice("inv-clean"))).result()
    # Same workflow id after the first completed: the id may run again, AP catches the duplicate.
    again: InvoiceResult = await (await start_invoice(harness, invoice("inv-duplicate"))).result()
    spaced: InvoiceResult = await (
        await start_invoice(harness, invoice("inv-duplicate", invoice_number="nss-0889120"), suffix="-spaced")
    ).result()

    assert first.outcome is InvoiceOutcome.APPROVED
    for duplicate in (again, spaced):
        assert duplicate.outcome is InvoiceOutcome.DUPLICATE_INVOICE and duplicate.duplicate_of == first.ap_invoice_id
        assert [d.kind for d in duplicate.discrepancies if d.kind == "duplicate_invoice"] == ["duplicate_invoice"]
    assert s.ap.approvals == [first.ap_invoice_id] and len(s.ap.invoices) == 1


async def test_an_invoice_for_an_unknown_po_goes_to_accounts_payable(harness: Harness) -> None:
    handle = await start_invoice(harness, invoice("inv-clean", po_number="PO-2026-999999"))
    exception = await exception_of(handle)
    assert exception.team == "accounts-payable"
    assert {d.kind for d in exception.discrepancies} == {"unknown_po_line"}
    assert "does not exist" in exception.discrepancies[0].message


async def test_an_approved_invoice_closes_its_fully_received_po(harness: Harness) -> None:
    harness.systems.procurement.pos.clear()
    harness.systems.procurement.receipts.clear()
    po_handle = await open_po(harness, purchase_order())
    await receive(po_handle, 1, "20")
    await receive(po_handle, 2, "10")
    result: InvoiceResult = await (await start_invoice(harness, invoice("inv-clean"))).result()

    assert result.outcome is InvoiceOutcome.APPROVED
    po_result: PoResult = await po_handle.result()
    assert po_result.outcome is PoOutcome.CLOSED and po_result.invoices == [result.workflow_id]
