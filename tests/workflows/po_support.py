"""Building and driving purchase orders and invoices in the workflow tests."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from temporalio.client import Client, WorkflowHandle

from domain.invoice_models import InvoiceInput, InvoicePolicy, InvoiceResult, InvoiceStatus
from domain.po_models import PoPolicy, PoResult, PoStatus, PurchaseOrderInput
from domain.purchasing import (
    AckLineStatus,
    AcknowledgementLine,
    Invoice,
    PoAcknowledgement,
    PurchaseOrder,
    invoice_workflow_id,
    purchase_order_workflow_id,
)
from tests.examples import example_json
from tests.support.fakes import seed_contracts
from tests.support.harness import Harness, Systems
from workflows.invoice import InvoiceWorkflow
from workflows.purchase_order import PurchaseOrderWorkflow

ORDER_DATE = date(2026, 11, 24)


def with_procurement_seed(systems: Systems) -> Systems:
    systems.contracts.contracts.update(seed_contracts())
    systems.erp.seed("SUP-0004", "Bayview Orthopedic Implants Inc", "27-1234567")
    return systems


def purchase_order(name: str = "po-northgate-gowns", **changes: Any) -> PurchaseOrder:
    data = example_json(f"purchase-orders/{name}.json")
    data.setdefault("order_date", ORDER_DATE.isoformat())
    data.update(changes)
    return PurchaseOrder.model_validate(data)


def invoice(name: str = "inv-clean", **changes: Any) -> Invoice:
    data = example_json(f"invoices/{name}.json")
    data.update(changes)
    return Invoice.model_validate(data)


async def start_po_on(
    client: Client, queue: str, po: PurchaseOrder, policy: PoPolicy | None = None
) -> WorkflowHandle[Any, PoResult]:
    return await client.start_workflow(
        PurchaseOrderWorkflow.run,
        PurchaseOrderInput(po=po, policy=policy or PoPolicy()),
        id=purchase_order_workflow_id(po.po_number),
        task_queue=queue,
        result_type=PoResult,
    )


async def start_po(h: Harness, po: PurchaseOrder, policy: PoPolicy | None = None) -> WorkflowHandle[Any, PoResult]:
    return await start_po_on(h.client, h.task_queue, po, policy)


async def start_invoice_on(
    client: Client, queue: str, inv: Invoice, policy: InvoicePolicy | None = None, *, suffix: str = ""
) -> WorkflowHandle[Any, InvoiceResult]:
    return await client.start_workflow(
        InvoiceWorkflow.run,
        InvoiceInput(invoice=inv, policy=policy or InvoicePolicy()),
        id=invoice_workflow_id(inv.supplier_id, inv.invoice_number) + suffix,
        task_queue=queue,
        result_type=InvoiceResult,
    )


async def start_invoice(
    h: Harness, inv: Invoice, policy: InvoicePolicy | None = None, *, suffix: str = ""
) -> WorkflowHandle[Any, InvoiceResult]:
    return await start_invoice_on(h.client, h.task_queue, inv, policy, suffix=suffix)


async def po_status(handle: WorkflowHandle) -> PoStatus:
    status: PoStatus = await handle.query(PurchaseOrderWorkflow.status)
    return status


async def invoice_status(handle: WorkflowHandle) -> InvoiceStatus:
    status: InvoiceStatus = await handle.query(InvoiceWorkflow.status)
    return status


async def until(handle: WorkflowHandle, predicate: Any, *, invoice_run: bool = False, timeout: float = 15) -> Any:
    """Poll the run's status query until `predicate(status)` holds (deadline, no fixed sleep)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await (invoice_status(handle) if invoice_run else po_status(handle))
        if predicate(status):
            return status
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not reached; last status {status.model_dump_json()}")
        await asyncio.sleep(0.05)


def ack(po_number: str, *lines: AcknowledgementLine) -> PoAcknowledgement:
    return PoAcknowledgement(
        event_id=f"ack-{uuid.uuid4().hex}", po_number=po_number, acknowledged_at=datetime.now(UTC), lines=list(lines)
    )


def line(number: int, status: AckLineStatus, **kw: Any) -> AcknowledgementLine:
    return AcknowledgementLine(line=number, status=status, **kw)


async def open_po(
    h: Harness, po: PurchaseOrder, *acks: AcknowledgementLine, policy: PoPolicy | None = None
) -> WorkflowHandle:
    """Started, acknowledged (accepted unless `acks` say otherwise) and open."""
    handle = await start_po(h, po, policy)
    await until(handle, lambda s: s.stage == "awaiting_acknowledgement")
    await handle.signal(PurchaseOrderWorkflow.acknowledgement_received, ack(po.po_number, *acks))
    await until(handle, lambda s: s.stage == "open")
    return handle


async def receive(handle: WorkflowHandle, line_number: int, quantity: str, uom: str | None = None) -> PoStatus:
    from domain.po_models import ReceiptRequest

    status: PoStatus = await handle.execute_update(
        PurchaseOrderWorkflow.record_receipt,
        ReceiptRequest(line=line_number, quantity=Decimal(quantity), uom=uom),
    )
    return status


SHORT = PoPolicy(ack_sla=timedelta(hours=4), ack_cancel_after=timedelta(hours=4), decision_sla=timedelta(hours=8))


async def refused(awaitable: Any, fragment: str) -> None:
    """The Update was refused by its validator (or handler) with a message containing `fragment`."""
    from temporalio.client import WorkflowUpdateFailedError

    try:
        await awaitable
    except WorkflowUpdateFailedError as error:
        assert fragment in str(error.cause), str(error.cause)
    else:
        raise AssertionError(f"the update was accepted; expected a refusal with {fragment!r}")
