"""A day of traffic as the KPI report sees it (business events and visibility rows), with the
numbers it must give worked out by hand in tests/unit/test_kpis.py, a fake of Temporal
visibility that answers the report's queries from the rows, and the daily report's ports for
test workers that never run it (`unused_report_ports`, for `worker.build_activities`)."""

from __future__ import annotations

import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from activities.reports import ReportPorts
from domain.events import BusinessEvent
from domain.kpi_models import KpiReport, KpiWindow, RunRecord

T0 = datetime(2026, 11, 24, tzinfo=UTC)
DAY = KpiWindow(since=T0, until=T0 + timedelta(days=1))
H, M = timedelta(hours=1), timedelta(minutes=1)


@dataclass
class Traffic:
    events: list[BusinessEvent] = field(default_factory=list)
    onboarding_runs: list[RunRecord] = field(default_factory=list)
    other_runs: list[RunRecord] = field(default_factory=list)

    def add(self, at: datetime, type: str, subject: str, workflow_id: str, run_id: str = "run-1", **data: Any) -> None:
        n = len(self.events)
        self.events.append(BusinessEvent(event_id=f"{workflow_id}:{run_id}:{n}:{type}", type=type, subject=subject,
                                         workflow_id=workflow_id, occurred_at=at, data=data))  # fmt: skip

    def onboarding(self, vendor: str, started: datetime, ended: datetime, type: str, **data: Any) -> None:
        workflow_id, run_id = f"supplier-onboarding-{vendor}", f"run-{vendor}"
        run = RunRecord(workflow_id=workflow_id, run_id=run_id, workflow_type="SupplierOnboarding", status="completed",
                        start_time=started, close_time=ended + M)  # fmt: skip
        self.onboarding_runs.append(run)
        self.add(ended, type, vendor, workflow_id, run_id, vendor_id=vendor, **data)

    def po(self, at: datetime, type: str, po: str, **data: Any) -> None:
        self.add(at, f"purchase_order.{type}", po, f"purchase-order-{po}", supplier_id="SUP-0001", **data)

    def invoice(self, at: datetime, type: str, number: str, **data: Any) -> None:
        self.add(at, f"invoice.{type}", f"SUP-0001/{number}", f"invoice-SUP-0001-{number}", po_number="PO-1",
                 invoice_number=number, **data)  # fmt: skip

    def failed(self, workflow_id: str, workflow_type: str, closed: datetime, status: str = "failed") -> None:
        run = RunRecord(workflow_id=workflow_id, run_id=f"run-{workflow_id}", workflow_type=workflow_type,
                        status=status, start_time=closed - M, close_time=closed)  # fmt: skip
        self.other_runs.append(run)


