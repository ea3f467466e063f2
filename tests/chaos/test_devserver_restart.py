"""The Temporal dev server stopped mid-run and started again on the same SQLite file, POs and
invoices in flight: while it is down the API answers 503 with Retry-After (not 500, not a hang);
once it is back every run converges and each effect is in the systems exactly once."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest

from domain.po_models import ReceiptRequest
from domain.purchasing import PoAcknowledgement, invoice_workflow_id, purchase_order_workflow_id
from starter import operations as ops
from starter.api.security import issue_token
from tests.chaos.stack import ChaosStack, chaos_stack, until
from tests.chaos.test_worker_kill import SUPPLIER, ap_invoices, erp_pos, invoice, purchase_order
from tests.examples import example_json

pytestmark = pytest.mark.e2e


async def _api_answers_503_while_temporal_is_down(stack: ChaosStack) -> None:
    token, _ = issue_token(stack.settings, "chaos", ["procurement:write"], ["*"])
    body = {**example_json("purchase-orders/po-northgate-gowns.json"), "po_number": "PO-2027-799999"}
    async with httpx.AsyncClient(base_url=stack.settings.api_url, timeout=60) as client:
        answer = await client.post(
            "/v1/purchase-orders", json=body, headers={"Authorization": f"Bearer {token}", "Idempotency-Key": "down"}
        )
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["Retry-After"]) > 0 and "Traceback" not in answer.text


async def test_a_devserver_restart_mid_run_converges_with_effects_exactly_once(tmp_path: Path) -> None:
    async with chaos_stack(tmp_path / "state") as stack:
        assert stack.client is not None
        stack.faults("erp", latency_ms=200)
        numbers = [f"PO-2027-7100{i:02d}" for i in range(5)]
        for number in numbers:
            await ops.start_purchase_order(stack.client, stack.settings, purchase_order(number), submitted_by="chaos")

        async def first_po() -> bool:
            return any(erp_pos(stack, numbers).values())

        await until(first_po, timeout=30, what="a first ERP PO")
        await stack.devserver.stop()
        await _api_answers_503_while_temporal_is_down(stack)
        await stack.devserver.start()

        po_runs = [purchase_order_workflow_id(n) for n in numbers]
        views = await stack.converged(po_runs, timeout=60)
        assert erp_pos(stack, numbers) == dict.fromkeys(numbers, 1)
        # The vendor channel's webhook may have given up while Temporal was down: those POs wait for
        # their acknowledgement (the purchasing team's, after its SLA). The vendor sends it again.
        for number in numbers:
            if views[purchase_order_workflow_id(number)].stage == "awaiting_acknowledgement":
                resent = PoAcknowledgement(
                    event_id=f"resent-{number}", po_number=number, acknowledged_at=datetime.now(UTC), source="chaos"
                )
                assert await ops.deliver_acknowledgement(stack.client, resent)
        views = await stack.converged(po_runs, timeout=60, stages={"open"})
        opened = [n for n in numbers if views[purchase_order_workflow_id(n)].stage == "open"]
        assert opened == numbers, {w: v.stage for w, v in views.items()}

        stack.faults("ap", latency_ms=200)
        for number in opened:
            for line, quantity in ((1, 20), (2, 10)):
                request = ReceiptRequest(line=line, quantity=Decimal(quantity), received_by="dock")
                await ops.record_receipt(stack.client, number, request)
        invoices = {f"NSS-78{i:04d}": number for i, number in enumerate(opened)}
        for invoice_number, po_number in invoices.items():
            await ops.start_invoice(
                stack.client, stack.settings, invoice(invoice_number, po_number), submitted_by="chaos"
            )

        async def first_capture() -> bool:
            return any(ap_invoices(stack, n) for n in invoices)

        await until(first_capture, timeout=30, what="a first AP capture")
        await stack.restart_devserver()

        views = await stack.converged([invoice_workflow_id(SUPPLIER, n) for n in invoices], timeout=60)
        for invoice_number in invoices:
            view = views[invoice_workflow_id(SUPPLIER, invoice_number)]
            assert (view.status, view.outcome) == ("completed", "approved"), (invoice_number, view)
            [captured] = ap_invoices(stack, invoice_number)
            assert captured["approvals"] == 1, captured
        assert erp_pos(stack, numbers) == dict.fromkeys(numbers, 1)
