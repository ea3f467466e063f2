"""The worker killed (SIGKILL) mid-run, POs and invoices in flight, then started again: every run
converges (completed, or waiting for someone) and the systems hold each effect exactly once: one
ERP PO per PO, one AP capture and at most one payment approval per invoice. Lost responses on the
ERP and AP (the write happened, the answer did not arrive) are injected throughout."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from domain.po_models import ReceiptRequest
from domain.purchasing import Invoice, PurchaseOrder, invoice_workflow_id, purchase_order_workflow_id
from starter import operations as ops
from tests.chaos.stack import ChaosStack, chaos_stack, until
from tests.examples import example_json

pytestmark = pytest.mark.e2e
SUPPLIER = "SUP-0002"
LOST_RESPONSES = {"error_rate": 0.2, "error_phase": "after", "latency_ms": 150}


def purchase_order(number: str) -> PurchaseOrder:
    return PurchaseOrder.model_validate(
        {**example_json("purchase-orders/po-northgate-gowns.json"), "po_number": number}
    )


def invoice(number: str, po_number: str) -> Invoice:
    data = {**example_json("invoices/inv-clean.json"), "invoice_number": number, "po_number": po_number}
    return Invoice.model_validate(data)


def erp_pos(stack: ChaosStack, numbers: list[str]) -> dict[str, int]:
    items = stack.sandbox("GET", f"/erp/purchase-orders?supplier_id={SUPPLIER}&limit=500")["items"]
    return {n: sum(1 for p in items if p["po_number"] == n) for n in numbers}


def ap_invoices(stack: ChaosStack, number: str) -> list[dict[str, Any]]:
    return list(stack.sandbox("GET", f"/ap/invoices?supplier_id={SUPPLIER}&invoice_number={number}")["items"])


async def test_a_worker_killed_mid_po_and_mid_invoice_converges_with_effects_exactly_once(tmp_path: Path) -> None:
    async with chaos_stack(tmp_path / "state") as stack:
        assert stack.client is not None
        for system in ("erp", "ap"):
            stack.faults(system, **LOST_RESPONSES)
        numbers = [f"PO-2027-7000{i:02d}" for i in range(6)]
        for number in numbers:
            await ops.start_purchase_order(stack.client, stack.settings, purchase_order(number), submitted_by="chaos")
        po_runs = [purchase_order_workflow_id(n) for n in numbers]

        # kill once some ERP POs exist and others are still being created
        async def first_po() -> bool:
            return any(erp_pos(stack, numbers).values())

        await until(first_po, timeout=30, what="a first ERP PO")
        stack.kill_worker()
        created_before_kill = sum(erp_pos(stack, numbers).values())
        await stack.start_worker()

        # SUP-0002 accepts every PO, a few seconds after its notification: wait for every PO to be
        # open (converged alone may still see the acknowledgement on its way)
        await stack.converged(po_runs, timeout=90, stages={"open"})
        assert erp_pos(stack, numbers) == dict.fromkeys(numbers, 1), f"killed after {created_before_kill} created"
        opened = numbers

        for number in opened:
            for line, quantity in ((1, 20), (2, 10)):
                request = ReceiptRequest(line=line, quantity=Decimal(quantity), received_by="dock")
                await ops.record_receipt(stack.client, number, request)
        invoices = {f"NSS-77{i:04d}": number for i, number in enumerate(opened)}
        for invoice_number, po_number in invoices.items():
            await ops.start_invoice(
                stack.client, stack.settings, invoice(invoice_number, po_number), submitted_by="chaos"
            )
        invoice_runs = [invoice_workflow_id(SUPPLIER, n) for n in invoices]

        # kill mid-invoice: one is captured in AP while others are still on their way
        async def first_capture() -> bool:
            return any(ap_invoices(stack, n) for n in invoices)

        await until(first_capture, timeout=30, what="a first AP capture")
        stack.kill_worker()
        await stack.start_worker()

        views = await stack.converged(invoice_runs, timeout=60)
        for invoice_number in invoices:
            view = views[invoice_workflow_id(SUPPLIER, invoice_number)]
            assert (view.status, view.outcome) == ("completed", "approved"), (invoice_number, view)
            [captured] = ap_invoices(stack, invoice_number)  # exactly one capture
            assert captured["approvals"] == 1, captured  # approved for payment once
        assert erp_pos(stack, numbers) == dict.fromkeys(numbers, 1)
        await stack.converged(po_runs, timeout=30)
