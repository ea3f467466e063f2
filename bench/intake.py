"""`python -m bench.intake [--invoices N]`: the end-to-end rate of one 810 file of N invoices
(default 1,000) through intake into running invoice workflows, on the embedded dev server (SQLite
with WAL, as `supplybridge up` runs it) and a worker over the in-memory systems of the tests
(procurement seed), so the numbers are the pipeline's and the server's, not the sandbox's HTTP.

- Setup, timed apart: N purchase orders for SUP-0003 (seed partner CASCADIAPHARM; each goes out
  as an 850), started with the vendor's acknowledgement (signal-with-start), 50 in flight. When a
  PO publishes `purchase_order.acknowledged` (it is then in the ERP and open; heard from the fake
  event store, as polling status queries would load the server more than the POs do), it is
  received as the dock does it: recorded in the (fake) ERP, then `receipt_recorded` to the PO.
- The file: ONE interchange, one group, one 810 per PO billing its lines as ordered (a clean
  three-way match), written with domain/x12/writer.py and the registry's ids for both sides.
- Timed from the `submit_file` call (as the CLI and API make it) until it returns, i.e. every
  invoice workflow has started (the intake result lists them), and until every invoice completed
  `approved`. A record not started or an invoice not approved stops the bench: a fast failure
  must not pass for throughput. No thresholds are asserted.
- Next to it: the intake activity's share (from the intake workflow's history), the one-activity
  workflow rate of the same server (bench.workloads.OneActivity, the ceiling of `make bench`),
  CPU of the worker process and of the dev server, and this process's peak RSS.

PO setup takes about as long as the file itself (1,000 on 2 shared cores: 82 s against 92 s):
each PO runs about eight local activities before it is open. The output flags it when it
dominates.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

from temporalio.api.enums.v1 import EventType
from temporalio.client import Client
from temporalio.worker import Worker

from bench.workloads import OneActivity, noop
from domain.audit import AuditRecord
from domain.events import BusinessEvent
from domain.intake import EdiIdentity, IntakeResult, IntakeSource, RecordOutcome, intake_workflow_id
from domain.invoice_models import InvoiceOutcome
from domain.po_models import PurchaseOrderInput
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
from tests.support.fakes import FakeStore
from tests.support.harness import Systems
from tests.workflows.po_support import ack, purchase_order, with_procurement_seed
from worker import WORKFLOWS, activity_functions, workflow_runner
from workflows.invoice import InvoiceWorkflow
from workflows.purchase_order import PurchaseOrderWorkflow
from workflows.search_attributes import REGISTRATION

SUPPLIER = "SUP-0003"  # CASCADIAPHARM in the intake store's seed; trades by X12 only
PO_EXAMPLE = "po-cascadia-edi"
CEILING_RUNS = 200
SETUP_IN_FLIGHT = 50  # POs set up at once: more only lengthens each one's first workflow task
OPEN_TIMEOUT = 600.0  # seconds the POs may take to be acknowledged on a busy machine
ACKNOWLEDGED = "purchase_order.acknowledged"
PO_ENDINGS = ("purchase_order.rejected", "purchase_order.cancelled")


class AcknowledgementWatch(FakeStore):
    """The fake store of business events, also telling the bench when a PO published its
    acknowledgement (or its end): the bench waits on that instead of polling each PO's status
    query, which at 1,000 POs loads the server more than the POs themselves do. Events are
    appended from activity threads, hence `call_soon_threadsafe`."""

    def __init__(self) -> None:
        super().__init__()
        self._loop = asyncio.get_running_loop()
        self._waiting: dict[str, asyncio.Future[str]] = {}

    def expect(self, workflow_id: str) -> asyncio.Future[str]:
        """Resolves with the event type: the acknowledgement, or the PO's rejection or cancel."""
        future: asyncio.Future[str] = self._loop.create_future()
        self._waiting[workflow_id] = future
        return future

    def append_event(self, event: BusinessEvent, *, audit: AuditRecord | None = None) -> bool:
        fresh = super().append_event(event, audit=audit)
        future = self._waiting.get(event.workflow_id or "")
        if future is not None and event.type in (ACKNOWLEDGED, *PO_ENDINGS):
            self._loop.call_soon_threadsafe(_resolve, future, event.type)
        return fresh


