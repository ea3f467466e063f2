"""The procurement contract (adapters/erp_procurement.py `ErpProcurementPort`), the same for every
ERP: purchase orders, receipts and invoice vouchers.

Every test makes its own POs (numbers unique to it, `TestIds`) to seeded suppliers and items:
SUP-0002 buys ITM-1002 by the case (CS) and ITM-1003 by the box (BX), as in
examples/purchase-orders/po-northgate-gowns.json.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from adapters.errors import BusinessRuleError, NotFoundError
from domain.purchasing import Invoice, PurchaseOrder, Receipt, ReceiptLine
from domain.system_records import (
    ErpInvoiceDraft,
    ErpInvoiceHold,
    ErpPoLineChange,
    ErpPoStatus,
    ErpPurchaseOrder,
    MatchedLine,
)
from tests.contracts.conftest import ErpUnderTest, TestIds, answered_despite_lost_answers, use_small_pages
from tests.examples import example_json

NEED_BY = date(2026, 12, 15)
ORDER_AMOUNT = Decimal("2818.00")  # 20 CS x 84.50 + 10 BX x 112.80


def purchase_order(ids: TestIds, supplier_id: str = "SUP-0002") -> PurchaseOrder:
    return PurchaseOrder.model_validate(
        {
            **example_json("purchase-orders/po-northgate-gowns.json"),
            "po_number": ids.po_number(),
            "supplier_id": supplier_id,
        }
    )


async def opened(erp: ErpUnderTest, ids: TestIds, supplier_id: str = "SUP-0002") -> ErpPurchaseOrder:
    po = purchase_order(ids, supplier_id)
    return await erp.procurement.create_purchase_order(po, idempotency_key=ids.key("po"))


def lines_of(po: ErpPurchaseOrder) -> list[tuple[int, str, str, str, Decimal, str]]:
    """Quantities in their text form: what callers show and sum (Tryton's 20.0 must read 20)."""
    return [(ln.line, ln.item_id, str(ln.quantity), ln.uom, ln.unit_price, ln.status) for ln in po.lines]


async def received(erp: ErpUnderTest, ids: TestIds, po_number: str, line: int, quantity: str, uom: str) -> Receipt:
    lines = [ReceiptLine(line=line, quantity=Decimal(quantity), uom=uom)]
    return await erp.procurement.record_receipt(po_number, lines, received_by="dock-2", idempotency_key=ids.key("rcv"))


def voucher_draft(ids: TestIds, po_number: str, *, status: str = "on_hold") -> ErpInvoiceDraft:
    invoice = Invoice.model_validate(
        {**example_json("invoices/inv-clean.json"), "invoice_number": ids.invoice_number(), "po_number": po_number}
    )
    holds = [ErpInvoiceHold(code="price_variance", reason="unit price above the PO")] if status == "on_hold" else []
    return ErpInvoiceDraft(invoice=invoice, status=status, holds=holds)


OPEN_LINES = [
    (1, "ITM-1002", "20", "CS", Decimal("84.50"), "open"),
    (2, "ITM-1003", "10", "BX", Decimal("112.80"), "open"),
]


# --- purchase orders ------------------------------------------------------------------------


async def test_a_po_is_created_open_with_its_lines_once_per_key(erp: ErpUnderTest, ids: TestIds) -> None:
    po, key = purchase_order(ids), ids.key("po")
    created = await erp.procurement.create_purchase_order(po, idempotency_key=key)

    assert (created.po_number, created.supplier_id, created.currency) == (po.po_number, "SUP-0002", "USD")
    assert (created.status, created.hold) == (ErpPoStatus.OPEN, None)
    assert lines_of(created) == OPEN_LINES
    assert [line.need_by for line in created.lines] == [NEED_BY, NEED_BY]
    assert created.order_date is not None
    assert await erp.procurement.create_purchase_order(po, idempotency_key=key) == created
    assert await erp.procurement.get_purchase_order(po.po_number) == created
    listed = [p.po_number async for p in erp.procurement.list_purchase_orders(supplier_id="SUP-0002")]
    assert listed.count(po.po_number) == 1


async def test_a_po_number_made_by_another_request_is_refused(erp: ErpUnderTest, ids: TestIds) -> None:
    po = purchase_order(ids)
    first = await erp.procurement.create_purchase_order(po, idempotency_key=ids.key("po"))

    with pytest.raises(BusinessRuleError) as refused:
        await erp.procurement.create_purchase_order(po, idempotency_key=ids.key("other"))

    assert refused.value.code == "duplicate_po_number"
    assert await erp.procurement.get_purchase_order(po.po_number) == first


async def test_an_unknown_po_is_not_found(erp: ErpUnderTest, ids: TestIds) -> None:
    with pytest.raises(NotFoundError) as missing:
        await erp.procurement.get_purchase_order(ids.po_number())
    assert missing.value.code == "not_found"


async def test_pos_are_listed_by_supplier_and_status_across_pages(
    erp: ErpUnderTest, ids: TestIds, monkeypatch: pytest.MonkeyPatch
) -> None:
    """With pages of 2 (where the ERP's adapter has a page size), a listing spans pages."""
    use_small_pages(erp, monkeypatch)
    kept = [(await opened(erp, ids, "SUP-0003")).po_number for _ in range(2)]
    dropped = await opened(erp, ids, "SUP-0003")
    await erp.procurement.cancel_purchase_order(dropped.po_number, "not needed", idempotency_key=ids.key("c"))
    ours = {*kept, dropped.po_number}

    by_supplier = [p async for p in erp.procurement.list_purchase_orders(supplier_id="SUP-0003")]
    assert {p.supplier_id for p in by_supplier} == {"SUP-0003"}
    assert sorted(p.po_number for p in by_supplier if p.po_number in ours) == sorted(ours)
    cancelled = [p async for p in erp.procurement.list_purchase_orders(supplier_id="SUP-0003", status="cancelled")]
    assert {(p.supplier_id, p.status) for p in cancelled} == {("SUP-0003", ErpPoStatus.CANCELLED)}
    assert [p.po_number for p in cancelled if p.po_number in ours] == [dropped.po_number]
    still_open = [p.po_number async for p in erp.procurement.list_purchase_orders(status="open")]
    assert [n for n in still_open if n in ours] == kept


async def test_a_line_change_sets_the_given_fields_once_per_key(erp: ErpUnderTest, ids: TestIds) -> None:
    po_number, key = (await opened(erp, ids)).po_number, ids.key("line")
    change = ErpPoLineChange(
        quantity=Decimal(25),
        unit_price=Decimal("80.00"),
        promised_date=date(2026, 12, 20),
        backordered_quantity=Decimal(5),
    )

    changed = await erp.procurement.change_po_line(po_number, 1, change, idempotency_key=key)

    line = changed.line(1)
    assert line is not None
    assert (line.quantity, line.unit_price, line.uom, line.status) == (Decimal(25), Decimal("80.00"), "CS", "open")
    assert (line.promised_date, line.backordered_quantity) == (date(2026, 12, 20), Decimal(5))
    assert lines_of(changed)[1] == OPEN_LINES[1]
    assert await erp.procurement.change_po_line(po_number, 1, change, idempotency_key=key) == changed
    assert await erp.procurement.get_purchase_order(po_number) == changed

    dropped = await erp.procurement.change_po_line(
        po_number, 2, ErpPoLineChange(status="cancelled"), idempotency_key=ids.key("drop")
    )
    assert [ln.status for ln in dropped.lines] == ["open", "cancelled"]
    with pytest.raises(NotFoundError):
        await erp.procurement.change_po_line(
            po_number, 9, ErpPoLineChange(quantity=Decimal(1)), idempotency_key=ids.key("x")
        )


async def test_a_hold_is_placed_and_released(erp: ErpUnderTest, ids: TestIds) -> None:
    po_number = (await opened(erp, ids)).po_number

    held = await erp.procurement.hold_purchase_order(
        po_number, "supplier suspended", kind="supplier_status", idempotency_key=ids.key("hold")
    )
    assert held.status is ErpPoStatus.OPEN and held.hold is not None
    assert (held.hold.reason, held.hold.kind) == ("supplier suspended", "supplier_status")
    assert (await erp.procurement.get_purchase_order(po_number)).hold == held.hold

    released = await erp.procurement.release_purchase_order(po_number, "reinstated", idempotency_key=ids.key("rel"))
    assert (released.status, released.hold) == (ErpPoStatus.OPEN, None)
    assert lines_of(released) == OPEN_LINES


async def test_an_open_po_is_cancelled_and_cancelling_again_changes_nothing(erp: ErpUnderTest, ids: TestIds) -> None:
    po_number = (await opened(erp, ids)).po_number

    cancelled = await erp.procurement.cancel_purchase_order(po_number, "not needed", idempotency_key=ids.key("c1"))
    again = await erp.procurement.cancel_purchase_order(po_number, "still not needed", idempotency_key=ids.key("c2"))

    assert (cancelled.status, cancelled.status_reason) == (ErpPoStatus.CANCELLED, "not needed")
    assert again == cancelled == await erp.procurement.get_purchase_order(po_number)


async def test_a_po_with_receipts_is_not_cancelled(erp: ErpUnderTest, ids: TestIds) -> None:
    po_number = (await opened(erp, ids)).po_number
    await received(erp, ids, po_number, 1, "5", "CS")

    with pytest.raises(BusinessRuleError) as refused:
        await erp.procurement.cancel_purchase_order(po_number, "changed mind", idempotency_key=ids.key("c"))

    assert refused.value.code == "has_receipts"
    assert (await erp.procurement.get_purchase_order(po_number)).status is ErpPoStatus.OPEN


async def test_a_closed_po_takes_no_receipts_holds_or_cancel(erp: ErpUnderTest, ids: TestIds) -> None:
    po_number = (await opened(erp, ids)).po_number
    await received(erp, ids, po_number, 1, "20", "CS")

    closed = await erp.procurement.close_purchase_order(po_number, "complete", idempotency_key=ids.key("close"))
    assert (closed.status, closed.status_reason) == (ErpPoStatus.CLOSED, "complete")
    assert await erp.procurement.get_purchase_order(po_number) == closed

    with pytest.raises(BusinessRuleError) as no_receipt:
        await received(erp, ids, po_number, 2, "1", "BX")
    with pytest.raises(BusinessRuleError) as no_hold:
        await erp.procurement.hold_purchase_order(po_number, "x", kind="manual", idempotency_key=ids.key("h"))
    with pytest.raises(BusinessRuleError) as no_cancel:
        await erp.procurement.cancel_purchase_order(po_number, "x", idempotency_key=ids.key("c"))
    assert (no_receipt.value.code, no_hold.value.code, no_cancel.value.code) == (
        "po_not_open",
        "po_not_open",
        "po_closed",
    )


# --- receipts -------------------------------------------------------------------------------


async def test_a_receipt_is_recorded_once_per_key_and_listed(erp: ErpUnderTest, ids: TestIds) -> None:
    po_number, key = (await opened(erp, ids)).po_number, ids.key("rcv")
    lines = [ReceiptLine(line=1, quantity=Decimal(12), uom="CS"), ReceiptLine(line=2, quantity=Decimal(10), uom="BX")]

    receipt = await erp.procurement.record_receipt(po_number, lines, received_by="dock-2", idempotency_key=key)
    again = await erp.procurement.record_receipt(po_number, lines, received_by="dock-2", idempotency_key=key)

    assert again == receipt and receipt.receipt_id
    assert (receipt.po_number, receipt.received_by) == (po_number, "dock-2")
    # In the text form callers show and sum (Tryton keeps quantities as floats: 12.0 must read 12)
    assert [(ln.line, str(ln.quantity), ln.uom) for ln in receipt.lines] == [(1, "12", "CS"), (2, "10", "BX")]
    assert await erp.procurement.list_receipts(po_number) == [receipt]

    rest = await received(erp, ids, po_number, 1, "8", "CS")
    assert [r.receipt_id for r in await erp.procurement.list_receipts(po_number)] == [
        receipt.receipt_id,
        rest.receipt_id,
    ]


async def test_a_receipt_for_an_unknown_line_is_refused(erp: ErpUnderTest, ids: TestIds) -> None:
    po_number = (await opened(erp, ids)).po_number

    with pytest.raises(BusinessRuleError) as refused:
        await received(erp, ids, po_number, 9, "1", "CS")

    assert refused.value.code == "unknown_line"
    assert await erp.procurement.list_receipts(po_number) == []


async def test_an_over_receipt_is_recorded(erp: ErpUnderTest, ids: TestIds) -> None:
    """An ERP records what arrived: more than a line still expects (20 CS ordered, 15 received,
    6 more) is a second receipt like any other. Judging quantities is the PO workflow's job,
    before it calls the ERP; a dock may still receive more."""
    po_number = (await opened(erp, ids)).po_number
    first = await received(erp, ids, po_number, 1, "15", "CS")

    beyond = await received(erp, ids, po_number, 1, "6", "CS")

    assert beyond.receipt_id and beyond.receipt_id != first.receipt_id
    assert [(ln.line, ln.quantity, ln.uom) for ln in beyond.lines] == [(1, Decimal(6), "CS")]
    listed = await erp.procurement.list_receipts(po_number)
    assert listed == [first, beyond]
    assert [[(ln.line, ln.quantity, ln.uom) for ln in r.lines] for r in listed] == [
        [(1, Decimal(15), "CS")],
        [(1, Decimal(6), "CS")],
    ]
    assert (await erp.procurement.get_purchase_order(po_number)).status is ErpPoStatus.OPEN


# --- invoice vouchers -----------------------------------------------------------------------


async def test_a_voucher_is_created_once_per_key_and_listed(erp: ErpUnderTest, ids: TestIds) -> None:
    po_number = (await opened(erp, ids)).po_number
    draft, key = voucher_draft(ids, po_number), ids.key("voucher")

    voucher = await erp.procurement.create_invoice(draft, idempotency_key=key)
    again = await erp.procurement.create_invoice(draft, idempotency_key=key)

    assert again == voucher and voucher.erp_invoice_id
    assert (voucher.invoice_number, voucher.supplier_id, voucher.po_number) == (
        draft.invoice.invoice_number,
        "SUP-0002",
        po_number,
    )
    assert (voucher.status, voucher.amount, voucher.payment_status) == ("on_hold", ORDER_AMOUNT, "unpaid")
    assert [(h.code, h.reason) for h in voucher.holds] == [("price_variance", "unit price above the PO")]
    assert await erp.procurement.list_invoices(po_number=po_number) == [voucher]
    by_supplier = await erp.procurement.list_invoices(supplier_id="SUP-0002")
    assert {v.supplier_id for v in by_supplier} == {"SUP-0002"}
    assert [v.erp_invoice_id for v in by_supplier].count(voucher.erp_invoice_id) == 1


async def test_a_held_voucher_is_released_with_its_matched_lines(erp: ErpUnderTest, ids: TestIds) -> None:
    po_number = (await opened(erp, ids)).po_number
    await received(erp, ids, po_number, 1, "20", "CS")
    await received(erp, ids, po_number, 2, "10", "BX")
    voucher = await erp.procurement.create_invoice(voucher_draft(ids, po_number), idempotency_key=ids.key("v"))
    matched = [MatchedLine(po_line=1, quantity=Decimal(20)), MatchedLine(po_line=2, quantity=Decimal(10))]

    released = await erp.procurement.release_invoice(
        voucher.erp_invoice_id, "variance accepted", approved_amount="2818.00", matched_lines=matched,
        idempotency_key=ids.key("release"),
    )  # fmt: skip

    assert (released.erp_invoice_id, released.status, released.holds) == (voucher.erp_invoice_id, "approved", [])
    assert (released.amount, released.approved_amount) == (ORDER_AMOUNT, ORDER_AMOUNT)
    assert [(m.po_line, m.quantity) for m in released.matched_lines] == [(1, Decimal(20)), (2, Decimal(10))]
    assert await erp.procurement.list_invoices(po_number=po_number) == [released]
    with pytest.raises(BusinessRuleError) as refused:
        await erp.procurement.cancel_invoice(voucher.erp_invoice_id, "dispute", idempotency_key=ids.key("c"))
    assert refused.value.code == "invoice_approved"


async def test_a_held_voucher_is_cancelled_and_then_not_released(erp: ErpUnderTest, ids: TestIds) -> None:
    po_number = (await opened(erp, ids)).po_number
    voucher = await erp.procurement.create_invoice(voucher_draft(ids, po_number), idempotency_key=ids.key("v"))

    cancelled = await erp.procurement.cancel_invoice(voucher.erp_invoice_id, "duplicate", idempotency_key=ids.key("c"))

    assert (cancelled.erp_invoice_id, cancelled.status, cancelled.approved_amount) == (
        voucher.erp_invoice_id,
        "cancelled",
        None,
    )
    assert await erp.procurement.list_invoices(po_number=po_number) == [cancelled]
    with pytest.raises(BusinessRuleError) as refused:
        await erp.procurement.release_invoice(
            voucher.erp_invoice_id, "late", approved_amount="0", matched_lines=[], idempotency_key=ids.key("r")
        )
    assert refused.value.code == "invoice_cancelled"


# --- lost answers ---------------------------------------------------------------------------


async def test_a_po_whose_answers_are_lost_is_made_once(erp_losing_answers: ErpUnderTest, ids: TestIds) -> None:
    erp = erp_losing_answers
    po, key = purchase_order(ids), ids.key("po")

    created = await answered_despite_lost_answers(
        lambda: erp.procurement.create_purchase_order(po, idempotency_key=key)
    )

    assert erp.transport is not None and erp.transport.lost  # an answer was lost, and retried
    assert (created.po_number, created.status, lines_of(created)) == (po.po_number, ErpPoStatus.OPEN, OPEN_LINES)
    listed = [p.po_number async for p in erp.procurement.list_purchase_orders(supplier_id="SUP-0002")]
    assert listed.count(po.po_number) == 1
    assert await erp.procurement.get_purchase_order(po.po_number) == created
