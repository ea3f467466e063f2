"""`make bench`: throughput measured side by side in one run on the embedded dev server (SQLite
file with WAL, as `supplybridge up` runs it), printed as a ratio.

- ceiling: a one-activity workflow, the most this machine's server can complete per second;
- onboarding: the supplier-onboarding workflow over in-memory systems (tests/support/fakes.py), so the
  number is the orchestration cost (server round trips), not the sandbox's HTTP;
- the API: `POST /v1/purchase-orders` end to end next to a bare FastAPI route (bench/api.py);
- purchase orders: the PO workflow driven to completion over the same kind of in-memory systems:
  started with the vendor's acknowledgement (signal-with-start), then the ERP's receipt and the
  invoice workflow's approval as signals, exactly as those systems deliver them; it validates
  (three checks side by side), creates, reserves and notifies (side by side), applies the
  acknowledgement, receives, closes in the ERP and publishes its events (local activities).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

from temporalio.client import Client
from temporalio.worker import Worker

from bench import api as api_bench
from bench.workloads import OneActivity, noop
from domain.onboarding import OnboardSupplierInput
from domain.po_models import PoInvoiceNotice, PurchaseOrderInput
from domain.purchasing import Receipt, ReceiptLine, purchase_order_workflow_id
from runtime.devserver import DevServer
from runtime.ports import free_port
from runtime.settings import Settings
from runtime.temporal_client import connect
from starter.operations.processes import signal_name
from tests.examples import supplier_request
from tests.support.harness import Systems
from tests.workflows.po_support import ack, purchase_order, with_procurement_seed
from worker import WORKFLOWS, activity_functions, workflow_runner
from workflows.onboarding import SupplierOnboardingWorkflow
from workflows.purchase_order import PurchaseOrderWorkflow
from workflows.search_attributes import REGISTRATION


async def _throughput(client: Client, queue: str, count: int, start_one) -> float:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    handles = await asyncio.gather(*(start_one(client, queue, i) for i in range(count)))
    results = await asyncio.gather(*(h.result() for h in handles))
    elapsed = time.perf_counter() - started
    outcomes = {r.get("outcome", "done") if isinstance(r, dict) else "done" for r in results}
    if not outcomes <= {"done", "closed", "onboarded"}:  # a fast rejection must not pass for throughput
        raise SystemExit(f"bench runs did not complete as intended: outcomes {sorted(outcomes)}")
    return count / elapsed


async def _start_one_activity(client: Client, queue: str, i: int):  # type: ignore[no-untyped-def]
    return await client.start_workflow(OneActivity.run, i, id=f"bench-noop-{uuid.uuid4()}", task_queue=queue)


async def _start_onboarding(client: Client, queue: str, i: int):  # type: ignore[no-untyped-def]
    request = supplier_request(
        "new-supplier",
        source={"system": "vendor_management", "id": f"VM-B{i:06d}"},
        legal_name=f"X{uuid.uuid4().hex[:16]} LLC",  # unrelated names: no duplicate review
        tax_id={"kind": "EIN", "value": f"45-{1000000 + i:07d}"},
    )
    return await client.start_workflow(
        SupplierOnboardingWorkflow.run,
        OnboardSupplierInput(request=request),
        id=f"bench-onboarding-{uuid.uuid4()}",
        task_queue=queue,
    )


async def _drive_purchase_order(client: Client, queue: str, i: int):  # type: ignore[no-untyped-def]
    po = purchase_order(po_number=f"PO-B{uuid.uuid4().hex[:12]}")
    handle = await client.start_workflow(
        PurchaseOrderWorkflow.run,
        PurchaseOrderInput(po=po),
        id=purchase_order_workflow_id(po.po_number),
        task_queue=queue,
        start_signal=signal_name(PurchaseOrderWorkflow.acknowledgement_received),
        start_signal_args=[ack(po.po_number)],
    )
    receipt = Receipt(
        receipt_id=f"RCV-{po.po_number}",
        po_number=po.po_number,
        lines=[ReceiptLine(line=line.line, quantity=line.quantity, uom=line.uom) for line in po.lines],
    )
    await handle.signal(PurchaseOrderWorkflow.receipt_recorded, receipt)
    notice = PoInvoiceNotice(
        invoice_workflow_id=f"invoice-{po.po_number}",
        invoice_number="B-1",
        outcome="approved",
        lines=[(line.line, line.quantity) for line in po.lines],
    )
    await handle.signal(PurchaseOrderWorkflow.invoice_recorded, notice)
    return handle


async def main(count: int, only_api: bool = False) -> None:
    with tempfile.TemporaryDirectory() as state:
        port = free_port()
        async with DevServer(
            state_dir=Path(state), port=port, ui_port=free_port(), search_attributes=dict(REGISTRATION)
        ):
            client = await connect(Settings(temporal_address=f"127.0.0.1:{port}"))
            queue = f"bench-{uuid.uuid4()}"
            unpolled = f"bench-api-{uuid.uuid4()}"  # the API comparison's runs: no worker takes CPU for them
            async with Worker(
                client,
                task_queue=queue,
                workflows=[*WORKFLOWS, OneActivity],
                workflow_runner=workflow_runner(),
                activities=[noop, *activity_functions(*with_procurement_seed(Systems()).activities())],
                max_concurrent_activities=100,
            ):
                await _throughput(client, queue, 10, _start_one_activity)  # warm-up
                if only_api:
                    api, raw, bare = await api_bench.measure(client, f"127.0.0.1:{port}", unpolled, Path(state), count)
                    _print_api(api, raw, bare, count)
                    return
                ceiling = await _throughput(client, queue, count, _start_one_activity)
                onboarding = await _throughput(client, queue, count, _start_onboarding)
                purchase_orders = await _throughput(client, queue, count, _drive_purchase_order)
                api, raw, bare = await api_bench.measure(client, f"127.0.0.1:{port}", unpolled, Path(state), count)
    print(f"one-activity workflow (ceiling): {ceiling:7.1f} workflows/s  ({count} runs)")
    print(f"supplier onboarding:             {onboarding:7.1f} onboardings/s ({count} runs, 7 activities, 6 local)")
    print(f"ratio onboarding / ceiling:      {onboarding / ceiling:7.2f}  (target 0.50)")
    print(f"purchase order to closed:        {purchase_orders:7.1f} POs/s ({count} runs, 10 local activities each)")
    print(f"ratio purchase orders / ceiling: {purchase_orders / ceiling:7.2f}  (target 0.40)")
    _print_api(api, raw, bare, count)


def _print_api(api: api_bench.Latencies, raw: api_bench.Latencies, bare: api_bench.Latencies, count: int) -> None:
    print(api.line("POST /v1/purchase-orders:"))
    print(raw.line("raw client.start_workflow:"))
    print(f"ratio API / raw start:           {api.rps / raw.rps:7.2f}  (target 0.80; 16 at once; medians of"
          f" {api_bench.ROUNDS} alternating rounds, runs on a queue no worker polls)")  # fmt: skip
    print(bare.line("bare FastAPI route:"))
    print(f"ratio API / bare route:          {api.rps / bare.rps:7.2f}  ({count} requests each, 16 at once)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100, help="workflows per measurement")
    parser.add_argument("--only-api", action="store_true", help="only the API measurement (and the raw start)")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.count, arguments.only_api))
