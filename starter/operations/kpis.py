"""Gathering what the KPI report is computed from (domain/kpis.py defines every number): the
business events of the window and of a lookback before it, from the store; the onboarding runs'
start times and the failed runs, from Temporal visibility; the open dead letters. The CLI
(`supplybridge report kpis`), the API (`GET /v1/reports/kpis`) and the daily report's activity
(activities/reports.py, through `report_source`) all compute the report here.

Decisions:
- The store has no time-window query yet, so `events_between` pages through `Store.list_events`
  per event type, newest first, skipping what is at or after `until` and stopping at the first
  page that reaches before `since` (events recorded meanwhile shift the pages: duplicates are
  dropped by event id, nothing is missed). Only the types the KPIs read are fetched.
- The lookback (`LOOKBACK`, 90 days) is how far before the window the start of an interval
  ending in it is looked for (a PO released in September and closed in November); an end whose
  start is older is reported as `unmatched`.
- Visibility is read with four-part queries Temporal's SQL and Elasticsearch visibility both
  take (no OR). When it cannot be read (Temporal down), the report is still made from the store,
  with a note; the numbers that need it are null.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Protocol

from temporalio import activity
from temporalio.client import WorkflowExecutionStatus
from temporalio.service import RPCError

from activities.reports import ReportPorts
from domain.events import BusinessEvent
from domain.kpi_models import DeadLetterCounts, KpiInputs, KpiReport, KpiWindow, RunRecord
from domain.kpis import DECISIONS, ONBOARDING_ENDS, SLA_BREACH_TYPES, compute_kpis
from store import Store

LOOKBACK = timedelta(days=90)
PAGE = 500
DEFAULT_WINDOW = timedelta(days=7)
EARLIEST = datetime.min.replace(tzinfo=UTC)
ONBOARDING_WORKFLOW_TYPE = "SupplierOnboarding"  # workflows/onboarding.py @workflow.defn(name=...)
KPI_EVENT_TYPES = (
    *ONBOARDING_ENDS,
    *DECISIONS,
    *SLA_BREACH_TYPES,
    "purchase_order.released",
    "purchase_order.acknowledged",
    "purchase_order.closed",
    "invoice.exception_resolved",
    "purchase_order.exception_raised",
    "purchase_order.exception_resolved",
    "sync.completed",
)


class Execution(Protocol):
    """A visibility row, as `temporalio.client.WorkflowExecution` has it."""

    @property
    def id(self) -> str: ...
    @property
    def run_id(self) -> str: ...
    @property
    def workflow_type(self) -> str: ...
    @property
    def status(self) -> WorkflowExecutionStatus | None: ...
    @property
    def start_time(self) -> datetime: ...
    @property
    def close_time(self) -> datetime | None: ...


class Visibility(Protocol):
    """What the report reads of Temporal (`temporalio.client.Client` is one)."""

    def list_workflows(self, query: str | None = None) -> AsyncIterator[Execution]: ...


def asked_window(since: datetime | None = None, until: datetime | None = None) -> KpiWindow:
    """The window asked for: from `since` (7 days before `until` by default) to `until` (now by
    default); a naive time is UTC. `ValueError` (pydantic's ValidationError) when `since` is not
    before `until` or the window is longer than a year."""
    end = until or datetime.now(UTC)
    end = end.replace(tzinfo=UTC) if end.tzinfo is None else end
    try:
        if since is None and end - EARLIEST < DEFAULT_WINDOW:
            raise ValueError(f"there are no 7 days before {end.isoformat()}")
    except OverflowError:  # before the first UTC instant
        raise ValueError("a time between the years 1 and 9999 in UTC") from None
    return KpiWindow(since=since or end - DEFAULT_WINDOW, until=end)


async def kpi_report(
    store: Store, visibility: Visibility | None, window: KpiWindow, *, now: datetime | None = None
) -> KpiReport:
    return compute_kpis(await gather_kpi_inputs(store, visibility, window, now=now))


def report_ports(store: Store, directory: Path) -> ReportPorts:
    """The daily report's ports in the worker (worker.py): the store, the worker's own Temporal
    client (`activity.client()`, read when the activity runs) and the page renderer, whose
    charting library is loaded on the first report rather than when the worker starts."""
    return ReportPorts(kpis=report_source(store, activity.client), render_html=render_page, directory=directory)


def render_page(report: KpiReport) -> str:
    from starter.report_html import render_kpi_report

    return render_kpi_report(report)


def report_source(store: Store, visibility: Callable[[], Visibility]) -> Callable[[KpiWindow], Awaitable[KpiReport]]:
    """The daily report's `kpis` port: the report over `store` and the client `visibility()`
    returns when called (the worker passes `temporalio.activity.client`: its own connection)."""

    async def report(window: KpiWindow) -> KpiReport:
        return await kpi_report(store, visibility(), window)

    return report


async def gather_kpi_inputs(
    store: Store,
    visibility: Visibility | None,
    window: KpiWindow,
    *,
    now: datetime | None = None,
    lookback: timedelta = LOOKBACK,
) -> KpiInputs:
    earliest = window.since - lookback if window.since - EARLIEST > lookback else EARLIEST
    events = await asyncio.to_thread(events_between, store, KPI_EVENT_TYPES, earliest, window.until)
    dead_letters = await asyncio.to_thread(dead_letter_counts, store)
    notes: list[str] = []
    onboarding: list[RunRecord] | None = None
    failed: list[RunRecord] | None = None
    if visibility is None:
        notes.append("Temporal visibility was not read: onboarding cycle times and failed runs are missing")
    else:
        try:
            onboarding = await onboarding_runs(visibility, window)
            failed = await failed_runs(visibility, window)
        except RPCError as error:
            onboarding = failed = None
            notes.append(
                f"Temporal visibility could not be read ({error.message}): onboarding cycle times and failed "
                "runs are missing"
            )
    return KpiInputs(
        window=window,
        generated_at=now or datetime.now(UTC),
        events=events,
        onboarding_runs=onboarding,
        failed_runs=failed,
        dead_letters=dead_letters,
        notes=notes,
    )


# --- the store ------------------------------------------------------------------------------------


def events_between(store: Store, types: Iterable[str], since: datetime, until: datetime) -> list[BusinessEvent]:
    """The events of these types with `since <= occurred_at < until`, oldest first."""
    found: dict[str, BusinessEvent] = {}
    for event_type in dict.fromkeys(types):
        offset = 0
        while True:
            page = store.list_events(type=event_type, limit=PAGE, offset=offset)
            for event in page:
                if since <= event.occurred_at < until:
                    found.setdefault(event.event_id, event)
            if len(page) < PAGE or page[-1].occurred_at < since:
                break
            offset += PAGE
    return sorted(found.values(), key=lambda e: (e.occurred_at, e.event_id))


def dead_letter_counts(store: Store) -> DeadLetterCounts:
    """Intake dead letters open and event deliveries dead, now (the count the alert rules read)."""
    counts = store.alerts.dead_letters()
    return DeadLetterCounts(intake_open=counts.intake, deliveries_dead=counts.deliveries)


# --- Temporal visibility --------------------------------------------------------------------------


def _at(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def failed_runs_query(window: KpiWindow) -> str:
    return f'ExecutionStatus = "Failed" AND CloseTime >= "{_at(window.since)}" AND CloseTime < "{_at(window.until)}"'


def onboarding_queries(window: KpiWindow) -> list[str]:
    """The onboarding runs that may have ended in the window: closed since it began (a run closes
    after its last event) or still closing, and started before it ended."""
    started = f'WorkflowType = "{ONBOARDING_WORKFLOW_TYPE}" AND StartTime < "{_at(window.until)}"'
    return [f'{started} AND CloseTime >= "{_at(window.since)}"', f'{started} AND ExecutionStatus = "Running"']


async def onboarding_runs(visibility: Visibility, window: KpiWindow) -> list[RunRecord]:
    runs: dict[str, RunRecord] = {}
    for query in onboarding_queries(window):
        runs |= {run.run_id: run for run in await _list(visibility, query)}
    return list(runs.values())


async def failed_runs(visibility: Visibility, window: KpiWindow) -> list[RunRecord]:
    return await _list(visibility, failed_runs_query(window))


async def _list(visibility: Visibility, query: str) -> list[RunRecord]:
    return [
        RunRecord(
            workflow_id=execution.id,
            run_id=execution.run_id,
            workflow_type=execution.workflow_type,
            status=(execution.status or WorkflowExecutionStatus.RUNNING).name.lower(),
            start_time=execution.start_time,
            close_time=execution.close_time,
        )
        async for execution in visibility.list_workflows(query)
    ]