def day_of_traffic() -> Traffic:
    t = Traffic()
    # onboardings: 30 s onboarded, 90 s linked, 2 h rejected in review, 5 s rejected on validation
    t.onboarding("VM-1", T0 + H, T0 + H + 30 * timedelta(seconds=1), "supplier.onboarded", outcome="onboarded",
                 erp_supplier_id="SUP-0101")  # fmt: skip
    t.onboarding("VM-2", T0 + 2 * H, T0 + 2 * H + 90 * timedelta(seconds=1), "supplier.onboarded", outcome="linked",
                 erp_supplier_id="SUP-0001")  # fmt: skip
    t.add(T0 + 3 * H + M, "supplier.review_requested", "VM-3", "supplier-onboarding-VM-3", "run-VM-3",
          vendor_id="VM-3", team="vendor-master-data")  # fmt: skip
    t.add(T0 + 4 * H, "supplier.review_escalated", "VM-3", "supplier-onboarding-VM-3", "run-VM-3", vendor_id="VM-3",
          team="vendor-master-data-managers", sla_hours=1.0)  # fmt: skip
    t.onboarding("VM-3", T0 + 3 * H, T0 + 5 * H, "supplier.onboarding_rejected", kind="review_rejected",
                 fields=["legal_name"])  # fmt: skip
    t.onboarding("VM-4", T0 + 4 * H, T0 + 4 * H + 5 * timedelta(seconds=1), "supplier.onboarding_rejected",
                 kind="validation", fields=["tax_id.value"])  # fmt: skip
    t.add(
        T0 + 6 * H,
        "supplier.onboarded",
        "VM-5",
        "supplier-onboarding-VM-5",
        "run-gone",
        vendor_id="VM-5",
        outcome="onboarded",
        erp_supplier_id="SUP-0105",
    )  # its run is not in visibility: unmatched
    t.onboarding("VM-6", T0 - 2 * H, T0 - H, "supplier.onboarded", outcome="linked", erp_supplier_id="SUP-0002")
    # purchase orders
    t.po(T0 - 2 * timedelta(days=1), "released", "PO-1", lines=1, ship_to="LOC-1")
    t.po(T0 + H, "acknowledged", "PO-1", lines={"1": "accepted"})  # 2 d 1 h after its release
    t.po(T0 + 5 * H, "closed", "PO-1", receipts=1)  # 2 d 5 h
    t.po(T0 + 30 * M, "exception_raised", "PO-2", kind="pricing_approval", team="pricing")
    t.po(T0 + 50 * M, "exception_resolved", "PO-2", kind="pricing_approval", action="approve", by="pat")  # 20 min
    t.po(T0 + H, "released", "PO-2", lines=2, ship_to="LOC-1")
    t.po(T0 + H + 10 * M, "acknowledged", "PO-2", lines={"1": "accepted"})  # 10 min
    t.po(T0 + 2 * H, "acknowledged", "PO-2", lines={"2": "accepted"})  # a second one: not counted again
    t.po(T0 + 2 * H, "exception_raised", "PO-3", kind="contract_exception", team="contracting")  # still open
    t.po(T0 + 2 * H, "released", "PO-3", lines=1, ship_to="LOC-1")
    t.po(T0 + 3 * H, "exception_escalated", "PO-3", kind="contract_exception", team="contracting-managers")
    t.po(T0 + 20 * H, "acknowledgement_overdue", "PO-3", escalated_to="purchasing-managers")
    t.po(T0 + 25 * H, "acknowledged", "PO-3", lines={"1": "accepted"})  # after the window
    t.po(T0 + 3 * H, "acknowledged", "PO-4", lines={"1": "accepted"})  # its release is not in the store: unmatched
    t.po(T0 - timedelta(days=1), "released", "PO-5", lines=1, ship_to="LOC-2")
    t.po(T0 - timedelta(days=1) + H, "acknowledged", "PO-5", lines={"1": "accepted"})  # before the window
    t.po(T0 + 6 * H, "closed", "PO-5", receipts=2)  # 1 d 6 h
    t.po(T0 + 7 * H, "invoice_overdue", "PO-6", escalated_to="accounts-payable", due_at=(T0 + 7 * H).isoformat())
    t.po(T0 - H, "exception_escalated", "PO-7", kind="pricing_approval", team="pricing-managers")  # before
    # invoices
    t.invoice(T0 + 2 * H, "approved", "INV-A", amount="100.00")
    t.invoice(T0 + 3 * H, "exception_raised", "INV-B", team="pricing", kinds=["price_variance", "quantity_variance"])
    t.invoice(T0 + 4 * H, "exception_escalated", "INV-B", team="pricing-managers")
    t.invoice(T0 + 5 * H, "exception_resolved", "INV-B", action="accept_variance", by="pat", amount="90.00")  # 2 h
    t.invoice(T0 + 4 * H, "exception_raised", "INV-C", team="receiving", kinds=["no_receipt"])  # left open
    t.invoice(T0 - H, "approved", "INV-D", amount="5.00")  # before the window
    t.invoice(T0 + 8 * H, "duplicate_refused", "INV-E", original="AP-1", status="approved")
    t.invoice(T0 - timedelta(days=1), "exception_raised", "INV-F", team="pricing", kinds=["price_variance"])
    t.invoice(T0 + H, "exception_resolved", "INV-F", action="short_pay", by="pat", amount="1.00")  # 1 d 1 h
    # master-data syncs
    sync: dict[str, Any] = {"drifted": {}, "read": {}, "matched": 0, "corrected": 0, "created": 0, "conflicts": 0,
                            "kept": 0, "rejected": [], "failed": [], "duration_seconds": 1.0}  # fmt: skip
    t.add(T0 + H, "sync.completed", "s-1", "master-data-sync-suppliers-1", sync_id="s-1", entity="suppliers",
          dry_run=False, in_sync=95, compared=100, awaiting_decision=0, accuracy=0.95, **sync)  # fmt: skip
    t.add(T0 + 2 * H, "sync.completed", "s-2", "master-data-sync-items-1", sync_id="s-2", entity="items",
          dry_run=False, in_sync=48, compared=50, awaiting_decision=2, accuracy=1.0, **sync)  # fmt: skip
    t.add(T0 + 3 * H, "sync.completed", "s-3", "master-data-sync-suppliers-2", sync_id="s-3", entity="suppliers",
          dry_run=True, in_sync=0, compared=100, awaiting_decision=0, accuracy=0.0, **sync)  # fmt: skip
    t.add(T0 + 4 * H, "sync.completed", "s-4", "master-data-sync-suppliers-3", sync_id="s-4", entity="suppliers",
          dry_run=False, in_sync=100, compared=100, awaiting_decision=0, accuracy=1.0, **sync)  # fmt: skip
    # runs
    t.failed("purchase-order-PO-9", "PurchaseOrder", T0 + 9 * H)
    t.failed("invoice-SUP-0001-INV-9", "Invoice", T0 + 10 * H)
    t.failed("purchase-order-PO-8", "PurchaseOrder", T0 - H)  # before the window
    t.failed("purchase-order-PO-7", "PurchaseOrder", T0 + 11 * H, status="terminated")
    return t


