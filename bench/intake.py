"""`python -m bench.intake [--invoices N]`: the end-to-end rate of one 810 file of N invoices
(default 1,000) through intake into running invoice workflows, on the embedded dev server (SQLite
file with WAL, as `supplybridge up` runs it) with a worker over in-memory systems
(tests/support/harness.py `Systems` with the procurement seed), so the numbers are the
pipeline's and the server's, not the sandbox's HTTP.

- Setup (timed, reported, not part of the rate): N purchase orders for SUP-0003 (the seed
  partner CASCADIAPHARM, an EDI supplier: each goes out as an 850), started with the vendor's
  acknowledgement (signal-with-start), waited for until `open`, then received as the dock does
  it: the receipt recorded in the (fake) ERP and the ERP's `receipt_recorded` signal to the PO.
  At most `--setup-concurrency` POs are in flight, so status polls do not swamp the server.
- The file: ONE interchange from the partner with one functional group of N 810s, one per PO,
  each line billing the PO line at its quantity, unit and price (a clean three-way match),
  written with domain/x12/writer.py and the partner's and our ids from the registry.
- Timed from the `submit_file` call (starter/operations/intake.py, as the CLI and API call it):
  until it returns, i.e. every invoice workflow has started (the intake result lists them), and
  separately until every invoice workflow completed `approved`. Any record that did not start,
  or an invoice not approved, stops the bench: a fast failure must not pass for throughput.
- Printed next to it: the intake activity's share of the intake's time (from the intake
  workflow's history) and the plain one-activity workflow's rate on the same server
  (bench.workloads.OneActivity, the ceiling `make bench` uses), and this process's peak RSS
  (worker, fakes and bench together; the dev server is another process).

PO setup costs more than the intake it prepares (each PO runs about ten local activities and is
polled until open): it is timed apart and the output says when it dominates the run. No
thresholds are asserted: this prints numbers.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import tempfile
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from bench.workloads import OneActivity, noop
from domain.intake import EdiIdentity, IntakeResult, IntakeSource, RecordOutcome
from domain.invoice_models import InvoiceOutcome
from domain.po_models import PoStage, PurchaseOrderInput
from domain.purchasing import PurchaseOrder, ReceiptLine, purchase_order_workflow_id
from domain.x12.codes import unit_to_x12
from domain.x12.context import ReferenceData
from domain.x12.writer import ControlNumbers, Envelope, Party, TransactionBody, implied_cents, interchange, number
from runtime.devserver import DevServer
from runtime.ports import free_port
from runtime.settings import Settings
from runtime.temporal_client import connect
from starter.operations.intake import submit_file
from starter.operations.processes import signal_name
from tests.support.harness import Systems
from tests.workflows.po_support import ack, purchase_order, until, with_procurement_seed
from worker import WORKFLOWS, activity_functions, workflow_runner
from workflows.invoice import InvoiceWorkflow
from workflows.purchase_order import PurchaseOrderWorkflow
from workflows.search_attributes import REGISTRATION

SUPPLIER = "SUP-0003"  # CASCADIAPHARM in the intake store's seed; trades by X12 only
PO_EXAMPLE = "po-cascadia-edi"
CEILING_RUNS = 200
SETUP_CONCURRENCY = 64
OPEN_TIMEOUT = 300.0  # seconds one PO may take to reach `open` on a busy machine


def bench_systems() -> Systems:
    """The procurement seed plus the EDI supplier itself in the ERP (the PO checks its standing)."""
    systems = with_procurement_seed(Systems())
    systems.erp.seed(SUPPLIER, "Cascadia Pharma Distribution Corp", "91-2233445")
    return systems


def bench_purchase_orders(count: int) -> list[PurchaseOrder]:
    run = uuid.uuid4().hex[:8]
    return [purchase_order(PO_EXAMPLE, po_number=f"PO-B{run}-{i:06d}") for i in range(count)]


async def open_and_receive(
    client: Client, queue: str, systems: Systems, po: PurchaseOrder, gate: asyncio.Semaphore
) -> None:
    """Started acknowledged, open, then every line received in the ERP and signalled to the PO."""
    async with gate:
        handle = await client.start_workflow(
            PurchaseOrderWorkflow.run,
            PurchaseOrderInput(po=po),
            id=purchase_order_workflow_id(po.po_number),
            task_queue=queue,
            start_signal=signal_name(PurchaseOrderWorkflow.acknowledgement_received),
            start_signal_args=[ack(po.po_number)],
        )
        await until(handle, lambda status: status.stage == PoStage.OPEN, timeout=OPEN_TIMEOUT)
        lines = [ReceiptLine(line=line.line, quantity=line.quantity, uom=line.uom) for line in po.lines]
        receipt = await systems.procurement.record_receipt(
            po.po_number, lines, received_by="bench-dock", idempotency_key=f"bench-dock-{po.po_number}"
        )
        await handle.signal(PurchaseOrderWorkflow.receipt_recorded, receipt)


def invoice_body(po: PurchaseOrder, invoice_number: str, reference: ReferenceData, now: datetime) -> TransactionBody:
    """An 810 billing every line of `po` as ordered: IT101 the PO line, the item by GTIN `UK`,
    vendor part `VP` and our id `BP` (as the partner echoes the 850's PO1)."""
    supplier = f"{po.supplier_id} invoicing"
    segments: list[tuple[str, Sequence[str]]] = [
        ("BIG", [f"{now:%Y%m%d}", invoice_number, f"{po.order_date or now.date():%Y%m%d}", po.po_number]),
        ("N1", ["RE", supplier, "92", po.supplier_id]),
    ]
    total = Decimal(0)
    for line in po.lines:
        item = reference.items.get(line.item_id)
        ids = [
            *(["UK", item.gtin] if item and item.gtin else []),
            *(["VP", item.mfr_part] if item and item.mfr_part else []),
        ]
        ids += ["BP", line.item_id]
        it1 = [str(line.line), number(line.quantity), unit_to_x12(line.uom), number(line.unit_price), "", *ids]
        segments.append(("IT1", it1))
        total += line.quantity * line.unit_price
    segments += [("TDS", [implied_cents(total)]), ("CTT", [str(len(po.lines))])]
    return TransactionBody("810", segments)


async def invoice_file(systems: Systems, pos: Sequence[PurchaseOrder]) -> bytes:
    """One interchange from the partner, one group, one 810 per PO."""
    partner = await asyncio.to_thread(systems.intake.partner_for_supplier, SUPPLIER)
    if partner is None:
        raise SystemExit(f"no trading partner for {SUPPLIER} in the intake store's seed")
    ours = EdiIdentity()
    reference = ReferenceData(await systems.contracts.list_items(), await systems.contracts.list_locations())
    now = datetime.now(UTC)
    control = int(time.time()) % 900_000_000 + 1  # a fresh interchange number per run
    envelope = Envelope(
        sender=Party(partner.isa_qualifier, partner.isa_id, partner.gs_id),
        receiver=Party(ours.isa_qualifier, ours.isa_id, ours.gs_id),
        control=ControlNumbers(interchange=control, group=control),
        now=now,
    )
    run = uuid.uuid4().hex[:6].upper()
    bodies = [invoice_body(po, f"CPD-B{run}-{i:06d}", reference, now) for i, po in enumerate(pos)]
    return interchange(envelope, "IN", bodies, []).encode()


async def intake_activity_seconds(client: Client, workflow_id: str) -> float:
    """Started to completed of the intake activity, from the intake workflow's history."""
    started = completed = None
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_STARTED:
            started = event.event_time.ToDatetime()
        elif event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_COMPLETED:
            completed = event.event_time.ToDatetime()
    if started is None or completed is None:
        raise SystemExit(f"{workflow_id}: no completed intake activity in its history")
    return (completed - started).total_seconds()


async def ceiling(client: Client, queue: str, runs: int) -> float:
    """One-activity workflows per second, all started at once and awaited."""
    started = time.perf_counter()
    handles = await asyncio.gather(
        *(
            client.start_workflow(OneActivity.run, i, id=f"bench-noop-{uuid.uuid4()}", task_queue=queue)
            for i in range(runs)
        )
    )
    await asyncio.gather(*(handle.result() for handle in handles))
    return runs / (time.perf_counter() - started)


def started_invoices(result: IntakeResult, expected: int) -> list[str]:
    """The invoice workflow ids the intake started; stops the bench on anything else."""
    wrong = [r for r in result.records if r.outcome is not RecordOutcome.STARTED or r.workflow_id is None]
    if result.refused or wrong or len(result.records) != expected:
        reasons = [f"{r.position}: {r.outcome.value} {r.reason or ''}" for r in wrong[:5]]
        raise SystemExit(f"intake did not start {expected} invoices: refused={result.refused!r}, "
                         f"{len(result.records)} records, {len(wrong)} not started {reasons}")  # fmt: skip
    return [r.workflow_id for r in result.records if r.workflow_id]


async def all_approved(client: Client, workflow_ids: Sequence[str]) -> None:
    results = await asyncio.gather(
        *(client.get_workflow_handle_for(InvoiceWorkflow.run, wid).result() for wid in workflow_ids)
    )
    outcomes = {result.outcome for result in results}
    if outcomes != {InvoiceOutcome.APPROVED}:
        raise SystemExit(f"invoices did not all complete approved: outcomes {sorted(map(str, outcomes))}")


async def main(count: int, ceiling_runs: int, setup_concurrency: int) -> None:
    with tempfile.TemporaryDirectory() as state:
        port = free_port()
        async with DevServer(
            state_dir=Path(state), port=port, ui_port=free_port(), search_attributes=dict(REGISTRATION)
        ):
            settings = Settings(temporal_address=f"127.0.0.1:{port}", task_queue=f"bench-intake-{uuid.uuid4()}")
            client = await connect(settings)
            systems = bench_systems()
            async with Worker(
                client,
                task_queue=settings.task_queue,
                workflows=[*WORKFLOWS, OneActivity],
                workflow_runner=workflow_runner(),
                activities=[noop, *activity_functions(*systems.activities())],
                max_concurrent_activities=100,
            ):
                await ceiling(client, settings.task_queue, 10)  # warm-up
                one_activity = await ceiling(client, settings.task_queue, ceiling_runs)

                pos = bench_purchase_orders(count)
                gate = asyncio.Semaphore(setup_concurrency)
                began = time.perf_counter()
                await asyncio.gather(*(open_and_receive(client, settings.task_queue, systems, po, gate) for po in pos))
                setup = time.perf_counter() - began

                data = await invoice_file(systems, pos)
                began = time.perf_counter()
                result = await submit_file(client, settings, systems.intake, "bench-810.edi", data, IntakeSource.CLI,
                                           "bench", wait=max(600.0, count))  # fmt: skip
                into_running = time.perf_counter() - began
                invoice_ids = started_invoices(result, count)
                await all_approved(client, invoice_ids)
                completed = time.perf_counter() - began
                activity_seconds = await intake_activity_seconds(client, f"intake-{result.file_id}")
    report(count, len(data), setup, into_running, completed, activity_seconds, one_activity, ceiling_runs)


def report(
    count: int,
    size: int,
    setup: float,
    into_running: float,
    completed: float,
    activity_seconds: float,
    one_activity: float,
    ceiling_runs: int,
) -> None:
    running_rate, completed_rate = count / into_running, count / completed
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(f"invoices:                          {count:7d}  (one 810 interchange, {size / 1024:,.0f} KiB)")
    print(f"purchase order setup:              {setup:7.1f} s  ({count / setup:.1f} POs/s: acknowledged, open,"
          f" received; not in the rates below)")  # fmt: skip
    print(
        f"file to every invoice started:     {into_running:7.1f} s  {running_rate:7.1f} invoices/s into running workflows"
    )
    print(
        f"  intake activity:                 {activity_seconds:7.1f} s  ({activity_seconds / into_running:.0%} of it)"
    )
    print(f"file to every invoice approved:    {completed:7.1f} s  {completed_rate:7.1f} invoices/s completed")
    print(f"one-activity workflow (ceiling):   {one_activity:7.1f} workflows/s ({ceiling_runs} runs, same server)")
    print(f"ratio started / ceiling:           {running_rate / one_activity:7.2f}")
    print(f"ratio approved / ceiling:          {completed_rate / one_activity:7.2f}")
    print(f"peak RSS of this process:          {peak_rss:7.0f} MiB  (worker, fakes and bench; not the dev server)")
    if setup > completed:
        print(f"note: PO setup dominates this run ({setup:.0f} s of {setup + completed:.0f} s)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=1000, help="invoices in the 810 file (one PO each)")
    parser.add_argument("--ceiling-runs", type=int, default=CEILING_RUNS, help="one-activity workflows for the ceiling")
    parser.add_argument("--setup-concurrency", type=int, default=SETUP_CONCURRENCY, help="POs set up at once")
    arguments = parser.parse_args()
    asyncio.run(main(arguments.invoices, arguments.ceiling_runs, arguments.setup_concurrency))
