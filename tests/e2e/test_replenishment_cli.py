"""Replenishment through the CLI against a real `supplybridge up` (the scan is a Temporal Schedule,
which the time-skipping server does not run): consumption posted to the sandbox inventory
becomes a PO in the ERP for the right supplier and quantity; a second breach orders nothing more;
with the cheapest supplier suspended the next order goes to the other contracted one; with every
contracted supplier suspended purchasing gets a sourcing exception; the scan schedule, triggered
after the inventory webhook target was switched off, still finds the breach."""

from __future__ import annotations

import subprocess
from decimal import Decimal
from typing import Any

import httpx
import pytest

from runtime.binaries import temporal_cli_path
from runtime.settings import DEV_SANDBOX_TOKEN
from tests.e2e.conftest import Stack, eventually

pytestmark = pytest.mark.e2e
HEADERS = {"Authorization": f"Bearer {DEV_SANDBOX_TOKEN}"}
CENTRAL, OR, GLOVES, GOWNS, SUTURES, SYRINGES = "LOC-CS-01", "LOC-OR-02", "ITM-1001", "ITM-1002", "ITM-1003", "ITM-1005"


def consume(stack: Stack, location: str, item: str, quantity: str) -> dict[str, Any]:
    code, out = stack.cli("inventory", "consume", location, item, quantity)
    assert code == 0 and out["ok"], out
    return out


def status(stack: Stack, location: str, item: str) -> dict[str, Any]:
    code, out = stack.cli("replenishment", "status", location, item)
    return out if code == 0 else {}


def ordered(stack: Stack, location: str, item: str, *, not_po: str | None = None) -> dict[str, Any]:
    """The replenishment's order once its PO exists in the ERP (within 10 seconds)."""

    def check() -> dict[str, Any] | None:
        order = status(stack, location, item).get("order")
        if not order or order["po_number"] == not_po:
            return None
        found = httpx.get(f"{stack.sandbox}/erp/purchase-orders/{order['po_number']}", headers=HEADERS, timeout=10)
        return dict(order, erp=found.json()) if found.status_code == 200 else None

    return dict(eventually(check, timeout=10, what=f"a PO in the ERP for {item} at {location}"))


def set_vendor_status(stack: Stack, supplier: str, vendor_status: str, erp_status: str) -> None:
    answer = stack.sandbox_post(f"/vendor-management/suppliers/{supplier}/status",
                                {"status": vendor_status, "reason": "e2e"})  # fmt: skip
    assert answer.status_code < 300, answer.text
    eventually(lambda: stack.sandbox_get(f"/erp/suppliers/{supplier}")["status"] == erp_status,
               what=f"{supplier} {erp_status} in the ERP")  # fmt: skip


def test_a_breach_becomes_a_po_for_the_cheapest_supplier_and_a_second_breach_orders_nothing(stack: Stack) -> None:
    taken = consume(stack, CENTRAL, GLOVES, "5")
    assert (Decimal(taken["on_hand"]), taken["breached"]) == (Decimal(9), True)

    order = ordered(stack, CENTRAL, GLOVES)

    assert (order["supplier_id"], Decimal(order["quantity"]), order["uom"]) == ("SUP-0001", Decimal(31), "CS")
    assert order["erp"]["supplier_id"] == "SUP-0001"
    assert Decimal(order["erp"]["lines"][0]["quantity"]) == Decimal(31)
    consume(stack, CENTRAL, GLOVES, "1")
    joined = eventually(lambda: (s := status(stack, CENTRAL, GLOVES)).get("breaches") == 2 and s,
                        timeout=60, what="the second breach joining")  # fmt: skip
    assert joined["order"]["po_number"] == order["po_number"]
    pos = stack.sandbox_get("/erp/purchase-orders?limit=500")["items"]
    assert [p["po_number"] for p in pos if p["po_number"].startswith("RPL-")] == [order["po_number"]]


def test_with_the_cheapest_supplier_suspended_the_next_order_goes_to_the_other(stack: Stack) -> None:
    first = status(stack, CENTRAL, GLOVES)["order"]
    eventually(lambda: status(stack, CENTRAL, GLOVES).get("po_stage") == "open", what="the vendor's acknowledgement")
    code, out = stack.cli("po", "receive", first["po_number"], "--line", "1", "--quantity", "31")
    assert code == 0, out
    eventually(lambda: status(stack, CENTRAL, GLOVES).get("outcome") == "replenished", what="the order received")
    set_vendor_status(stack, "SUP-0001", "suspended", "on_hold")

    consume(stack, CENTRAL, GLOVES, "29")
    order = ordered(stack, CENTRAL, GLOVES, not_po=first["po_number"])

    assert (order["supplier_id"], Decimal(order["unit_price"]), order["contract_id"]) == (
        "SUP-0002", Decimal("61.00"), "CTR-2026-0107",
    )  # fmt: skip
    code, out = stack.cli("replenishment", "list")
    assert code == 0 and len([r for r in out["replenishments"] if r["item_id"] == GLOVES]) == 2


def test_with_every_contracted_supplier_suspended_purchasing_gets_a_sourcing_exception(stack: Stack) -> None:
    set_vendor_status(stack, "SUP-0002", "suspended", "on_hold")  # the only contract for gowns
    consume(stack, OR, GOWNS, "1")  # 6 -> 5 CS, reorder point 5

    def task() -> dict[str, Any] | None:
        _, out = stack.cli("exceptions", "list", "--team", "purchasing")
        return next((t for t in out.get("exceptions", []) if t.get("kind") == "sourcing_exception"), None)

    found = eventually(task, what="a sourcing exception for purchasing")
    assert found["record"] == f"{OR}/{GOWNS}"
    considered = status(stack, OR, GOWNS)["sourcing"]["considered"]
    assert [(c["contract_id"], c["refused"]) for c in considered] == [
        ("CTR-2026-0107", "supplier SUP-0002 suspended in vendor management")
    ]


def test_the_scan_schedule_finds_a_breach_whose_webhook_was_switched_off(stack: Stack) -> None:
    listed = subprocess.run([str(temporal_cli_path()), "schedule", "list", "--address", stack.temporal],
                            capture_output=True, text=True, timeout=30, check=True).stdout  # fmt: skip
    assert "replenishment-scan" in listed
    off = httpx.put(f"{stack.sandbox}/inventory/admin/webhook", json={"url": None}, headers=HEADERS, timeout=10)
    assert off.status_code == 200, off.text
    consume(stack, OR, SUTURES, "1")  # 9 -> 8 BX, reorder point 8: the event stays in the outbox
    assert status(stack, OR, SUTURES) == {}

    subprocess.run([str(temporal_cli_path()), "schedule", "trigger", "--schedule-id", "replenishment-scan",
                    "--address", stack.temporal], capture_output=True, text=True, timeout=30, check=True)  # fmt: skip

    found = eventually(lambda: status(stack, OR, SUTURES), what="the scan starting the sutures' replenishment")
    assert found["last_breach"]["source"] == "scan"
    syringes = eventually(lambda: status(stack, CENTRAL, SYRINGES).get("order"), what="the syringes ordered")
    assert (syringes["supplier_id"], Decimal(syringes["quantity"]), syringes["shipping"]) == (
        "SUP-0003", Decimal(7), "expedited",
    )  # fmt: skip
