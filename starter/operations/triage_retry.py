"""Retrying failed runs (`supplybridge runs retry`, `POST /v1/runs/.../retry`), once per failure.

Decisions:
- A reset when the failed run's history has a workflow task to reset to, else a re-run. The reset
  point is the workflow task that scheduled the activity (or started the child) whose failure
  failed the run, named by the cause chain of the close event: that step runs again, with the
  fixed configuration. Otherwise (a local activity, an error in workflow code, a timeout) it is
  the last completed workflow task, whose local activities run again. Signals and Updates received
  after the point are reapplied. Steps before it are not repeated; a compensation that ran after
  the failure is not undone (every step is idempotent by key).
- A run with no completed workflow task is started again under its id, on its task queue, with
  its own start input (a continued run's input carries its resume state) passed through as the
  server holds it: any workflow of ours, no type to know.
- Never twice for one failure: a retry claims (workflow id, failed run id) in the store's
  idempotency records (kept ten years; the answer and its audit entry `run.retried` in one
  transaction), and Temporal gets a request id made of the same pair. A second retry of the same
  failed run answers "already retried as run X". A retry Temporal refused is audited
  (`run.retry_failed`) and released: it may be tried again. A failure of the new run is a new
  failure, and may be retried.
- Only failed and timed-out runs are retried (starter/operations/triage.py says why); a run
  superseded by a newer run of its id is skipped, naming that run.
- Bulk: the visibility query is narrowed to failed and timed-out runs; each run is retried on its
  own (one's failure does not stop the others); a dry run says what it would do and changes nothing.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from collections.abc import Sequence
from datetime import timedelta
from typing import Any, Literal

from pydantic import BaseModel
from temporalio.api.common.v1 import WorkflowExecution
from temporalio.api.enums.v1 import EventType, ResetReapplyType
from temporalio.api.failure.v1 import Failure
from temporalio.api.history.v1 import HistoryEvent
from temporalio.api.workflowservice.v1 import ResetWorkflowExecutionRequest
from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.common import RawValue, WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.audit import AuditRecord
from runtime.settings import Settings
from starter.operations.runs import UnknownRun, failure_message
from starter.operations.triage import LIST_LIMIT, TriageRefused, failure_system
from store import Store
from store.idempotency import Claim, StoredResponse
from store.models import utcnow

FAILED = (WorkflowExecutionStatus.FAILED, WorkflowExecutionStatus.TIMED_OUT)
RETRY_PRINCIPAL = "supplybridge:runs-retry"  # the idempotency records' principal for retries
RETRY_KEPT, RETRY_LEASE = timedelta(days=3650), timedelta(minutes=2)
RETRIED, RETRY_FAILED = "run.retried", "run.retry_failed"  # audit actions, record type `workflow_run`
How = Literal["reset", "rerun"]


class RetryOutcome(BaseModel):
    workflow_id: str
    failed_run_id: str | None = None
    outcome: Literal["retried", "would_retry", "skipped", "failed"]
    how: How | None = None
    reset_event_id: int | None = None
    new_run_id: str | None = None
    system: str | None = None
    failure: str | None = None  # how the run failed
    detail: str
    ui_url: str | None = None


class RetryFailed(RuntimeError):
    """Temporal did not reset or start the run (exit 1; 503 when it is unreachable, else 409)."""

    def __init__(self, outcome: RetryOutcome, *, unavailable: bool) -> None:
        super().__init__(outcome.detail)
        self.outcome, self.unavailable = outcome, unavailable


def reset_point(events: Sequence[HistoryEvent]) -> int | None:
    """The WorkflowTaskCompleted event to reset a failed run to (see the module docstring), or
    None when the run never completed a workflow task."""
    by_id = {event.event_id: event for event in events}
    close = events[-1] if events else None
    failure = close.workflow_execution_failed_event_attributes.failure if close is not None else None
    while failure is not None and failure.ByteSize():
        step = by_id.get(
            failure.activity_failure_info.scheduled_event_id
            or failure.child_workflow_execution_failure_info.initiated_event_id
        )
        if step is not None:
            task = (
                step.activity_task_scheduled_event_attributes.workflow_task_completed_event_id
                or step.start_child_workflow_execution_initiated_event_attributes.workflow_task_completed_event_id
            )
            if task in by_id and by_id[task].event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED:
                return task
        failure = failure.cause if failure.HasField("cause") else None
    completed = [e.event_id for e in events if e.event_type == EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED]
    return completed[-1] if completed else None


def retry_request_id(workflow_id: str, run_id: str) -> str:
    """The same request id for every retry of one failed run: Temporal ignores a repeated reset."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"supplybridge:runs-retry:{workflow_id}/{run_id}"))


