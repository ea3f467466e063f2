"""Procure-to-pay end to end through the CLI against `supplybridge up`: POs and invoices shaped
like shared/examples/ but with other numbers, suppliers, prices and quantities from the seed;
outcomes read back from the CLI, the sandbox ERP and AP and `temporal workflow describe`."""

from __future__ import annotations

import base64
import json
import subprocess
import uuid
from pathlib import Path
from typing import Any

import httpx
import pytest

from runtime.binaries import temporal_cli_path
from runtime.settings import DEV_SANDBOX_TOKEN
from tests.e2e.conftest import Stack, eventually
from tests.examples import example_json

pytestmark = pytest.mark.e2e
HEADERS = {"Authorization": f"Bearer {DEV_SANDBOX_TOKEN}"}


def write(tmp_path: Path, data: dict[str, Any]) -> str:
    path = tmp_path / f"{uuid.uuid4().hex}.json"
    path.write_text(json.dumps(data))
    return str(path)


def po_file(tmp_path: Path, number: str, **changes: Any) -> str:
    return write(tmp_path, {**example_json("purchase-orders/po-northgate-gowns.json"), "po_number": number, **changes})


def invoice_file(tmp_path: Path, number: str, po_number: str, **changes: Any) -> str:
    data = {**example_json("invoices/inv-clean.json"), "invoice_number": number, "po_number": po_number, **changes}
    return write(tmp_path, data)


def inv_line(po_line: int, item_id: str, quantity: int, uom: str, price: str) -> dict[str, Any]:
    return {
        "line": po_line,
        "po_line": po_line,
        "item_id": item_id,
        "quantity": quantity,
        "uom": uom,
        "unit_price": price,
    }


