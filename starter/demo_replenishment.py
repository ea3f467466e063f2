"""The demo's replenishment scenarios (examples/README.md, "Replenishment"), before the
procure-to-pay ones: gloves consumed at central supply below their reorder point are ordered from
the cheapest eligible contracted supplier within seconds (inventory webhook -> API ->
`replenishment-LOC-CS-01-ITM-1001` -> child PO in the ERP); a second breach joins the open run;
the order received, SUP-0001 suspended and the gloves consumed again, the other contracted
supplier gets the order; `replenishment-scan` finds the syringes that were below their reorder
point from the start (a critical item: expedited, no approval). SUP-0001 is reinstated at the end,
so the procure-to-pay scenarios find it as the examples expect."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal

import httpx

from domain.po_models import PoStage, ReceiptRequest
from domain.replenishment_models import ReplenishmentOutcome, ReplenishmentStatus, replenishment_workflow_id
from starter import operations as ops
from starter.demo_report import DemoProgress, Row
from starter.operations.replenishments import replenishment_status
from starter.stack import EmbeddedStack

CENTRAL, GLOVES, SYRINGES = "LOC-CS-01", "ITM-1001", "ITM-1005"
WAIT_SECONDS = 30.0
SUSPENDED = "SUP-0001 suspended, gloves again"


async def replenishment(stack: EmbeddedStack, progress: DemoProgress) -> None:
    settings = stack.settings
    headers = {"Authorization": f"Bearer {settings.sandbox_token.get_secret_value()}"}
    async with httpx.AsyncClient(base_url=settings.resolved_sandbox_url, timeout=10, headers=headers) as http:
        first = progress.add(await _gloves_ordered(stack, http))
        progress.add(await _second_breach_joins(stack, http))
        if first.ok:
            progress.add(await _other_supplier_after_suspension(stack, http))
        progress.add(await _scan_finds_syringes(stack))


async def _until(
    stack: EmbeddedStack, item: str, done: Callable[[ReplenishmentStatus], bool]
) -> ReplenishmentStatus | None:
    """The location and item's latest replenishment once `done` holds (None: it never did)."""
    assert stack.client is not None
    deadline = time.monotonic() + WAIT_SECONDS
    while True:
        status = await replenishment_status(stack.client, CENTRAL, item)
        if status is not None and done(status):
            return status
        if time.monotonic() > deadline:
            return None
        await asyncio.sleep(0.2)


async def _consume(http: httpx.AsyncClient, item: str, quantity: int) -> None:
    body = {"location_id": CENTRAL, "item_id": item, "quantity": str(quantity), "uom": "CS", "reference": "demo"}
    (await http.post("/inventory/consumption", json=body)).raise_for_status()


def _row(stack: EmbeddedStack, name: str, item: str, status: ReplenishmentStatus | None, ok: bool, detail: str) -> Row:
    workflow_id = replenishment_workflow_id(CENTRAL, item)
    outcome = "no order" if status is None or status.order is None else f"PO {status.order.po_number}"
    url = stack.settings.workflow_url(workflow_id, status.run_id if status else None)
    return Row(name, workflow_id, outcome, detail, ok, url)


def _ordered(status: ReplenishmentStatus | None) -> str:
    order = status.order if status else None
    if order is None:
        return status.reason or "nothing ordered" if status else "no replenishment started"
    return (f"{order.quantity} {order.uom} from {order.supplier_id} at {order.unit_price} "
            f"({order.contract_id}, {order.shipping}; {order.approval})")  # fmt: skip


async def _gloves_ordered(stack: EmbeddedStack, http: httpx.AsyncClient) -> Row:
    started = time.monotonic()
    await _consume(http, GLOVES, 5)  # 14 -> 9 CS, reorder point 12, par 40
    status = await _until(stack, GLOVES, lambda s: s.order is not None and s.po_stage is not None)
    took = time.monotonic() - started
    order = status.order if status else None
    in_erp = order is not None and (await http.get(f"/erp/purchase-orders/{order.po_number}")).status_code == 200
    ok = order is not None and in_erp and (order.supplier_id, order.quantity, order.unit_price) == (
        "SUP-0001", Decimal(31), Decimal("59.25"))  # fmt: skip
    detail = f"{_ordered(status)}; in the ERP {took:.1f}s after the cart scan"
    return _row(stack, "gloves below reorder point", GLOVES, status, ok, detail)


async def _second_breach_joins(stack: EmbeddedStack, http: httpx.AsyncClient) -> Row:
    before = await _until(stack, GLOVES, lambda s: True)
    await _consume(http, GLOVES, 1)
    status = await _until(stack, GLOVES, lambda s: s.breaches >= 2)
    ok = status is not None and before is not None and status.order == before.order and status.outcome is None
    detail = f"joined the open run ({status.breaches if status else 0} breaches, one PO); nothing ordered twice"
    return _row(stack, "second breach while the order is open", GLOVES, status, ok, detail)


async def _other_supplier_after_suspension(stack: EmbeddedStack, http: httpx.AsyncClient) -> Row:
    """Receive the first order, suspend SUP-0001, consume again: SUP-0002 gets the order."""
    assert stack.client is not None
    first = await _until(stack, GLOVES, lambda s: s.po_stage is PoStage.OPEN)
    if first is None or first.order is None:
        return _row(stack, SUSPENDED, GLOVES, first, False, "the first order was not acknowledged")
    first_po = first.order.po_number
    await ops.record_receipt(stack.client, first_po, ReceiptRequest(line=1, quantity=first.order.quantity))
    await _until(stack, GLOVES, lambda s: s.outcome is ReplenishmentOutcome.REPLENISHED)
    await _set_status(http, "SUP-0001", "suspended", "on_hold")
    try:
        await _consume(http, GLOVES, 29)  # 39 -> 10 CS
        status = await _until(stack, GLOVES, lambda s: s.order is not None and s.order.po_number != first_po)
    finally:
        await _set_status(http, "SUP-0001", "reinstated", "active")
    order = status.order if status else None
    ok = order is not None and (order.supplier_id, order.unit_price) == ("SUP-0002", Decimal("61.00"))
    detail = f"first order received; {_ordered(status)}"
    return _row(stack, SUSPENDED, GLOVES, status, ok, detail)


async def _set_status(http: httpx.AsyncClient, supplier: str, status: str, erp_status: str) -> None:
    """Change the supplier's status in vendor management; wait for the ERP to follow."""
    await http.post(f"/vendor-management/suppliers/{supplier}/status", json={"status": status, "reason": "demo"})

    async def followed() -> bool:
        return bool((await http.get(f"/erp/suppliers/{supplier}")).json()["status"] == erp_status)

    await _eventually(followed)


async def _eventually(check: Callable[[], Awaitable[bool]]) -> bool:
    deadline = time.monotonic() + WAIT_SECONDS
    while not await check():
        if time.monotonic() > deadline:
            return False
        await asyncio.sleep(0.2)
    return True


async def _scan_finds_syringes(stack: EmbeddedStack) -> Row:
    """ITM-1005 was at 3 CS (reorder point 4) from the start; no event ever said so."""
    assert stack.client is not None
    await stack.client.get_schedule_handle("replenishment-scan").trigger()
    status = await _until(stack, SYRINGES, lambda s: s.order is not None and s.po_stage is not None)
    order = status.order if status else None
    ok = order is not None and (order.supplier_id, order.quantity, order.shipping) == ("SUP-0003", 7, "expedited")
    return _row(stack, "replenishment-scan (Schedule)", SYRINGES, status, ok, _ordered(status))
