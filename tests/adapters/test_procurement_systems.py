"""The procurement adapters against the real sandbox: ERP purchase orders, receipts and vouchers,
inventory reservations, the vendor channel's acknowledgements and AP, with their idempotent
replays and refusals."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from decimal import Decimal

import pytest

from adapters.accounts_payable_http import HttpAccountsPayable
from adapters.erp_procurement_http import HttpErpProcurement
from adapters.errors import BusinessRuleError
from adapters.http import SystemClient
from adapters.inventory_http import HttpInventory
from adapters.vendor_channel_http import HttpVendorChannel
from domain.purchasing import Invoice, PurchaseOrder, ReceiptLine
from domain.system_records import ErpInvoiceDraft, ErpPoLineChange, ReservationRequest, VendorNotification
from tests.examples import example_json
from tests.support.sandbox import RunningSandbox


def _client(sandbox: RunningSandbox, system: str) -> SystemClient:
    return SystemClient(system, sandbox.system_url(system), token=sandbox.token, timeout=5.0, attempts=1)


@pytest.fixture
async def erp(sandbox: RunningSandbox) -> AsyncIterator[HttpErpProcurement]:
    async with _client(sandbox, "erp") as client:
        yield HttpErpProcurement(client)


@pytest.fixture
async def inventory(sandbox: RunningSandbox) -> AsyncIterator[HttpInventory]:
    async with _client(sandbox, "inventory") as client:
        yield HttpInventory(client)


@pytest.fixture
async def channel(sandbox: RunningSandbox) -> AsyncIterator[HttpVendorChannel]:
    async with _client(sandbox, "vendor-channel") as client:
        yield HttpVendorChannel(client)


@pytest.fixture
async def ap(sandbox: RunningSandbox) -> AsyncIterator[HttpAccountsPayable]:
    async with _client(sandbox, "ap") as client:
        yield HttpAccountsPayable(client)


def po(**changes: object) -> PurchaseOrder:
    return PurchaseOrder.model_validate({**example_json("purchase-orders/po-northgate-gowns.json"), **changes})


def invoice(**changes: object) -> Invoice:
    return Invoice.model_validate({**example_json("invoices/inv-clean.json"), **changes})


async def test_a_po_is_created_once_per_key_and_its_number_is_unique(erp: HttpErpProcurement) -> None:
    first = await erp.create_purchase_order(po(), idempotency_key="k1")
    again = await erp.create_purchase_order(po(), idempotency_key="k1")
    assert first == again and first.status == "open" and first.lines[0].need_by is not None
    with pytest.raises(BusinessRuleError) as refused:
        await erp.create_purchase_order(po(), idempotency_key="k2")
    assert refused.value.code == "duplicate_po_number"
    assert [p.po_number async for p in erp.list_purchase_orders(supplier_id="SUP-0002")] == ["PO-2026-000451"]
    with pytest.raises(BusinessRuleError) as unknown:
        await erp.create_purchase_order(po(po_number="PO-X-1", supplier_id="SUP-9999"), idempotency_key="k3")
    assert unknown.value.code == "unknown_supplier"


async def test_lines_holds_receipts_cancel_and_close(erp: HttpErpProcurement) -> None:
    await erp.create_purchase_order(po(), idempotency_key="create")
    changed = await erp.change_po_line(
        "PO-2026-000451", 1, ErpPoLineChange(backordered_quantity=Decimal(5)), idempotency_key="line"
    )
    assert changed.lines[0].backordered_quantity == 5
    held = await erp.hold_purchase_order("PO-2026-000451", "suspended", kind="supplier_status", idempotency_key="h")
    assert held.hold is not None and held.hold.kind == "supplier_status"
    assert (await erp.release_purchase_order("PO-2026-000451", "reinstated", idempotency_key="r")).hold is None

    receipt = await erp.record_receipt(
        "PO-2026-000451",
        [ReceiptLine(line=1, quantity=Decimal(20), uom="CS")],
        received_by="dock",
        idempotency_key="r1",
    )
    again = await erp.record_receipt(
        "PO-2026-000451",
        [ReceiptLine(line=1, quantity=Decimal(20), uom="CS")],
        received_by="dock",
        idempotency_key="r1",
    )
    assert receipt == again and len(await erp.list_receipts("PO-2026-000451")) == 1
    with pytest.raises(BusinessRuleError) as unknown_line:
        await erp.record_receipt(
            "PO-2026-000451",
            [ReceiptLine(line=9, quantity=Decimal(1), uom="CS")],
            received_by="d",
            idempotency_key="r2",
        )
    assert unknown_line.value.code == "unknown_line"
    with pytest.raises(BusinessRuleError) as has_receipts:
        await erp.cancel_purchase_order("PO-2026-000451", "changed mind", idempotency_key="c")
    assert has_receipts.value.code == "has_receipts"
    closed = await erp.close_purchase_order("PO-2026-000451", "done", idempotency_key="close")
    assert closed.status == "closed"
    with pytest.raises(BusinessRuleError) as not_open:
        await erp.record_receipt(
            "PO-2026-000451",
            [ReceiptLine(line=2, quantity=Decimal(1), uom="BX")],
            received_by="d",
            idempotency_key="r3",
        )
    assert not_open.value.code == "po_not_open"


async def test_vouchers_are_held_then_released_with_their_matched_lines(erp: HttpErpProcurement) -> None:
    from domain.system_records import ErpInvoiceHold, MatchedLine

    draft = ErpInvoiceDraft(
        invoice=invoice(), status="on_hold", holds=[ErpInvoiceHold(code="price_variance", reason="x")]
    )
    voucher = await erp.create_invoice(draft, idempotency_key="v1")
    assert voucher.status == "on_hold" and voucher.amount == Decimal("2818.00")
    released = await erp.release_invoice(
        voucher.erp_invoice_id,
        "accepted",
        approved_amount="2818.00",
        matched_lines=[MatchedLine(po_line=1, quantity=Decimal(20))],
        idempotency_key="v1-release",
    )
    assert released.status == "approved" and released.holds == [] and released.matched_lines[0].quantity == 20
    assert [v.erp_invoice_id for v in await erp.list_invoices(po_number="PO-2026-000451")] == [voucher.erp_invoice_id]


async def test_reservations_convert_units_and_move_stock_on_fulfilment(inventory: HttpInventory) -> None:
    [before] = await inventory.get_balances("LOC-OR-02", ["ITM-1002"])
    assert (before.on_hand, before.par, before.reserved) == (6, 20, 0)
    reservation = await inventory.reserve(
        ReservationRequest(
            location_id="LOC-OR-02", item_id="ITM-1002", quantity=Decimal(60), uom="EA", reference="P/1"
        ),
        idempotency_key="rsv",
    )
    [reserved] = await inventory.get_balances("LOC-OR-02", ["ITM-1002"])
    assert reserved.reserved == 2  # 60 EA are 2 CS
    done = await inventory.fulfil(reservation.reservation_id, Decimal(2), "CS", idempotency_key="f")
    [after] = await inventory.get_balances("LOC-OR-02", ["ITM-1002"])
    assert done.status == "fulfilled" and (after.on_hand, after.reserved) == (8, 0)

    other = await inventory.reserve(
        ReservationRequest(location_id="LOC-PH-03", item_id="ITM-1007", quantity=Decimal(3), uom="CS", reference="P/2"),
        idempotency_key="rsv2",
    )
    assert (await inventory.release(other.reservation_id, idempotency_key="rel")).status == "released"
    assert (await inventory.release("RSV-999999", idempotency_key="rel2")).status == "released"  # unknown: no-op


async def acknowledgement_of(channel: HttpVendorChannel, po_number: str, wait: float = 5.0):  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + wait
    while time.monotonic() < deadline:
        ack = await channel.get_acknowledgement(po_number)
        if ack is not None:
            return ack
        await asyncio.sleep(0.05)
    return None


def notification(po_number: str, supplier_id: str) -> VendorNotification:
    order = po(po_number=po_number, supplier_id=supplier_id)
    return VendorNotification(
        po_number=po_number,
        supplier_id=supplier_id,
        order_date=order.need_by,  # type: ignore[arg-type]
        ship_to=order.ship_to,
        currency="USD",
        lines=order.lines,
    )


async def test_each_supplier_answers_as_configured(channel: HttpVendorChannel, sandbox: RunningSandbox) -> None:
    for po_number, supplier in (("PO-A", "SUP-0002"), ("PO-B", "SUP-0001"), ("PO-C", "SUP-0003")):
        await channel.send_purchase_order(notification(po_number, supplier), idempotency_key=po_number)
        await channel.send_purchase_order(notification(po_number, supplier), idempotency_key=f"{po_number}-again")
    accepted, backordered = await acknowledgement_of(channel, "PO-A"), await acknowledgement_of(channel, "PO-B")
    assert [line.status for line in accepted.lines] == ["accepted", "accepted"]
    assert backordered.lines[0].status == "backordered" and backordered.lines[0].backordered_quantity == 10
    assert await acknowledgement_of(channel, "PO-C", wait=1.0) is None  # SUP-0003 never answers
    events = sandbox.admin("GET", "/vendor-channel/events")["items"]
    assert sorted(e["po_number"] for e in events) == ["PO-A", "PO-B"]  # one answer each, none for PO-C

    sandbox.admin("PUT", "/vendor-channel/admin/behaviours/SUP-0002", {"mode": "reject", "delay_seconds": 0})
    await channel.send_purchase_order(notification("PO-D", "SUP-0002"), idempotency_key="PO-D")
    assert {line.status for line in (await acknowledgement_of(channel, "PO-D")).lines} == {"rejected"}
    await channel.cancel_purchase_order("PO-C", "no answer", idempotency_key="cancel")
    await channel.cancel_purchase_order("PO-NEVER-SENT", "x", idempotency_key="cancel2")  # a no-op
    sandbox.reset()
    behaviours = sandbox.admin("GET", "/vendor-channel/admin/behaviours")
    assert "SUP-0002" not in behaviours and behaviours["*"]["mode"] == "accept"


async def test_ap_captures_once_and_approves_at_most_once(ap: HttpAccountsPayable) -> None:
    captured = await ap.capture(invoice(), captured_by="wf-1", idempotency_key="cap")
    assert captured.normalised_number == "NSS889120" and captured.amount == Decimal("2818.00")
    assert await ap.capture(invoice(), captured_by="wf-1", idempotency_key="cap") == captured
    with pytest.raises(BusinessRuleError) as duplicate:
        await ap.capture(invoice(invoice_number="nss-0889120"), captured_by="wf-2", idempotency_key="cap2")
    assert duplicate.value.code == "duplicate_invoice"
    assert [i.ap_invoice_id for i in await ap.find_invoices(supplier_id="SUP-0002", invoice_number="NSS 889120")] == [
        captured.ap_invoice_id
    ]

    first = await ap.approve(
        captured.ap_invoice_id, Decimal("2818.00"), reason="ok", approved_by="a", idempotency_key="1"
    )
    second = await ap.approve(
        captured.ap_invoice_id, Decimal("1.00"), reason="ok", approved_by="b", idempotency_key="2"
    )
    assert first.status == "approved" and second.approved_amount == Decimal("2818.00")
    with pytest.raises(BusinessRuleError) as approved:
        await ap.reject(captured.ap_invoice_id, reason="late", idempotency_key="3")
    assert approved.value.code == "invoice_approved"
    history = await ap.list_disputes("SUP-0002")
    assert {d.kind for d in history} == {"price_variance", "quantity_variance"}  # the seeded history
