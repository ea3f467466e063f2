"""Issue 9, item 3: the actor of a receipt or cancel is the principal, not the body; only a PO's
requester, purchasing (and receiving, for receipts) change it; a PO number resubmitted with
another body is 409 naming the running run. Item 10: business ids are addressable."""

from __future__ import annotations

from pathlib import Path

from tests.api import test_api_v1
from tests.api.test_api_v1 import api, bearer, is_problem, po_body
from tests.support.harness import Harness
from tests.workflows.po_support import ack, until
from workflows.purchase_order import PurchaseOrderWorkflow

PO = "/v1/purchase-orders/PO-2026-000451"

harness, systems = test_api_v1.harness, test_api_v1.systems  # the dev-server fixtures


async def _open_po(h: Harness, client: object, headers: dict[str, str]) -> None:
    submitted = await client.post("/v1/purchase-orders?wait=true", json=po_body(), headers=headers)  # type: ignore[attr-defined]
    assert submitted.status_code == 202, submitted.text
    handle = h.client.get_workflow_handle("purchase-order-PO-2026-000451")
    await handle.signal(PurchaseOrderWorkflow.acknowledgement_received, ack("PO-2026-000451"))
    await until(handle, lambda s: s.stage == "open")


async def test_receipts_are_recorded_as_the_caller_and_only_by_those_who_may(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, store):
        requester = bearer(settings, ["procurement:write"], [], subject="nurse-ann")
        await _open_po(harness, client, requester)

        claimed = {"line": 1, "quantity": "2", "received_by": "someone-else"}
        problem = is_problem(await client.post(f"{PO}/receipts", json=claimed, headers=requester), 422)
        assert problem["errors"][0]["field"] == "body.received_by"

        stranger = bearer(settings, ["procurement:write"], ["pricing"], subject="pat")
        is_problem(await client.post(f"{PO}/receipts", json={"line": 1, "quantity": "2"}, headers=stranger), 403)
        is_problem(await client.post("/v1/purchase-orders/PO-NOPE/receipts", json={"line": 1, "quantity": "2"},
                                     headers=requester), 404)  # fmt: skip

        dock = bearer(settings, ["procurement:write"], ["receiving"], subject="rio")
        for who in (requester, dock):
            done = await client.post(f"{PO}/receipts", json={"line": 1, "quantity": "2"}, headers=who)
            assert done.status_code == 200, done.text
        recorded = harness.systems.procurement.receipts["PO-2026-000451"]
        assert [r.received_by for r in recorded] == ["nurse-ann", "rio"]
        received = [e.actor for e in store.audit.query() if e.action == "purchase_order.received"]
        assert received == ["nurse-ann", "rio"]


async def test_only_the_requester_and_purchasing_may_cancel(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, store):
        requester = bearer(settings, ["procurement:write"], [], subject="nurse-ann")
        submitted = await client.post("/v1/purchase-orders?wait=true", json=po_body(), headers=requester)
        assert submitted.status_code == 202

        reason = {"reason": "requisition withdrawn"}
        for other in (
            bearer(settings, ["procurement:write"], ["receiving"], subject="rio"),
            bearer(settings, ["procurement:write"], [], subject="nurse-bob"),
        ):
            refused = await client.post(f"{PO}/cancel", json=reason, headers=other)
            assert "requester" in is_problem(refused, 403)["detail"]
        forged = await client.post(f"{PO}/cancel", json={**reason, "requested_by": "nurse-bob"}, headers=requester)
        assert is_problem(forged, 422)["errors"][0]["field"] == "body.requested_by"

        manager = bearer(settings, ["procurement:write"], ["purchasing-managers"], subject="pam")
        cancelled = await client.post(f"{PO}/cancel", json=reason, headers=manager)
        assert cancelled.status_code == 200 and cancelled.json()["outcome"] == "cancelled", cancelled.text
        assert "cancelled by pam" in str(cancelled.json()["result"])
        assert [e.actor for e in store.audit.query() if e.action == "purchase_order.cancel_requested"] == ["pam"]


async def test_a_po_number_resubmitted_with_another_body_is_409_naming_the_run(
    harness: Harness, tmp_path: Path
) -> None:
    async with api(harness, tmp_path) as (client, settings, store):
        headers = bearer(settings, ["procurement:write"], [], subject="nurse-ann")
        first = await client.post("/v1/purchase-orders?wait=true", json=po_body(), headers=headers)
        assert first.status_code == 202
        same = await client.post("/v1/purchase-orders", json=po_body(), headers=headers)
        assert same.status_code == 202 and same.json()["workflow_id"] == "purchase-order-PO-2026-000451"

        changed = po_body()
        changed["lines"][0]["quantity"] = "999"
        problem = is_problem(await client.post("/v1/purchase-orders", json=changed, headers=headers), 409)
        assert problem["workflow_id"] == "purchase-order-PO-2026-000451"
        assert problem["run"] == "/v1/runs/purchase-order-PO-2026-000451"
        status = await client.get(PO, headers=headers)
        assert str(status.json()["result"]["lines"][0]["ordered"]) != "999"
        submitted = [e for e in store.audit.query() if e.action == "purchase_order.submitted"]
        assert len(submitted) == 2  # the refused one is not audited as submitted


async def test_business_ids_are_one_addressable_pattern(harness: Harness, tmp_path: Path) -> None:
    async with api(harness, tmp_path) as (client, settings, _):
        headers = bearer(settings)
        for number in ("PO/2026/1", "..", "PO 1", "P" * 41, "-PO"):
            problem = is_problem(await client.post("/v1/purchase-orders", json=po_body(number), headers=headers), 422)
            assert problem["errors"][0]["field"] == "body.po_number", number
        invoice = {"invoice_number": "INV/1", "supplier_id": "SUP-0002", "po_number": "PO-1",
                   "invoice_date": "2026-11-24", "lines": [{"line": 1, "po_line": 1, "item_id": "X", "quantity": "1",
                                                            "uom": "EA", "unit_price": "1"}]}  # fmt: skip
        problem = is_problem(await client.post("/v1/invoices", json=invoice, headers=headers), 422)
        assert problem["errors"][0]["field"] == "body.invoice_number"
        assert (
            is_problem(await client.get("/v1/purchase-orders/PO%201", headers=headers), 422)["errors"][0]["field"]
            == "path.po_number"
        )
