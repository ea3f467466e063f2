"""Triage (`supplybridge runs list|retry`, `/v1/runs`): the runs that failed, the runs stuck on a
system that keeps failing, the runs waiting on people past their SLA, and retrying failed runs.

Decisions:
- Failed is Temporal's Failed or TimedOut: the platform gave up. Terminated and cancelled runs are
  neither listed nor retried: someone ended them on purpose. A failed run is listed while it is
  the latest run of its workflow id; once retried (or submitted again) the newer run speaks for it.
- Stuck: a running run with a pending activity on its second attempt or later whose first attempt
  was scheduled more than `stuck_after` ago (SUPPLYBRIDGE_STUCK_AFTER_MINUTES). The system is read
  from the last failure: adapters fail as `<system>.<code>` ApplicationErrors saying
  `<system> unavailable|refused: ...` (activities/errors.py).
- Local activities (most system calls of POs and onboardings) retry inside the worker, out of the
  server's sight: no attempt count, no last error. Such a run shows as a workflow task the worker
  has been heartbeating for longer than `stuck_after`; the activities it waits on are read from
  the run's `__stack_trace` query and the system from their names (`create_po_in_erp` -> erp); the
  error itself is only in the worker's log, and the line says so. A workflow task no worker has
  taken for that long is stuck on `worker` (none polls its task queue); one that keeps failing
  is stuck on `workflow` (its code: a bug, or a change that is not replay-safe).
- Waiting on people: a running run whose open decision (`open_exception` of its `status` query)
  is past its `due_at`. `--since` is the close time for failed runs, the start time otherwise.
- Retrying failed runs (reset or re-run, once per failure, one by one or by a visibility query)
  is starter/operations/triage_retry.py's.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Iterable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from pydantic import BaseModel
from temporalio.api.enums.v1 import EventType, PendingWorkflowTaskState
from temporalio.api.failure.v1 import Failure
from temporalio.client import (
    Client,
    WorkflowExecutionDescription,
    WorkflowExecutionStatus,
    WorkflowHistoryEventFilterType,
    WorkflowQueryFailedError,
    WorkflowQueryRejectedError,
)
from temporalio.exceptions import ApplicationError
from temporalio.service import RPCError, RPCStatusCode

from runtime.settings import Settings
from starter.operations.messages import DECISION_KINDS, open_exception
from starter.operations.runs import failure_message
from workflows import search_attributes as sa

T = TypeVar("T")
LIST_LIMIT, MAX_LIMIT = 100, 1000
SCAN_CONCURRENCY = 32  # runs described (and asked for their stack trace) at once
# A query reaches a run whose worker is retrying a local activity when the worker next heartbeats
# its workflow task (at 80 % of the task timeout, 8 s by default): wait a little longer than that.
STACK_TRACE_TIMEOUT = timedelta(seconds=10)
_TYPE = re.compile(r"[A-Za-z][A-Za-z0-9_.-]{0,99}")
_SYSTEM_SAYS = re.compile(r"^([a-z][a-z0-9_-]{0,39}) (?:unavailable|refused): ")
_PENDING_ACTIVITY = re.compile(r"'activity: ([A-Za-z0-9_.-]+) \(workflow: ")
# a word of an activity's name -> the system it calls (activities/*.py name them so)
_SYSTEM_WORDS = {
    **dict.fromkeys(["erp"], "erp"),
    **dict.fromkeys(["inventory", "reservations", "stock"], "inventory"),
    **dict.fromkeys(["tin", "exclusions"], "screening"),
    **dict.fromkeys(["contract", "terms"], "contracts"),
}
LOCAL_ERROR = "keeps failing inside the worker (a local activity: its errors are in the worker's log)"


class TriageRefused(ValueError):
    """A filter or query that cannot be used (exit 2, 422)."""


class FailedRun(BaseModel):
    workflow_id: str
    run_id: str
    workflow_type: str
    status: str
    failed_at: datetime | None = None
    system: str | None = None
    error: str
    ui_url: str


class StuckRun(BaseModel):
    workflow_id: str
    run_id: str
    workflow_type: str
    activity: str | None = None
    attempt: int | None = None  # unknown for a local activity
    system: str | None = None
    error: str
    retrying_since: datetime
    line: str
    ui_url: str


class WaitingRun(BaseModel):
    workflow_id: str
    kind: str
    team: str
    record: str
    summary: str
    raised_at: datetime
    due_at: datetime
    escalation_level: int
    line: str
    ui_url: str


# --- pure parts ---------------------------------------------------------------------------------
def run_query(statuses: Sequence[str], workflow_type: str | None, since: datetime | None, time_field: str) -> str:
    """A visibility query of runs in `statuses` (of one type, since a time)."""
    query = f"ExecutionStatus IN ({', '.join(repr(s) for s in statuses)})"
    if workflow_type is not None:
        if not _TYPE.fullmatch(workflow_type):
            raise TriageRefused(f"--type: {workflow_type!r} is not a workflow type name (e.g. PurchaseOrder)")
        query += f" AND WorkflowType = '{workflow_type}'"
    if since is not None:
        query += f" AND {time_field} >= '{utc_text(since)}'"
    return query


def utc_text(moment: datetime) -> str:
    """RFC 3339 in UTC, as visibility queries take it (a time without a zone is UTC)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def failure_system(error: BaseException | None) -> str | None:
    """The external system a failure names: `erp` of an `erp.unauthorized` ApplicationError or of
    "erp unavailable: ..."; None when no link of the chain names one."""
    while error is not None:
        kind = error.type if isinstance(error, ApplicationError) else None
        system, dot, code = (kind or "").partition(".")
        if dot and system and code:
            return system
        said = _SYSTEM_SAYS.match(getattr(error, "message", None) or str(error))
        if said:
            return said.group(1)
        error = error.__cause__
    return None