def acknowledged(stack: Stack, po_number: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        _, view = stack.cli("status", po_number)
        result = view["result"] or {}  # none when the run did not answer its status query in time
        return view if result and result["lines"][0]["ack_status"] else None

    return eventually(check, what=f"{po_number} acknowledged")  # type: ignore[no-any-return]


def ap_invoices(stack: Stack, supplier_id: str, number: str) -> list[dict[str, Any]]:
    return list(stack.sandbox_get(f"/ap/invoices?supplier_id={supplier_id}&invoice_number={number}")["items"])


def test_a_po_is_released_acknowledged_received_invoiced_and_closed(stack: Stack, tmp_path: Path) -> None:
    po = "PO-2027-100001"
    lines = [
        {"line": 1, "item_id": "ITM-1002", "quantity": 12, "uom": "CS", "unit_price": "84.50"},
        {"line": 2, "item_id": "ITM-1001", "quantity": 150, "uom": "CS", "unit_price": "57.50"},  # 100+ tier
    ]
    code, out = stack.cli("po", "submit", po_file(tmp_path, po, lines=lines))
    assert code == 0 and out["stage"] in ("awaiting_acknowledgement", "open"), out
    assert [p["status"] for p in stack.sandbox_get("/erp/purchase-orders?supplier_id=SUP-0002")["items"]
            if p["po_number"] == po] == ["open"]  # fmt: skip
    reservations = stack.sandbox_get(f"/inventory/reservations?reference={po}")["items"]
    assert sorted(r["item_id"] for r in reservations) == ["ITM-1001", "ITM-1002"]
    assert acknowledged(stack, po)["stage"] == "open"

    assert stack.cli("po", "receive", po, "--line", "1", "--quantity", "12")[0] == 0
    code, status = stack.cli("po", "receive", po, "--line", "2", "--quantity", "1500", "--uom", "BX")
    assert code == 0 and status["ok"] is True and status["result"]["lines"][1]["received"] == "150", status
    code, refused = stack.cli("po", "receive", po, "--line", "1", "--quantity", "1")
    assert code == 2 and "more than line 1" in refused["error"]

    invoice = invoice_file(tmp_path, "NSS-990001", po, lines=[
        inv_line(1, "ITM-1002", 12, "CS", "84.50"), inv_line(2, "ITM-1001", 150, "CS", "57.50")])  # fmt: skip
    code, out = stack.cli("invoice", "submit", invoice)
    assert code == 0 and out["outcome"] == "approved", out
    code, again = stack.cli("invoice", "submit", invoice)
    assert code == 3 and again["outcome"] == "duplicate_invoice"
    [captured] = ap_invoices(stack, "SUP-0002", "NSS-990001")
    assert captured["status"] == "approved" and captured["approvals"] == 1

    eventually(lambda: stack.cli("status", po)[1]["outcome"] == "closed", what="PO closed")
    assert stack.sandbox_get(f"/erp/purchase-orders/{po}")["status"] == "closed"
    described = subprocess.run(
        [str(temporal_cli_path()), "workflow", "describe", "--address", stack.temporal,
         "-w", f"purchase-order-{po}", "-o", "json"],
        capture_output=True, text=True, timeout=30,
    )  # fmt: skip
    assert described.returncode == 0, described.stderr
    fields = json.loads(described.stdout)["workflowExecutionInfo"]["searchAttributes"]["indexedFields"]
    assert json.loads(base64.b64decode(fields["SupplyBridgeOutcome"]["data"])) == "closed"


def test_exceptions_are_listed_by_team_with_evidence_and_resolved(stack: Stack, tmp_path: Path) -> None:
    off_contract = "PO-2027-100002"
    code, out = stack.cli("po", "submit", write(tmp_path, {
        **example_json("purchase-orders/po-off-contract-price.json"), "po_number": off_contract,
        "lines": [{"line": 1, "item_id": "ITM-1001", "quantity": 8, "uom": "CS", "unit_price": "62.10"}]}))  # fmt: skip
    assert code == 0 and out["stage"] == "awaiting_approval" and out["result"]["assigned_team"] == "pricing"
    expired = "PO-2027-100003"
    code, out = stack.cli("po", "submit", write(tmp_path, {
        **example_json("purchase-orders/po-expired-contract.json"), "po_number": expired}))  # fmt: skip
    assert code == 0 and out["result"]["open_exception"]["team"] == "contracting"

    _, pricing = stack.cli("exceptions", "list", "--team", "pricing")
    ids = [e["exception_id"] for e in pricing["exceptions"]]
    assert f"purchase-order-{off_contract}" in ids and f"purchase-order-{expired}" not in ids
    code, done = stack.cli("exceptions", "resolve", f"purchase-order-{expired}", "--action", "reject",
                           "--reason", "contract lapsed")  # fmt: skip
    assert code == 0 and done["outcome"] == "rejected"
    code, done = stack.cli("exceptions", "resolve", f"purchase-order-{off_contract}", "--action", "approve",
                           "--reason", "spot buy")  # fmt: skip
    assert code == 0 and done["stage"] in ("awaiting_acknowledgement", "open")
    view = acknowledged(stack, off_contract)  # SUP-0001 backorders part of the line
    assert view["result"]["lines"][0]["ack_status"] == "backordered"
    assert stack.sandbox_get(f"/erp/purchase-orders/{off_contract}")["lines"][0]["backordered_quantity"] == "4"

    po = "PO-2027-100004"
    assert stack.cli("po", "submit", po_file(tmp_path, po))[0] == 0
    acknowledged(stack, po)
    stack.cli("po", "receive", po, "--line", "1", "--quantity", "20")
    stack.cli("po", "receive", po, "--line", "2", "--quantity", "10")
    priced = invoice_file(tmp_path, "NSS-990002", po, lines=[
        inv_line(1, "ITM-1002", 20, "CS", "88.00"), inv_line(2, "ITM-1003", 10, "BX", "112.80")])  # fmt: skip
    code, out = stack.cli("invoice", "submit", priced)
    exception = out["result"]["open_exception"]
    assert code == 0 and exception["team"] == "pricing" and exception["discrepancies"][0]["kind"] == "price_variance"
    assert exception["evidence"]["contract_pricing"]["lines"][0]["contract_price"] == "84.50"
    assert exception["evidence"]["dispute_history"]["total"] >= 2  # the seed's SUP-0002 history
    over = invoice_file(tmp_path, "NSS-990003", po, lines=[inv_line(1, "ITM-1002", 23, "CS", "84.50")])
    code, out = stack.cli("invoice", "submit", over)
    assert out["result"]["open_exception"]["team"] == "receiving"
    _, receiving = stack.cli("exceptions", "list", "--team", "receiving")
    assert [e["exception_id"] for e in receiving["exceptions"]] == [out["workflow_id"]]

    code, done = stack.cli(
        "exceptions", "resolve", out["workflow_id"], "--action", "short_pay", "--reason", "3 CS short"
    )
    assert code == 0 and done["outcome"] == "short_paid" and done["result"]["approved_amount"] == "1690.00"
    [captured] = ap_invoices(stack, "SUP-0002", "NSS-990003")
    assert captured["status"] == "approved" and captured["approved_amount"] == "1690.00"


def test_a_suspended_supplier_holds_its_open_pos_and_reinstatement_releases_them(stack: Stack, tmp_path: Path) -> None:
    po = "PO-2027-100005"
    lines = [{"line": 1, "item_id": "ITM-1007", "quantity": 6, "uom": "CS", "unit_price": "41.75"}]
    path = po_file(tmp_path, po, supplier_id="SUP-0006", contract_ref="CTR-2026-0131", ship_to="LOC-PH-03", lines=lines)
    code, out = stack.cli("po", "submit", path)
    assert code == 0, out
    acknowledged(stack, po)
    response = stack.sandbox_post("/vendor-management/suppliers/SUP-0006/status", {"status": "suspended"})
    assert response.status_code == 202
    eventually(lambda: stack.sandbox_get(f"/erp/purchase-orders/{po}")["hold"], what="ERP PO hold", timeout=10)
    view = eventually(
        lambda: (v := stack.cli("status", po)[1])["result"] and v["result"]["on_hold"] and v, what="PO on hold"
    )
    assert view["stage"] == "on_hold"

    stack.sandbox_post("/vendor-management/suppliers/SUP-0006/status", {"status": "reinstated"})
    eventually(lambda: stack.sandbox_get(f"/erp/purchase-orders/{po}")["hold"] is None, what="hold released")
    eventually(lambda: not (stack.cli("status", po)[1]["result"] or {"on_hold": True})["on_hold"], what="PO released")


def test_cancel_compensates_everywhere(stack: Stack, tmp_path: Path) -> None:
    po = "PO-2027-100006"  # SUP-0003 never acknowledges
    lines = [{"line": 1, "item_id": "ITM-1004", "quantity": 5, "uom": "CS", "unit_price": "38.40"}]
    path = po_file(tmp_path, po, supplier_id="SUP-0003", contract_ref="CTR-2026-0120", ship_to="LOC-PH-03", lines=lines)
    assert stack.cli("po", "submit", path)[0] == 0
    code, out = stack.cli("po", "cancel", po, "--reason", "ordered in error")
    assert code == 0 and out["outcome"] == "cancelled", out
    assert out["result"]["compensations"] == ["release_reservations", "cancel_po_with_vendor", "cancel_po_in_erp"]
    assert stack.sandbox_get(f"/erp/purchase-orders/{po}")["status"] == "cancelled"
    # SUP-0003 trades by X12 (partner CASCADIAPHARM): the order went as an 850, and is withdrawn as one
    sent = stack.sandbox_get("/vendor-channel/edi/messages?partner_id=CASCADIAPHARM&kind=850&direction=to_partner")
    texts = [stack.sandbox_get(f"/vendor-channel/edi/messages/{m['message_id']}")["text"] for m in sent["items"]]
    assert any(f"BEG*00*SA*{po}" in text for text in texts) and any(f"BEG*01*SA*{po}" in text for text in texts)
    assert {r["status"] for r in stack.sandbox_get(f"/inventory/reservations?reference={po}")["items"]} == {"released"}


def test_with_faults_everywhere_each_po_and_invoice_reaches_its_outcome_once(stack: Stack, tmp_path: Path) -> None:
    faults = {"error_rate": 0.3, "throttle_rate": 0.2, "retry_after_seconds": 1, "latency_ms": 50}
    systems = ("erp", "vendor-management", "contracts", "inventory", "vendor-channel", "ap")
    for system in systems:
        assert httpx.put(f"{stack.sandbox}/admin/faults/{system}", json=faults, headers=HEADERS).status_code == 200
    po = "PO-2027-100007"
    try:
        code, out = stack.cli("po", "submit", po_file(tmp_path, po), "--timeout", "90")
        assert code == 0, out
        acknowledged(stack, po)
        for line, quantity in ((1, "20"), (2, "10")):
            assert stack.cli("po", "receive", po, "--line", str(line), "--quantity", quantity)[0] == 0
        code, out = stack.cli("invoice", "submit", invoice_file(tmp_path, "NSS-990007", po), "--timeout", "90")
        assert code == 0 and out["outcome"] == "approved", out
    finally:
        httpx.delete(f"{stack.sandbox}/admin/faults", headers=HEADERS)
    assert [p["po_number"] for p in stack.sandbox_get("/erp/purchase-orders?limit=500")["items"]].count(po) == 1
    assert len(stack.sandbox_get(f"/erp/purchase-orders/{po}/receipts")["items"]) == 2
    [captured] = ap_invoices(stack, "SUP-0002", "NSS-990007")
    assert captured["approvals"] == 1
    eventually(lambda: stack.cli("status", po)[1]["outcome"] == "closed", what="PO closed", timeout=30)


def test_a_receipt_entered_in_the_erp_reaches_the_po_workflow(stack: Stack, tmp_path: Path) -> None:
    po = "PO-2027-100008"
    assert stack.cli("po", "submit", po_file(tmp_path, po))[0] == 0
    acknowledged(stack, po)
    dock = {"lines": [{"line": 1, "quantity": "5", "uom": "CS"}], "received_by": "dock 3"}
    assert stack.sandbox_post(f"/erp/purchase-orders/{po}/receipts", dock).status_code == 201

    eventually(
        lambda: ((stack.cli("status", po)[1]["result"] or {}).get("lines") or [{}])[0].get("received") == "5",
        what="dock receipt seen",
    )
    code, status = stack.cli("po", "receive", po, "--line", "1", "--quantity", "15")
    assert code == 0 and status["result"]["lines"][0]["received"] == "20"
    assert stack.cli("po", "receive", po, "--line", "1", "--quantity", "1")[0] == 2
    assert len(stack.sandbox_get(f"/erp/purchase-orders/{po}/receipts")["items"]) == 2
    _, view = stack.cli("status", po)
    assert len(view["result"]["receipts"]) == 2  # its own receipt came back as an event: counted once