class RetryLedger:
    """Which failed runs were retried, in the store (see the module docstring). Blocking calls:
    the async callers run them in a thread."""

    def __init__(self, store: Store) -> None:
        self.store = store

    @staticmethod
    def _key(workflow_id: str, run_id: str) -> str:
        return f"{workflow_id}/{run_id}"

    def earlier(self, workflow_id: str, run_id: str) -> str | None:
        """Why this failed run is not retried again; None when it never was, or when a retry of it
        was interrupted (its claim's lease ran out: `claim` takes it over)."""
        found = self.store.idempotency.find(RETRY_PRINCIPAL, self._key(workflow_id, run_id))
        if found is None or (found.state != "done" and (found.lease_expires_at or utcnow()) <= utcnow()):
            return None
        return _earlier_text(found)

    def claim(self, workflow_id: str, run_id: str) -> Claim | str:
        """The claim to retry it, or why not (retried meanwhile)."""
        key = self._key(workflow_id, run_id)
        held = self.store.idempotency.acquire(
            RETRY_PRINCIPAL, key, method="RETRY", path=f"runs/{key}"[:500],
            request_hash=hashlib.sha256(key.encode()).hexdigest(), retention=RETRY_KEPT, lease=RETRY_LEASE,
        )  # fmt: skip
        return held if isinstance(held, Claim) else _earlier_text(held)

    def record(self, claim: Claim, done: RetryOutcome, by: str, via: str) -> None:
        entry = _entry(by, via, RETRIED, done, outcome=done.how)
        answer = json.dumps({**done.model_dump(mode="json"), "by": by})
        key = self._key(done.workflow_id, done.failed_run_id or "")
        self.store.idempotency.complete(RETRY_PRINCIPAL, key, 200, answer, attempt=claim.attempt, audit=entry)

    def give_up(self, claim: Claim, failed: RetryOutcome, by: str, via: str) -> None:
        self.release(claim, failed.workflow_id, failed.failed_run_id or "")
        self.store.audit.append(_entry(by, via, RETRY_FAILED, failed, outcome="failed"))

    def release(self, claim: Claim, workflow_id: str, run_id: str) -> None:
        self.store.idempotency.release(RETRY_PRINCIPAL, self._key(workflow_id, run_id), attempt=claim.attempt)

    def retried_into(self, workflow_id: str, run_id: str) -> bool:
        """Whether `run_id` is a run that a retry of this workflow id made."""
        entries = self.store.audit.query(record_type="workflow_run", record_id=workflow_id, limit=1000)
        return any(e.action == RETRIED and e.details.get("new_run_id") == run_id for e in entries)


def _entry(by: str, via: str, action: str, done: RetryOutcome, *, outcome: str | None) -> AuditRecord:
    details = done.model_dump(mode="json", include={"failed_run_id", "new_run_id", "reset_event_id", "detail"})
    return AuditRecord(actor=by, action=action, record_type="workflow_run", record_id=done.workflow_id,
                       outcome=outcome, details={"via": via, **details})  # fmt: skip


def _earlier_text(found: StoredResponse) -> str:
    if found.state != "done" or not found.body:
        return "a retry of this failure is under way"
    earlier = json.loads(found.body)
    return f"already retried as run {earlier.get('new_run_id')} ({earlier.get('how')}, by {earlier.get('by')})"


async def retry_run(
    client: Client, settings: Settings, ledger: RetryLedger, workflow_id: str, *, by: str, via: str = "cli",
    dry_run: bool = False, run_id: str | None = None,
) -> RetryOutcome:  # fmt: skip
    """Retry the failed run `run_id` of `workflow_id` (its latest run by default) once: reset or
    re-run it. `skipped`, saying why, when it is not failed, is superseded or was already retried;
    `RetryFailed` when Temporal refused; `UnknownRun` when there is no such workflow."""
    try:
        latest = await client.get_workflow_handle(workflow_id).describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise UnknownRun(f"no workflow with id {workflow_id!r}") from error
        raise
    target = run_id or latest.run_id
    status = (latest.status or WorkflowExecutionStatus.RUNNING).name.lower()
    outcome = RetryOutcome(workflow_id=workflow_id, failed_run_id=target, outcome="skipped", detail="",
                           ui_url=settings.workflow_url(workflow_id, latest.run_id))  # fmt: skip
    earlier = await asyncio.to_thread(ledger.earlier, workflow_id, target)
    if earlier is not None:
        return outcome.model_copy(update={"detail": earlier})
    if target != latest.run_id:
        return outcome.model_copy(update={"detail": f"superseded by run {latest.run_id}, which is {status}"})
    if latest.status not in FAILED:
        retried = await asyncio.to_thread(ledger.retried_into, workflow_id, target)
        detail = f"already retried as run {target}, which is {status}" if retried else (
            f"{workflow_id} is {status}: only a failed or timed-out run is retried")  # fmt: skip
        return outcome.model_copy(update={"detail": detail})
    events = [event async for event in client.get_workflow_handle(workflow_id, run_id=target).fetch_history_events()]
    point = reset_point(events)
    how: How = "reset" if point is not None else "rerun"
    plan = f"reset to event {point}" if point is not None else "re-run from its start input"
    cause = await _close_error(client, events)
    outcome = outcome.model_copy(update={"how": how, "reset_event_id": point, "system": failure_system(cause),
                                         "failure": failure_message(cause) if cause else None})  # fmt: skip
    if dry_run:
        return outcome.model_copy(update={"outcome": "would_retry", "detail": f"would {plan}"})
    claim = await asyncio.to_thread(ledger.claim, workflow_id, target)
    if not isinstance(claim, Claim):
        return outcome.model_copy(update={"detail": claim})
    try:
        new_run = await (_reset(client, workflow_id, target, point, by) if point is not None
                         else _rerun(client, workflow_id, events))  # fmt: skip
    except (RPCError, WorkflowAlreadyStartedError) as error:
        failed = outcome.model_copy(update={"outcome": "failed", "detail": f"not retried ({plan}): {error}"})
        await asyncio.to_thread(ledger.give_up, claim, failed, by, via)
        unavailable = isinstance(error, RPCError) and error.status == RPCStatusCode.UNAVAILABLE
        raise RetryFailed(failed, unavailable=unavailable) from error
    except BaseException:  # cancelled, or a bug: free the claim (a reset that went through supersedes the run)
        await asyncio.to_thread(ledger.release, claim, workflow_id, target)
        raise
    done = outcome.model_copy(update={"outcome": "retried", "new_run_id": new_run,
                                      "detail": f"{plan}: the new run is {new_run}",
                                      "ui_url": settings.workflow_url(workflow_id, new_run)})  # fmt: skip
    await asyncio.to_thread(ledger.record, claim, done, by, via)
    return done