def activity_system(activity: str | None) -> str | None:
    """The system an activity calls, from the words of its name; None when they do not say."""
    words = (activity or "").split("_")
    return next((_SYSTEM_WORDS[word] for word in words if word in _SYSTEM_WORDS), None)


def pending_local_activities(stack_trace: str) -> list[str]:
    """The activities a run's `__stack_trace` shows it waiting on, in order, once each."""
    return list(dict.fromkeys(_PENDING_ACTIVITY.findall(stack_trace)))


def duration_text(span: timedelta) -> str:
    minutes = max(0, int(span.total_seconds() // 60))
    if minutes < 120:
        return f"{minutes} min"
    return f"{minutes // 60} h" if minutes < 48 * 60 else f"{minutes // 1440} days"


def stuck_line(
    workflow_id: str, activity: str | None, attempt: int | None, system: str | None, error: str, span: timedelta
) -> str:
    """One line naming the system and the error."""
    on = system or "an unknown system"
    where = f" (activity {activity}, attempt {attempt})" if activity and attempt else ""
    return f"{workflow_id} stuck on {on} for {duration_text(span)}: {error}{where}"


# --- listing --------------------------------------------------------------------------------------
async def list_failed(
    client: Client, settings: Settings, *, workflow_type: str | None = None, since: datetime | None = None,
    limit: int = LIST_LIMIT,
) -> list[FailedRun]:  # fmt: skip
    """Failed and timed-out runs that are still the latest run of their id, newest first."""
    query = run_query(["Failed", "TimedOut"], workflow_type, since, "CloseTime")
    found = [execution async for execution in client.list_workflows(query, limit=limit)]
    latest = dict(zip((e.id for e in found), await bounded(_latest_run_id(client, e.id) for e in found), strict=True))
    current = [e for e in found if latest[e.id] == e.run_id]
    errors = await bounded(close_error(client, e.id, e.run_id) for e in current)
    return [
        FailedRun(workflow_id=e.id, run_id=e.run_id, workflow_type=e.workflow_type, failed_at=e.close_time,
                  status=(e.status or WorkflowExecutionStatus.FAILED).name.lower(), system=failure_system(error),
                  error=failure_message(error) if error else "failed", ui_url=settings.workflow_url(e.id, e.run_id))
        for e, error in zip(current, errors, strict=True)
    ]  # fmt: skip


async def list_stuck(
    client: Client, settings: Settings, *, stuck_after: timedelta, now: datetime | None = None,
    workflow_type: str | None = None, since: datetime | None = None, limit: int = LIST_LIMIT,
) -> list[StuckRun]:  # fmt: skip
    """Running runs whose activity has been retrying longer than `stuck_after`, longest first."""
    at = now or datetime.now(UTC)
    query = run_query(["Running"], workflow_type, since, "StartTime")
    running = [(e.id, e.run_id) async for e in client.list_workflows(query)]
    found = await bounded(_stuck_activities(client, settings, wid, rid, stuck_after, at) for wid, rid in running)
    return sorted((run for runs in found for run in runs), key=lambda run: run.retrying_since)[:limit]


async def list_waiting(
    client: Client, settings: Settings, *, now: datetime | None = None, workflow_type: str | None = None,
    since: datetime | None = None, limit: int = LIST_LIMIT,
) -> list[WaitingRun]:  # fmt: skip
    """Running runs whose open decision is past its SLA, longest overdue first."""
    at = now or datetime.now(UTC)
    kinds = ", ".join(f"'{kind}'" for kind in DECISION_KINDS)
    query = run_query(["Running"], workflow_type, since, "StartTime") + f" AND {sa.DECISION.name} IN ({kinds})"
    ids = [e.id async for e in client.list_workflows(query)]
    opened = await bounded(open_exception(client, workflow_id) for workflow_id in ids)
    overdue = sorted((o for o in opened if o is not None and o.due_at <= at), key=lambda o: o.due_at)
    return [
        WaitingRun(workflow_id=o.exception_id, kind=o.kind.value, team=o.team, record=o.record, summary=o.summary,
                   raised_at=o.raised_at, due_at=o.due_at, escalation_level=o.escalation_level,
                   line=f"{o.exception_id}: {o.kind.value} for {o.team} overdue by {duration_text(at - o.due_at)} "
                        f"(due {utc_text(o.due_at)}, escalation level {o.escalation_level})",
                   ui_url=settings.workflow_url(o.exception_id))
        for o in overdue[:limit]
    ]  # fmt: skip


async def _stuck_activities(
    client: Client, settings: Settings, workflow_id: str, run_id: str, stuck_after: timedelta, now: datetime
) -> list[StuckRun]:
    try:
        description = await client.get_workflow_handle(workflow_id, run_id=run_id).describe()
    except RPCError as error:  # ended and gone since it was listed
        if error.status == RPCStatusCode.NOT_FOUND:
            return []
        raise
    retrying = [p for p in description.raw_description.pending_activities if p.attempt >= 2]
    if not retrying:
        return await _stuck_task(client, settings, description, stuck_after, now)
    first = await _first_scheduled(client, workflow_id, run_id)
    stuck: list[StuckRun] = []
    for pending in retrying:
        since = first.get(pending.activity_id) or description.start_time or now
        if now - since < stuck_after:
            continue
        failure = Failure()
        failure.CopyFrom(pending.last_failure)
        last = await client.data_converter.decode_failure(failure) if failure.ByteSize() else None
        text, system = failure_message(last) if last else "no failure recorded yet", failure_system(last)
        activity = pending.activity_type.name
        stuck.append(StuckRun(
            workflow_id=workflow_id, run_id=run_id, workflow_type=description.workflow_type, activity=activity,
            attempt=pending.attempt, system=system, error=text, retrying_since=since,
            line=stuck_line(workflow_id, activity, pending.attempt, system, text, now - since),
            ui_url=settings.workflow_url(workflow_id, run_id),
        ))  # fmt: skip
    return stuck


async def _stuck_task(
    client: Client, settings: Settings, description: WorkflowExecutionDescription, stuck_after: timedelta,
    now: datetime,
) -> list[StuckRun]:  # fmt: skip
    """A workflow task in flight (local activities retrying) or waiting for a worker too long."""
    task = description.raw_description.pending_workflow_task
    if not task.HasField("original_scheduled_time"):
        return []
    since = task.original_scheduled_time.ToDatetime(tzinfo=UTC)
    if now - since < stuck_after:
        return []
    workflow_id, run_id = description.id, description.run_id
    queue = description.raw_description.execution_config.task_queue.name
    activity: str | None
    system: str | None
    if task.attempt >= 2:
        activity, system = None, "workflow"
        error = f"its workflow task failed {task.attempt - 1} times (workflow code: the worker's log says why)"
    elif task.state != PendingWorkflowTaskState.PENDING_WORKFLOW_TASK_STATE_STARTED:
        activity, system, error = None, "worker", f"no worker has taken its workflow task from task queue {queue}"
    else:
        try:
            handle = client.get_workflow_handle(workflow_id, run_id=run_id)
            trace = await handle.query("__stack_trace", rpc_timeout=STACK_TRACE_TIMEOUT)
        except (RPCError, WorkflowQueryFailedError, WorkflowQueryRejectedError):
            trace = ""
        waiting = pending_local_activities(str(trace))
        activity = ", ".join(waiting) or None
        system = next((found for found in map(activity_system, waiting) if found), None)
        error = f"{activity or 'a local activity'} {LOCAL_ERROR}"
    return [StuckRun(
        workflow_id=workflow_id, run_id=run_id, workflow_type=description.workflow_type, activity=activity,
        system=system, error=error, retrying_since=since, line=stuck_line(workflow_id, None, None, system, error,
        now - since), ui_url=settings.workflow_url(workflow_id, run_id),
    )]  # fmt: skip


async def _first_scheduled(client: Client, workflow_id: str, run_id: str) -> dict[str, datetime]:
    """When each activity of the run was scheduled (its first attempt), by activity id."""
    scheduled: dict[str, datetime] = {}
    async for event in client.get_workflow_handle(workflow_id, run_id=run_id).fetch_history_events():
        if event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED:
            at = event.event_time.ToDatetime(tzinfo=UTC)
            scheduled[event.activity_task_scheduled_event_attributes.activity_id] = at
    return scheduled


async def close_error(client: Client, workflow_id: str, run_id: str) -> BaseException | None:
    handle = client.get_workflow_handle(workflow_id, run_id=run_id)
    async for event in handle.fetch_history_events(event_filter_type=WorkflowHistoryEventFilterType.CLOSE_EVENT):
        if event.HasField("workflow_execution_failed_event_attributes"):
            failure = Failure()
            failure.CopyFrom(event.workflow_execution_failed_event_attributes.failure)
            return await client.data_converter.decode_failure(failure)
        if event.HasField("workflow_execution_timed_out_event_attributes"):
            return TimeoutError("the run timed out")
    return None


async def _latest_run_id(client: Client, workflow_id: str) -> str | None:
    try:
        return (await client.get_workflow_handle(workflow_id).describe()).run_id
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def bounded(calls: Iterable[Awaitable[T]]) -> list[T]:
    gate = asyncio.Semaphore(SCAN_CONCURRENCY)

    async def one(call: Awaitable[T]) -> T:
        async with gate:
            return await call

    return list(await asyncio.gather(*(one(call) for call in calls)))
