"""`TrytonProcurement` against a real Tryton (JSON-RPC only): what each method leaves in Tryton,
read back with search_read (purchase, shipment and invoice states), and its idempotent retries.

The module shares one bootstrapped database (`tryton_endpoint`, tests/tryton/conftest.py: the
seed items and suppliers, fiscal years, the company); each test uses its own PO numbers."""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Any

import pytest

from adapters.errors import BusinessRuleError, NotFoundError, TransientError
from adapters.tryton.procurement import TrytonProcurement
from adapters.tryton.rpc import TrytonRpc
from domain.purchasing import Invoice, PurchaseOrder, ReceiptLine
from domain.system_records import ErpInvoiceDraft, ErpInvoiceHold, ErpPoLineChange, MatchedLine
from runtime.tryton_server import TrytonEndpoint
from tests.examples import example_json


@pytest.fixture
async def rpc(tryton_endpoint: TrytonEndpoint) -> AsyncIterator[TrytonRpc]:
    async with tryton_endpoint.rpc() as client:
        yield client


@pytest.fixture
async def erp(rpc: TrytonRpc) -> TrytonProcurement:
    return TrytonProcurement(rpc)


def po(po_number: str, **changes: object) -> PurchaseOrder:
    return PurchaseOrder.model_validate(
        {**example_json("purchase-orders/po-northgate-gowns.json"), "po_number": po_number, **changes}
    )


def invoice(po_number: str, number: str) -> Invoice:
    return Invoice.model_validate(
        {**example_json("invoices/inv-clean.json"), "po_number": po_number, "invoice_number": number}
    )


async def purchase_of(rpc: TrytonRpc, po_number: str) -> dict[str, Any]:
    [found] = await rpc.search_read(
        "purchase.purchase", [("reference", "=", po_number)], ["id", "state", "number", "party.code", "comment"]
    )
    return found


async def lines_of(rpc: TrytonRpc, purchase_id: int) -> dict[int, dict[str, Any]]:
    rows = await rpc.search_read(
        "purchase.line", [("purchase", "=", purchase_id)], ["id", "sequence", "quantity", "unit.symbol", "unit_price"]
    )
    return {row["sequence"]: row for row in rows}


async def test_a_po_is_a_tryton_quotation_created_once_per_key(erp: TrytonProcurement, rpc: TrytonRpc) -> None:
    first = await erp.create_purchase_order(po("PO-T-1"), idempotency_key="k1")
    assert await erp.create_purchase_order(po("PO-T-1"), idempotency_key="k1") == first
    assert first.status == "open" and first.supplier_id == "SUP-0002" and first.ship_to == "LOC-OR-02"
    assert [(line.line, line.quantity, line.uom) for line in first.lines] == [(1, 20, "CS"), (2, 10, "BX")]
    assert first.lines[0].need_by == dt.date(2026, 12, 15) and first.lines[1].unit_price == Decimal("112.80")
    purchase = await purchase_of(rpc, "PO-T-1")
    assert purchase["state"] == "quotation" and purchase["number"] and purchase["party."]["code"] == "SUP-0002"
    lines = await lines_of(rpc, purchase["id"])
    assert (lines[1]["quantity"], lines[1]["unit."]["symbol"], lines[2]["unit_price"]) == (20, "CS", Decimal("112.80"))

    with pytest.raises(BusinessRuleError) as duplicate:
        await erp.create_purchase_order(po("PO-T-1"), idempotency_key="k2")
    assert duplicate.value.code == "duplicate_po_number"
    with pytest.raises(BusinessRuleError) as unknown:
        await erp.create_purchase_order(po("PO-T-X", supplier_id="SUP-9999"), idempotency_key="k3")
    assert unknown.value.code == "unknown_supplier"
    with pytest.raises(NotFoundError):
        await erp.get_purchase_order("PO-T-NONE")
    assert "PO-T-1" in [p.po_number async for p in erp.list_purchase_orders(supplier_id="SUP-0002", status="open")]
    assert [p.po_number async for p in erp.list_purchase_orders(supplier_id="SUP-0001")] == []