def _resolve(future: asyncio.Future[str], value: str) -> None:
    if not future.done():
        future.set_result(value)


def bench_systems() -> Systems:
    """The procurement seed plus the EDI supplier itself in the ERP (the PO checks its standing)."""
    systems = with_procurement_seed(Systems(store=AcknowledgementWatch()))
    systems.erp.seed(SUPPLIER, "Cascadia Pharma Distribution Corp", "91-2233445")
    return systems


def bench_purchase_orders(count: int) -> list[PurchaseOrder]:
    run = uuid.uuid4().hex[:8]
    return [purchase_order(PO_EXAMPLE, po_number=f"PO-B{run}-{i:06d}") for i in range(count)]


async def open_and_receive(
    client: Client, queue: str, systems: Systems, po: PurchaseOrder, gate: asyncio.Semaphore
) -> None:
    """Started acknowledged; once the PO applied the acknowledgement (so it is in the ERP and
    open), every line received as the dock does it: in the ERP, then the ERP's signal to the PO."""
    assert isinstance(systems.store, AcknowledgementWatch)
    workflow_id = purchase_order_workflow_id(po.po_number)
    async with gate:
        acknowledged = systems.store.expect(workflow_id)
        handle = await client.start_workflow(
            PurchaseOrderWorkflow.run,
            PurchaseOrderInput(po=po),
            id=workflow_id,
            task_queue=queue,
            start_signal=signal_name(PurchaseOrderWorkflow.acknowledgement_received),
            start_signal_args=[ack(po.po_number)],
        )
        if (event := await asyncio.wait_for(acknowledged, OPEN_TIMEOUT)) != ACKNOWLEDGED:
            raise SystemExit(f"{workflow_id} was not acknowledged: {event}")
    lines = [ReceiptLine(line=line.line, quantity=line.quantity, uom=line.uom) for line in po.lines]
    receipt = await systems.procurement.record_receipt(
        po.po_number, lines, received_by="bench-dock", idempotency_key=f"bench-dock-{po.po_number}"
    )
    await handle.signal(PurchaseOrderWorkflow.receipt_recorded, receipt)