@dataclass(frozen=True)
class Execution:
    id: str
    run_id: str
    workflow_type: str
    status: WorkflowExecutionStatus | None
    start_time: datetime
    close_time: datetime | None


class FakeVisibility:
    """Answers the report's visibility queries (starter/operations/kpis.py) from visibility rows,
    recording each query; `down` makes every query fail as an unreachable Temporal does."""

    def __init__(self, runs: list[RunRecord], *, down: bool = False) -> None:
        self.runs, self.down, self.queries = runs, down, list[str]()

    def list_workflows(self, query: str | None = None) -> AsyncIterator[Execution]:
        self.queries.append(query or "")
        return self._answer(query or "")

    async def _answer(self, query: str) -> AsyncIterator[Execution]:
        if self.down:
            raise RPCError("connection refused", RPCStatusCode.UNAVAILABLE, b"")
        for run in self.runs:
            if _matches(query, run):
                status = WorkflowExecutionStatus[run.status.upper()]
                yield Execution(run.workflow_id, run.run_id, run.workflow_type, status, run.start_time, run.close_time)


def _matches(query: str, run: RunRecord) -> bool:
    """Just the clauses the report writes: `A = "v"`, `A >= "t"`, `A < "t"` joined by AND."""
    for clause in query.split(" AND "):
        name, op, value = clause.split(" ", 2)
        value = value.strip('"')
        if name == "ExecutionStatus" and run.status != value.lower():
            return False
        if name == "WorkflowType" and run.workflow_type != value:
            return False
        if name in ("StartTime", "CloseTime"):
            at = run.start_time if name == "StartTime" else run.close_time
            bound = datetime.fromisoformat(value.replace("Z", "+00:00"))
            if at is None or not (at >= bound if op == ">=" else at < bound):
                return False
    return True


def unused_report_ports() -> ReportPorts:
    """The daily report's ports for a test worker whose tests never write a report: any use fails."""

    async def kpis(window: KpiWindow) -> KpiReport:
        raise AssertionError("this test worker does not write KPI reports (tests/workflows/test_kpi_report.py does)")

    def render(report: KpiReport) -> str:
        raise AssertionError("this test worker does not render KPI reports")

    return ReportPorts(kpis=kpis, render_html=render, directory=Path(tempfile.gettempdir()) / "supplybridge-unused")
