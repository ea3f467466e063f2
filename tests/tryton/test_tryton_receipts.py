"""`TrytonProcurement` receipts against a real Tryton (JSON-RPC only): over-receipts recorded
through Tryton's warning, and receipts that stop half way (finished by a retry with the same key,
or undone when Tryton refuses them). What each leaves in Tryton is read back with search_read.

The module shares one bootstrapped database (`tryton_endpoint`, tests/tryton/conftest.py); each
test uses its own PO numbers and keys. A receipt is interrupted by `Interrupting`, a transport that
stops one named call on its way to Tryton: the connection drops, or a refusal is answered instead.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from decimal import Decimal
from typing import Any

import httpx
import pytest

from adapters.errors import BusinessRuleError, TransientError
from adapters.tryton.procurement import TrytonProcurement
from adapters.tryton.rpc import TrytonRpc
from domain.purchasing import PurchaseOrder, ReceiptLine
from runtime.tryton_server import TrytonEndpoint
from tests.examples import example_json

SHIPMENT = "stock.shipment.in"


class Interrupting(httpx.AsyncBaseTransport):
    """Passes every request to Tryton except the first call of `method` (e.g. `stock.shipment.in.receive`),
    which never reaches it: the connection drops, or, given a `refusal` (Tryton's JSON-RPC `error`),
    that refusal is the answer."""

    def __init__(self, method: str, refusal: list[Any] | None = None) -> None:
        self._inner = httpx.AsyncHTTPTransport()
        self._method = f"model.{method}"
        self._refusal = refusal
        self.interrupted = 0

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        await request.aread()
        body = json.loads(request.content or b"{}")
        if self.interrupted or body.get("method") != self._method:
            return await self._inner.handle_async_request(request)
        self.interrupted += 1
        if self._refusal is None:
            raise httpx.ConnectError(f"{self._method} dropped before it reached Tryton", request=request)
        return httpx.Response(200, json={"id": body.get("id"), "error": self._refusal})

    async def aclose(self) -> None:
        await self._inner.aclose()


@pytest.fixture
async def rpc(tryton_endpoint: TrytonEndpoint) -> AsyncIterator[TrytonRpc]:
    async with tryton_endpoint.rpc() as client:
        yield client


@pytest.fixture
async def erp(rpc: TrytonRpc) -> TrytonProcurement:
    return TrytonProcurement(rpc)


@asynccontextmanager
async def interrupted_erp(endpoint: TrytonEndpoint, transport: Interrupting) -> AsyncIterator[TrytonProcurement]:
    async with TrytonRpc(
        endpoint.url, endpoint.database, user=endpoint.user, password=endpoint.password, transport=transport
    ) as client:
        yield TrytonProcurement(client)


async def opened(erp: TrytonProcurement, po_number: str) -> None:
    """20 CS of ITM-1002 (line 1) and 10 BX of ITM-1003 (line 2), as examples/."""
    po = PurchaseOrder.model_validate(
        {**example_json("purchase-orders/po-northgate-gowns.json"), "po_number": po_number}
    )
    await erp.create_purchase_order(po, idempotency_key=f"{po_number}-create")


def cases(quantity: str, line: int = 1, uom: str = "CS") -> list[ReceiptLine]:
    return [ReceiptLine(line=line, quantity=Decimal(quantity), uom=uom)]


async def shipments(rpc: TrytonRpc, key: str) -> list[tuple[str, list[int]]]:
    rows = await rpc.search_read(SHIPMENT, [("reference", "=", key)], ["state", "incoming_moves"])
    return [(row["state"], row["incoming_moves"]) for row in rows]


async def waiting(rpc: TrytonRpc, po_number: str) -> list[tuple[Decimal, str]]:
    """The purchase's moves still to arrive (quantity, unit), in Tryton."""
    [purchase] = await rpc.search_read("purchase.purchase", [("reference", "=", po_number)], ["id"])
    moves = await rpc.search_read(
        "stock.move",
        [("purchase", "=", purchase["id"]), ("state", "=", "draft"), ("shipment", "=", None)],
        ["quantity", "unit.symbol"],
    )
    return sorted((move["quantity"], move["unit."]["symbol"]) for move in moves)


async def test_over_receipts_are_recorded_by_accepting_trytons_warning(erp: TrytonProcurement, rpc: TrytonRpc) -> None:
    await opened(erp, "PO-R-1")
    first = await erp.record_receipt("PO-R-1", cases("15"), received_by="dock", idempotency_key="r1-a")

    beyond = await erp.record_receipt("PO-R-1", cases("6"), received_by="dock", idempotency_key="r1-b")
    both = [ReceiptLine(line=1, quantity=Decimal(2), uom="CS"), ReceiptLine(line=2, quantity=Decimal(12), uom="BX")]
    again = await erp.record_receipt("PO-R-1", both, received_by="dock", idempotency_key="r1-c")

    assert [(ln.line, ln.quantity, ln.uom) for ln in beyond.lines] == [(1, 6, "CS")]
    assert [(ln.line, ln.quantity, ln.uom) for ln in again.lines] == [(1, 2, "CS"), (2, 12, "BX")]
    assert await erp.list_receipts("PO-R-1") == [first, beyond, again]
    assert await erp.record_receipt("PO-R-1", both, received_by="dock", idempotency_key="r1-c") == again
    for key in ("r1-b", "r1-c"):
        assert [state for state, _ in await shipments(rpc, key)] == ["done"]
    assert await waiting(rpc, "PO-R-1") == []  # nothing more expected: 23 CS and 12 BX arrived
    # each warning was accepted once: Tryton deletes a one-time acceptance when it is used
    assert await rpc.search_read("res.user.warning", [("name", "like", "%.check_move_quantity")], ["id"]) == []


@pytest.mark.parametrize(("stopped_call", "left_as"), [("receive", "draft"), ("do", "received")])
async def test_a_retry_finishes_a_receipt_that_stopped_half_way(
    erp: TrytonProcurement, rpc: TrytonRpc, tryton_endpoint: TrytonEndpoint, stopped_call: str, left_as: str
) -> None:
    po_number, key = f"PO-R-2-{stopped_call}", f"r2-{stopped_call}"
    await opened(erp, po_number)
    transport = Interrupting(f"{SHIPMENT}.{stopped_call}")
    async with interrupted_erp(tryton_endpoint, transport) as interrupted:
        with pytest.raises(TransientError):
            await interrupted.record_receipt(po_number, cases("15"), received_by="dock", idempotency_key=key)
        [(state, moves)] = await shipments(rpc, key)
        assert (transport.interrupted, state, len(moves)) == (1, left_as, 1)
        assert await erp.list_receipts(po_number) == []

        receipt = await interrupted.record_receipt(po_number, cases("15"), received_by="dock", idempotency_key=key)

    assert [(ln.line, ln.quantity, ln.uom) for ln in receipt.lines] == [(1, 15, "CS")]
    assert receipt.received_by == "dock"
    assert [state for state, _ in await shipments(rpc, key)] == ["done"]
    assert await erp.list_receipts(po_number) == [receipt]
    assert await waiting(rpc, po_number) == [(5, "CS"), (10, "BX")]


async def test_a_receipt_tryton_refuses_leaves_no_shipment_behind(
    erp: TrytonProcurement, rpc: TrytonRpc, tryton_endpoint: TrytonEndpoint
) -> None:
    await opened(erp, "PO-R-3")
    await erp.record_receipt("PO-R-3", cases("4"), received_by="dock", idempotency_key="r3-a")
    refusal = ["UserError", ["The shipment cannot be received.", "", None]]
    async with interrupted_erp(tryton_endpoint, Interrupting(f"{SHIPMENT}.receive", refusal)) as interrupted:
        with pytest.raises(BusinessRuleError) as refused:
            await interrupted.record_receipt("PO-R-3", cases("10"), received_by="dock-r3", idempotency_key="r3-b")

    assert refused.value.code == "user_error"
    assert await shipments(rpc, "r3-b") == []
    assert await rpc.search_read("ir.note", [("message", "=", "dock-r3")], ["id"]) == []
    assert await waiting(rpc, "PO-R-3") == [(10, "BX"), (16, "CS")]  # as before the refused receipt
    assert len(await erp.list_receipts("PO-R-3")) == 1
    later = await erp.record_receipt("PO-R-3", cases("16"), received_by="dock", idempotency_key="r3-b")
    assert [(ln.line, ln.quantity) for ln in later.lines] == [(1, 16)]
    assert await waiting(rpc, "PO-R-3") == [(10, "BX")]