def invoice_body(po: PurchaseOrder, invoice_number: str, reference: ReferenceData, now: datetime) -> TransactionBody:
    """An 810 billing every line of `po` as ordered: IT101 the PO line, the item by GTIN `UK`,
    vendor part `VP` and our id `BP` (as the partner echoes the 850's PO1)."""
    segments: list[tuple[str, Sequence[str]]] = [
        ("BIG", [f"{now:%Y%m%d}", invoice_number, f"{po.order_date or now.date():%Y%m%d}", po.po_number]),
        ("N1", ["RE", "Cascadia Pharma Distribution Corp", "92", po.supplier_id]),
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


@dataclass(frozen=True)
class Span:
    """Wall seconds, and CPU seconds of this process (the worker, its fakes and the bench: one
    Python process, so about 1.0 CPU per wall second means the worker, not the server, is the
    limit)."""

    wall: float
    cpu: float

    @staticmethod
    def mark() -> Span:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return Span(time.perf_counter(), usage.ru_utime + usage.ru_stime)

    def since(self) -> Span:
        now = Span.mark()
        return Span(now.wall - self.wall, now.cpu - self.cpu)


@dataclass(frozen=True)
class Measured:
    invoices: int
    file_bytes: int
    ceiling: float  # one-activity workflows per second
    ceiling_runs: int
    setup: Span
    into_running: Span
    completed: Span
    intake_activity: float  # wall seconds, from the intake workflow's history
    whole_run: Span
    server_cpu: float  # the dev server's CPU seconds over the whole run (it is a child process)


async def main(count: int, ceiling_runs: int) -> Measured:
    run_began = Span.mark()
    server_cpu_before = _children_cpu()
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
                progress(f"ceiling {one_activity:.1f} workflows/s; setting up {count} purchase orders")

                pos = bench_purchase_orders(count)
                gate = asyncio.Semaphore(SETUP_IN_FLIGHT)
                began = Span.mark()
                await asyncio.gather(*(open_and_receive(client, settings.task_queue, systems, po, gate) for po in pos))
                setup = began.since()
                progress(f"{count} purchase orders open and received in {setup.wall:.1f} s; submitting the 810 file")

                data = await invoice_file(systems, pos)
                began = Span.mark()
                result = await submit_file(client, settings, systems.intake, "bench-810.edi", data, IntakeSource.CLI,
                                           "bench", wait=max(600.0, count))  # fmt: skip
                into_running = began.since()
                progress(f"{len(result.records)} invoice workflows started in {into_running.wall:.1f} s; awaiting them")
                invoice_ids = started_invoices(result, count)
                await all_approved(client, invoice_ids)
                completed = began.since()
                activity_seconds = await intake_activity_seconds(client, intake_workflow_id(result.file_id))
    return Measured(invoices=count, file_bytes=len(data), ceiling=one_activity, ceiling_runs=ceiling_runs,
                    setup=setup, into_running=into_running, completed=completed, intake_activity=activity_seconds,
                    whole_run=run_began.since(), server_cpu=_children_cpu() - server_cpu_before)  # fmt: skip


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def progress(message: str) -> None:
    print(f"[bench.intake] {message}", file=sys.stderr, flush=True)


def report(m: Measured) -> None:
    running_rate, completed_rate = m.invoices / m.into_running.wall, m.invoices / m.completed.wall
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux

    def row(label: str, seconds: float | None, rate: float | None, unit: str, note: str) -> None:
        took = f"{seconds:7.1f} s" if seconds is not None else " " * 9
        pace = f"{rate:8.1f} {unit:<13}" if rate is not None else " " * 22
        print(f"{label:<33}{took}{pace} {note}".rstrip())

    def cpu(span: Span) -> str:
        return f"worker process at {span.cpu / span.wall:.2f} CPU"

    row("invoices:", None, None, "", f"{m.invoices} in one 810 interchange of {m.file_bytes / 1024:,.0f} KiB")
    row("purchase order setup:", m.setup.wall, m.invoices / m.setup.wall, "POs/s",
        f"acknowledged, open, received (not in the rates below); {cpu(m.setup)}")  # fmt: skip
    row("file to every invoice started:", m.into_running.wall, running_rate, "invoices/s",
        f"into running workflows; {cpu(m.into_running)}")  # fmt: skip
    row("  the intake activity:", m.intake_activity, None, "",
        f"{m.intake_activity / m.into_running.wall:.0%} of it (its history: started to completed)")  # fmt: skip
    row("file to every invoice approved:", m.completed.wall, completed_rate, "invoices/s",
        f"completed; {cpu(m.completed)}")  # fmt: skip
    row("one-activity workflow (ceiling):", None, m.ceiling, "workflows/s", f"same server, {m.ceiling_runs} runs")
    print(f"{'ratio started / ceiling:':<33}{'':9}{running_rate / m.ceiling:8.2f}")
    print(f"{'ratio approved / ceiling:':<33}{'':9}{completed_rate / m.ceiling:8.2f}")
    row("whole run:", m.whole_run.wall, None, "",
        f"CPU seconds: worker process {m.whole_run.cpu:.0f}, dev server {m.server_cpu:.0f}")  # fmt: skip
    row("peak RSS of this process:", None, peak_rss, "MiB", "worker, fakes and bench (not the dev server)")
    if m.setup.wall > m.completed.wall:
        print(f"note: PO setup dominates ({m.setup.wall:.0f} s against {m.completed.wall:.0f} s for the file itself)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--invoices", type=int, default=1000, help="invoices in the 810 file (one PO each)")
    parser.add_argument("--ceiling-runs", type=int, default=CEILING_RUNS, help="one-activity workflows for the ceiling")
    arguments = parser.parse_args()
    report(asyncio.run(main(arguments.invoices, arguments.ceiling_runs)))