async def retry_matching(
    client: Client, settings: Settings, ledger: RetryLedger, query: str, *, by: str, via: str = "cli",
    dry_run: bool = False, limit: int = LIST_LIMIT,
) -> list[RetryOutcome]:  # fmt: skip
    """Retry every failed or timed-out run the visibility `query` matches, each on its own, newest
    first, until `limit` were retried (or would be, or failed). Runs skipped (retried before: their
    failed run stays Failed in visibility) are reported and do not count, so a next call goes on."""
    narrowed = f"({query}) AND ExecutionStatus IN ('Failed', 'TimedOut')"
    outcomes: list[RetryOutcome] = []
    try:
        async for execution in client.list_workflows(narrowed):
            if sum(outcome.outcome != "skipped" for outcome in outcomes) >= limit:
                break
            outcomes.append(await _retry_one(client, settings, ledger, execution.id, execution.run_id, by=by,
                                             via=via, dry_run=dry_run))  # fmt: skip
    except RPCError as error:
        if error.status == RPCStatusCode.INVALID_ARGUMENT:
            raise TriageRefused(f"Temporal cannot use the query: {error.message}") from error
        raise
    return outcomes


async def _retry_one(
    client: Client, settings: Settings, ledger: RetryLedger, workflow_id: str, run_id: str, **how: Any
) -> RetryOutcome:
    """`retry_run` of one matched run, its failure an outcome rather than an exception."""
    try:
        return await retry_run(client, settings, ledger, workflow_id, run_id=run_id, **how)
    except RetryFailed as failed:
        return failed.outcome
    except (RPCError, UnknownRun) as error:
        return RetryOutcome(workflow_id=workflow_id, failed_run_id=run_id, outcome="failed",
                            detail=f"not retried: {error}")  # fmt: skip


async def _close_error(client: Client, events: Sequence[HistoryEvent]) -> BaseException | None:
    close = events[-1] if events else None
    if close is not None and close.HasField("workflow_execution_failed_event_attributes"):
        failure = Failure()
        failure.CopyFrom(close.workflow_execution_failed_event_attributes.failure)
        return await client.data_converter.decode_failure(failure)
    return TimeoutError("the run timed out") if close is not None else None


async def _reset(client: Client, workflow_id: str, run_id: str, event_id: int, by: str) -> str:
    answer = await client.workflow_service.reset_workflow_execution(
        ResetWorkflowExecutionRequest(
            namespace=client.namespace,
            workflow_execution=WorkflowExecution(workflow_id=workflow_id, run_id=run_id),
            reason=f"supplybridge runs retry by {by}",
            workflow_task_finish_event_id=event_id,
            request_id=retry_request_id(workflow_id, run_id),
            reset_reapply_type=ResetReapplyType.RESET_REAPPLY_TYPE_ALL_ELIGIBLE,
            identity=client.identity,
        )
    )
    return answer.run_id


async def _rerun(client: Client, workflow_id: str, events: Sequence[HistoryEvent]) -> str:
    """Start the workflow again under its id with the failed run's own start input."""
    started = events[0].workflow_execution_started_event_attributes
    payloads = list(started.input.payloads)
    args = await client.data_converter.decode(payloads, [RawValue] * len(payloads))
    handle = await client.start_workflow(
        started.workflow_type.name,  # the type the server recorded (see the module docstring)
        args=args,
        id=workflow_id,
        task_queue=started.task_queue.name,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
        id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
    )
    return handle.result_run_id or ""