async def test_line_changes_holds_and_cancel_show_in_tryton(erp: TrytonProcurement, rpc: TrytonRpc) -> None:
    await erp.create_purchase_order(po("PO-T-2"), idempotency_key="create")
    change = ErpPoLineChange(quantity=Decimal(15), unit_price=Decimal("80.00"), backordered_quantity=Decimal(5))
    changed = await erp.change_po_line("PO-T-2", 1, change, idempotency_key="line")
    assert await erp.change_po_line("PO-T-2", 1, change, idempotency_key="line") == changed
    assert (changed.lines[0].quantity, changed.lines[0].backordered_quantity) == (15, 5)
    purchase = await purchase_of(rpc, "PO-T-2")
    assert purchase["state"] == "quotation"  # back to draft for the write, then quoted again
    assert (await lines_of(rpc, purchase["id"]))[1]["unit_price"] == Decimal("80.00")
    dropped = await erp.change_po_line("PO-T-2", 2, ErpPoLineChange(status="cancelled"), idempotency_key="l2")
    assert (dropped.lines[1].status, dropped.lines[1].quantity) == ("cancelled", 10)
    assert (await lines_of(rpc, purchase["id"]))[2]["quantity"] == 0

    held = await erp.hold_purchase_order("PO-T-2", "suspended", kind="supplier_status", idempotency_key="h")
    assert held.hold is not None and held.hold.kind == "supplier_status"
    assert await erp.hold_purchase_order("PO-T-2", "suspended", kind="supplier_status", idempotency_key="h") == held
    assert "on hold (supplier_status): suspended" in (await purchase_of(rpc, "PO-T-2"))["comment"]
    released = await erp.release_purchase_order("PO-T-2", "reinstated", idempotency_key="r")
    assert released.hold is None and released.status_reason == "reinstated"

    cancelled = await erp.cancel_purchase_order("PO-T-2", "not needed", idempotency_key="c")
    assert cancelled.status == "cancelled" and (await purchase_of(rpc, "PO-T-2"))["state"] == "cancelled"
    assert (await erp.cancel_purchase_order("PO-T-2", "again", idempotency_key="c2")).status == "cancelled"
    with pytest.raises(BusinessRuleError) as not_open:
        await erp.hold_purchase_order("PO-T-2", "x", kind="manual", idempotency_key="h2")
    assert not_open.value.code == "po_not_open"


async def test_receipts_are_done_incoming_shipments(erp: TrytonProcurement, rpc: TrytonRpc) -> None:
    await erp.create_purchase_order(po("PO-T-3"), idempotency_key="create")
    part = [ReceiptLine(line=1, quantity=Decimal(5), uom="CS")]
    receipt = await erp.record_receipt("PO-T-3", part, received_by="dock", idempotency_key="rcv-1")
    assert await erp.record_receipt("PO-T-3", part, received_by="dock", idempotency_key="rcv-1") == receipt
    assert receipt.received_by == "dock" and [(r.line, r.quantity, r.uom) for r in receipt.lines] == [(1, 5, "CS")]
    [shipment] = await rpc.search_read("stock.shipment.in", [("reference", "=", "rcv-1")], ["number", "state"])
    assert shipment["state"] == "done" and shipment["number"] == receipt.receipt_id
    purchase = await purchase_of(rpc, "PO-T-3")
    assert purchase["state"] == "processing"
    waiting = await rpc.search_read(
        "stock.move", [("purchase", "=", purchase["id"]), ("state", "=", "draft")], ["quantity", "unit.symbol"]
    )
    assert sorted((m["quantity"], m["unit."]["symbol"]) for m in waiting) == [(10, "BX"), (15, "CS")]
    in_eaches = [ReceiptLine(line=2, quantity=Decimal(36), uom="EA")]
    await erp.record_receipt("PO-T-3", in_eaches, received_by="dock", idempotency_key="rcv-2")
    assert len(await erp.list_receipts("PO-T-3")) == 2

    for lines, code in (
        ([ReceiptLine(line=9, quantity=Decimal(1), uom="CS")], "unknown_line"),
        ([ReceiptLine(line=1, quantity=Decimal(-1), uom="CS")], "invalid_quantity"),
    ):
        with pytest.raises(BusinessRuleError) as refused:
            await erp.record_receipt("PO-T-3", lines, received_by="d", idempotency_key=f"bad-{code}")
        assert refused.value.code == code
    with pytest.raises(BusinessRuleError) as has_receipts:
        await erp.cancel_purchase_order("PO-T-3", "changed mind", idempotency_key="c")
    assert has_receipts.value.code == "has_receipts"
    with pytest.raises(BusinessRuleError) as frozen:
        await erp.change_po_line("PO-T-3", 1, ErpPoLineChange(quantity=Decimal(1)), idempotency_key="l")
    assert frozen.value.code == "has_receipts"

    closed = await erp.close_purchase_order("PO-T-3", "done", idempotency_key="close")
    assert closed.status == "closed" and closed.status_reason == "done"
    assert not await rpc.search_read("stock.move", [("purchase", "=", purchase["id"]), ("state", "=", "draft")], ["id"])
    with pytest.raises(BusinessRuleError) as not_open:
        await erp.record_receipt("PO-T-3", part, received_by="d", idempotency_key="rcv-3")
    assert not_open.value.code == "po_not_open"


