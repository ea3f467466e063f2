"""The pure parts of triage: visibility queries built from the filters (a type that is not a
name is refused, never spliced in), the system a failure names, the one stuck line, durations, the
reset point chosen from a failed run's history, the retry's request id, and the retry ledger in a
real store (a failure is retried once; a retry Temporal refused may be tried again)."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from temporalio.api.common.v1 import ActivityType
from temporalio.api.enums.v1 import EventType
from temporalio.api.failure.v1 import (
    ActivityFailureInfo,
    ApplicationFailureInfo,
    ChildWorkflowExecutionFailureInfo,
    Failure,
)
from temporalio.api.history.v1 import (
    ActivityTaskScheduledEventAttributes,
    HistoryEvent,
    StartChildWorkflowExecutionInitiatedEventAttributes,
    WorkflowExecutionFailedEventAttributes,
)
from temporalio.exceptions import ApplicationError

from runtime.settings import Settings
from starter.operations import triage, triage_retry
from starter.operations.triage_retry import RetryLedger, RetryOutcome, reset_point, retry_request_id
from store import Store
from store.idempotency import Claim

E = EventType


def test_queries_are_built_from_the_filters() -> None:
    assert triage.run_query(["Failed", "TimedOut"], None, None, "CloseTime") == (
        "ExecutionStatus IN ('Failed', 'TimedOut')"
    )
    since = datetime(2026, 11, 24, 9, 30, tzinfo=timezone(timedelta(hours=2)))
    assert triage.run_query(["Running"], "PurchaseOrder", since, "StartTime") == (
        "ExecutionStatus IN ('Running') AND WorkflowType = 'PurchaseOrder' AND StartTime >= '2026-11-24T07:30:00Z'"
    )
    assert triage.utc_text(datetime(2026, 11, 24, 9, 30)) == "2026-11-24T09:30:00Z"  # no zone: UTC


@pytest.mark.parametrize("bad", ["x' OR WorkflowType != '", "Purchase Order", "", "9lives", "a" * 101])
def test_a_type_that_is_not_a_name_is_refused(bad: str) -> None:
    with pytest.raises(triage.TriageRefused, match="--type"):
        triage.run_query(["Failed"], bad, None, "CloseTime")


@settings(max_examples=40)
@given(st.datetimes(timezones=st.timezones(), min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1)))
def test_utc_text_is_the_same_instant(moment: datetime) -> None:
    text = triage.utc_text(moment)
    assert text.endswith("Z") and abs(datetime.fromisoformat(text) - moment) < timedelta(seconds=1)


def chained(*errors: BaseException) -> BaseException:
    """errors[0], caused by errors[1], caused by ..."""
    for outer, inner in itertools.pairwise(errors):
        outer.__cause__ = inner
    return errors[0]


def test_the_system_is_read_from_the_failure_chain() -> None:
    refused = ApplicationError("erp refused: 401 credentials", type="erp.unauthorized", non_retryable=True)
    assert triage.failure_system(refused) == "erp"
    wrapped = chained(ApplicationError("order failed and was undone", type="probe_failed"), RuntimeError("x"), refused)
    assert triage.failure_system(wrapped) == "erp"
    assert triage.failure_system(RuntimeError("vendor_management unavailable: 503 Service Unavailable")) == (
        "vendor_management"
    )
    assert triage.failure_system(ApplicationError("PO-1 failed", type="purchase_order_failed")) is None
    assert triage.failure_system(RuntimeError("the workflow code raised")) is None
    assert triage.failure_system(None) is None


def test_a_stuck_run_is_one_line_naming_the_system_and_the_error() -> None:
    line = triage.stuck_line("purchase-order-PO-1", "create_po", 9, "erp", "erp unavailable: 503", timedelta(hours=3))
    assert line == "purchase-order-PO-1 stuck on erp for 3 h: erp unavailable: 503 (activity create_po, attempt 9)"
    unknown = triage.stuck_line("po", "create_po", 2, None, "timed out", timedelta(minutes=12))
    assert unknown == "po stuck on an unknown system for 12 min: timed out (activity create_po, attempt 2)"


def test_a_local_activity_is_named_from_the_stack_trace_and_its_system_from_its_name() -> None:
    trace = (
        "Stack for <_ActivityHandle pending name='activity: find_erp_matches (workflow: SupplierOnboarding, id: "
        "supplier-onboarding-VM-1, run: r)' coro=<...>> (most recent call last):\n  File ...\n"
        "Stack for <_ActivityHandle pending name='activity: check_inventory (workflow: PurchaseOrder, ...)'>\n"
        "<_ActivityHandle pending name='activity: find_erp_matches (workflow: SupplierOnboarding, ...)'>"
    )
    assert triage.pending_local_activities(trace) == ["find_erp_matches", "check_inventory"]
    assert triage.pending_local_activities("") == []
    names = ["create_po_in_erp", "match_tin", "screen_against_exclusions", "get_procurement_terms",
             "release_reservations", "notify_vendor", None]  # fmt: skip
    assert [triage.activity_system(name) for name in names] == [
        "erp",
        "screening",
        "screening",
        "contracts",
        "inventory",
        None,
        None,
    ]


@pytest.mark.parametrize(
    ("span", "text"),
    [(timedelta(0), "0 min"), (timedelta(minutes=119), "119 min"), (timedelta(minutes=120), "2 h"),
     (timedelta(hours=47, minutes=59), "47 h"), (timedelta(days=3, hours=5), "3 days"), (timedelta(-1), "0 min")],
)  # fmt: skip
def test_durations(span: timedelta, text: str) -> None:
    assert triage.duration_text(span) == text


# --- the reset point ------------------------------------------------------------------------------
def event(event_id: int, kind: int, **attributes: object) -> HistoryEvent:
    return HistoryEvent(event_id=event_id, event_type=kind, **attributes)  # type: ignore[arg-type]


def wft(first: int) -> list[HistoryEvent]:
    """A workflow task: scheduled, started, completed (the last one's id is what resets take)."""
    kinds = (
        E.EVENT_TYPE_WORKFLOW_TASK_SCHEDULED,
        E.EVENT_TYPE_WORKFLOW_TASK_STARTED,
        E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED,
    )
    return [event(first + i, kind) for i, kind in enumerate(kinds)]


def scheduled(event_id: int, by_task: int) -> HistoryEvent:
    attributes = ActivityTaskScheduledEventAttributes(
        activity_type=ActivityType(name="send"), workflow_task_completed_event_id=by_task
    )
    return event(event_id, E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED, activity_task_scheduled_event_attributes=attributes)


def failed(event_id: int, failure: Failure) -> HistoryEvent:
    attributes = WorkflowExecutionFailedEventAttributes(failure=failure)
    return event(
        event_id, E.EVENT_TYPE_WORKFLOW_EXECUTION_FAILED, workflow_execution_failed_event_attributes=attributes
    )


def activity_failure(scheduled_event_id: int) -> Failure:
    return Failure(
        message="Activity task failed",
        activity_failure_info=ActivityFailureInfo(scheduled_event_id=scheduled_event_id),
        cause=Failure(message="erp refused", application_failure_info=ApplicationFailureInfo(type="erp.unauthorized")),
    )


def test_reset_to_the_task_that_scheduled_the_failed_activity() -> None:
    events = [event(1, E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED), *wft(2), scheduled(5, 4), *wft(6), scheduled(9, 8)]
    events += [*wft(10), scheduled(13, 12), *wft(14)]  # the compensation, after the failure
    assert reset_point([*events, failed(17, activity_failure(9))]) == 8
    wrapped = Failure(message="order failed and was undone", application_failure_info=ApplicationFailureInfo(),
                      cause=activity_failure(9))  # fmt: skip
    assert reset_point([*events, failed(17, wrapped)]) == 8  # named by the cause chain
    local = Failure(
        message="failed", cause=Failure(message="Activity task failed", activity_failure_info=ActivityFailureInfo())
    )
    assert reset_point([*events, failed(17, local)]) == 16  # a local activity: the last completed task
    assert reset_point([*events, event(17, E.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT)]) == 16


def test_reset_to_the_task_that_started_the_failed_child() -> None:
    child = StartChildWorkflowExecutionInitiatedEventAttributes(workflow_task_completed_event_id=4)
    initiated = event(5, E.EVENT_TYPE_START_CHILD_WORKFLOW_EXECUTION_INITIATED,
                      start_child_workflow_execution_initiated_event_attributes=child)  # fmt: skip
    failure = Failure(child_workflow_execution_failure_info=ChildWorkflowExecutionFailureInfo(initiated_event_id=5))
    events = [event(1, E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED), *wft(2), initiated, *wft(6), failed(9, failure)]
    assert reset_point(events) == 4


def test_no_reset_point_without_a_completed_workflow_task() -> None:
    assert reset_point([]) is None
    started = event(1, E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)
    assert reset_point([started, *wft(2)[:2], event(4, E.EVENT_TYPE_WORKFLOW_EXECUTION_TIMED_OUT)]) is None


KINDS = st.sampled_from([E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED, E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED,
                         E.EVENT_TYPE_WORKFLOW_TASK_STARTED, E.EVENT_TYPE_TIMER_STARTED])  # fmt: skip


@given(st.lists(st.tuples(KINDS, st.integers(0, 40)), max_size=30), st.integers(0, 40))
def test_the_reset_point_is_always_a_completed_workflow_task_of_the_run(
    steps: list[tuple[int, int]], failed_step: int
) -> None:
    events = [event(1, E.EVENT_TYPE_WORKFLOW_EXECUTION_STARTED)]
    for number, (kind, points_at) in enumerate(steps, start=2):
        events.append(
            scheduled(number, points_at) if kind == E.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED else event(number, kind)
        )
    events.append(failed(len(events) + 1, activity_failure(failed_step)))
    point = reset_point(events)
    completed = {e.event_id for e in events if e.event_type == E.EVENT_TYPE_WORKFLOW_TASK_COMPLETED}
    assert point in completed if completed else point is None


def test_the_request_id_is_one_per_failed_run() -> None:
    assert retry_request_id("po-1", "run-a") == retry_request_id("po-1", "run-a")
    assert (
        len({retry_request_id("po-1", "run-a"), retry_request_id("po-1", "run-b"), retry_request_id("po-2", "run-a")})
        == 3
    )


# --- the ledger -----------------------------------------------------------------------------------
def test_the_ledger_retries_a_failure_once_and_releases_a_refused_one(tmp_path: Path) -> None:
    with Store(Settings(state_dir=tmp_path).resolved_store_url) as store:
        ledger = RetryLedger(store)
        assert ledger.earlier("po-1", "run-a") is None
        claim = ledger.claim("po-1", "run-a")
        assert isinstance(claim, Claim)
        assert ledger.claim("po-1", "run-a") == ledger.earlier("po-1", "run-a")
        assert "under way" in str(ledger.earlier("po-1", "run-a"))
        done = RetryOutcome(workflow_id="po-1", failed_run_id="run-a", outcome="retried", how="reset",
                            reset_event_id=8, new_run_id="run-b", detail="reset to event 8")  # fmt: skip
        ledger.record(claim, done, "ana", "cli")
        assert ledger.earlier("po-1", "run-a") == "already retried as run run-b (reset, by ana)"
        assert ledger.claim("po-1", "run-a") == "already retried as run run-b (reset, by ana)"
        assert ledger.retried_into("po-1", "run-b") and not ledger.retried_into("po-1", "run-a")
        assert ledger.earlier("po-1", "run-b") is None  # a failure of the new run is a new failure

        other = ledger.claim("po-2", "run-x")
        assert isinstance(other, Claim)
        refused = RetryOutcome(workflow_id="po-2", failed_run_id="run-x", outcome="failed", detail="not retried")
        ledger.give_up(other, refused, "ana", "api_key")
        assert ledger.earlier("po-2", "run-x") is None and isinstance(ledger.claim("po-2", "run-x"), Claim)
        trail = [
            (e.action, e.record_id, e.outcome, e.details["via"]) for e in store.audit.query(record_type="workflow_run")
        ]
    assert trail == [("run.retried", "po-1", "reset", "cli"), ("run.retry_failed", "po-2", "failed", "api_key")]


def test_an_interrupted_retry_may_be_tried_again_once_its_lease_ran_out(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(triage_retry, "RETRY_LEASE", timedelta(0))  # the process died right after its claim
    with Store(Settings(state_dir=tmp_path).resolved_store_url) as store:
        ledger = RetryLedger(store)
        first = ledger.claim("po-1", "run-a")
        assert isinstance(first, Claim) and ledger.earlier("po-1", "run-a") is None
        again = ledger.claim("po-1", "run-a")
        assert isinstance(again, Claim) and again.attempt == first.attempt + 1