async def test_vouchers_are_supplier_invoices_posted_when_approved(erp: TrytonProcurement, rpc: TrytonRpc) -> None:
    await erp.create_purchase_order(po("PO-T-4"), idempotency_key="create")
    held = ErpInvoiceDraft(
        invoice=invoice("PO-T-4", "NSS-1"), status="on_hold", holds=[ErpInvoiceHold(code="price_variance", reason="x")]
    )
    voucher = await erp.create_invoice(held, idempotency_key="v1")
    assert await erp.create_invoice(held, idempotency_key="v1") == voucher
    assert (voucher.status, voucher.amount, voucher.holds[0].code) == ("on_hold", Decimal("2818.00"), "price_variance")
    [row] = await rpc.search_read(
        "account.invoice", [("id", "=", int(voucher.erp_invoice_id))], ["state", "reference", "type", "lines"]
    )
    assert (row["state"], row["reference"], row["type"]) == ("draft", "NSS-1", "in")
    origins = await rpc.search_read("account.invoice.line", [("id", "in", row["lines"])], ["origin"])
    assert sorted(str(line["origin"]).split(",")[0] for line in origins) == ["purchase.line", "purchase.line"]

    released = await erp.release_invoice(
        voucher.erp_invoice_id,
        "accepted",
        approved_amount="2818.00",
        matched_lines=[MatchedLine(po_line=1, quantity=Decimal(20))],
        idempotency_key="v1-release",
    )
    assert released.status == "approved" and released.holds == [] and released.matched_lines[0].quantity == 20
    assert released.approved_amount == Decimal("2818.00")
    [posted] = await rpc.search_read("account.invoice", [("id", "=", int(voucher.erp_invoice_id))], ["state"])
    assert posted["state"] == "posted"
    with pytest.raises(BusinessRuleError) as approved:
        await erp.cancel_invoice(voucher.erp_invoice_id, "late", idempotency_key="c")
    assert approved.value.code == "invoice_approved"

    clean = ErpInvoiceDraft(invoice=invoice("PO-T-4", "NSS-2"), status="approved", approved_amount=Decimal("2818.00"))
    assert (await erp.create_invoice(clean, idempotency_key="v2")).status == "approved"
    other = await erp.create_invoice(
        held.model_copy(update={"invoice": invoice("PO-T-4", "NSS-3")}), idempotency_key="v3"
    )
    cancelled = await erp.cancel_invoice(other.erp_invoice_id, "rejected", idempotency_key="v3-cancel")
    assert cancelled.status == "cancelled"
    with pytest.raises(BusinessRuleError) as gone:
        await erp.release_invoice(
            other.erp_invoice_id, "x", approved_amount="1", matched_lines=[], idempotency_key="v3-release"
        )
    assert gone.value.code == "invoice_cancelled"
    listed = await erp.list_invoices(supplier_id="SUP-0002", po_number="PO-T-4")
    assert [v.invoice_number for v in listed] == ["NSS-1", "NSS-2", "NSS-3"]
    assert await erp.list_invoices(po_number="PO-T-NONE") == []


async def test_a_create_whose_answer_is_lost_is_finished_by_its_retry(
    erp: TrytonProcurement, rpc: TrytonRpc, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A create is two steps in Tryton (create, then `quote` a purchase / `post` an approved
    invoice). When the create's answer is lost, the retry finds the record by its key: it must
    take the second step too, not answer with a draft."""
    books = erp._books
    create = books.create

    async def answer_lost(model: str, values: Any) -> list[int]:
        await create(model, values)
        monkeypatch.setattr(books, "create", create)  # once
        raise TransientError("erp", f"{model}.create: the answer was lost")

    monkeypatch.setattr(books, "create", answer_lost)
    with pytest.raises(TransientError):
        await erp.create_purchase_order(po("PO-T-9"), idempotency_key="lost")
    assert (await purchase_of(rpc, "PO-T-9"))["state"] == "draft"  # made, never quoted
    assert (await erp.create_purchase_order(po("PO-T-9"), idempotency_key="lost")).status == "open"
    assert (await purchase_of(rpc, "PO-T-9"))["state"] == "quotation"

    monkeypatch.setattr(books, "create", answer_lost)
    clean = ErpInvoiceDraft(invoice=invoice("PO-T-9", "NSS-9"), status="approved", approved_amount=Decimal("2818.00"))
    with pytest.raises(TransientError):
        await erp.create_invoice(clean, idempotency_key="lost-invoice")
    voucher = await erp.create_invoice(clean, idempotency_key="lost-invoice")
    assert voucher.status == "approved"
    invoices = await rpc.search_read("account.invoice", [("reference", "=", "NSS-9")], ["state"])
    assert [row["state"] for row in invoices] == ["posted"]


async def test_a_line_change_whose_answer_is_lost_is_quoted_by_its_retry(
    erp: TrytonProcurement, rpc: TrytonRpc, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A quantity change is draft -> write -> quote in Tryton; the write's answer lost, the retry
    finds nothing left to write and must still quote the purchase again."""
    await erp.create_purchase_order(po("PO-T-10"), idempotency_key="create")
    books = erp._books
    write = books.write

    async def answer_lost(model: str, ids: Any, values: Any) -> None:
        await write(model, ids, values)
        monkeypatch.setattr(books, "write", write)  # once
        raise TransientError("erp", f"{model}.write: the answer was lost")

    monkeypatch.setattr(books, "write", answer_lost)
    change = ErpPoLineChange(quantity=Decimal(25))
    with pytest.raises(TransientError):
        await erp.change_po_line("PO-T-10", 1, change, idempotency_key="more")
    assert (await purchase_of(rpc, "PO-T-10"))["state"] == "draft"
    changed = await erp.change_po_line("PO-T-10", 1, change, idempotency_key="more")
    assert changed.lines[0].quantity == 25 and changed.status == "open"
    assert (await purchase_of(rpc, "PO-T-10"))["state"] == "quotation"
