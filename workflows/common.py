"""Activity options shared by the workflows: timeouts and retry policies next to the calls."""

from __future__ import annotations

from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

with workflow.unsafe.imports_passed_through():
    from domain.events import BusinessEvent
    from domain.onboarding import PublishEventInput, PublishEventResult

T = TypeVar("T")

# External systems: retried with backoff (1 s doubling to at most 10 s; the activity honours
# Retry-After) for up to 30 min,
# so an ERP outage delays a process instead of failing it. Business refusals are raised as
# non-retryable ApplicationErrors by the activities and end the retries at once.
EXTERNAL_CALL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
)
EXTERNAL_CALL_DEADLINE = timedelta(minutes=30)
# Compensations must finish: they retry for much longer.
COMPENSATION_DEADLINE = timedelta(hours=24)


async def call(
    activity: str,
    arg: Any,
    result_type: type[T],
    *,
    start_to_close: timedelta = timedelta(seconds=30),
    schedule_to_close: timedelta = EXTERNAL_CALL_DEADLINE,
    retry: RetryPolicy = EXTERNAL_CALL_RETRY,
    summary: str | None = None,
    local: bool = False,
) -> T:
    """Run one activity by its registered name (workflows do not import activity code); as a
    local activity when `local` (see `call_local`)."""
    options: dict[str, Any] = {
        "result_type": result_type,
        "start_to_close_timeout": start_to_close,
        "schedule_to_close_timeout": schedule_to_close,
        "retry_policy": retry,
        "summary": summary,
    }
    if local:
        result: T = await workflow.execute_local_activity(
            activity, arg, local_retry_threshold=LOCAL_RETRY_THRESHOLD, **options
        )
    else:
        result = await workflow.execute_activity(activity, arg, **options)
    return result


def root_cause(error: BaseException) -> str:
    """The innermost cause's message (an ActivityError wraps the activity's own error)."""
    while error.__cause__ is not None:
        error = error.__cause__
    return getattr(error, "message", None) or str(error)


# Local activities: short calls to the systems run inside the workflow task, recorded as markers,
# so a step costs no activity-task round trip through the server. Retried like `call`; past
# `LOCAL_RETRY_THRESHOLD` of backoff the SDK schedules the retries with durable timers.
LOCAL_RETRY_THRESHOLD = timedelta(seconds=30)


async def call_local(activity: str, arg: Any, result_type: type[T], **options: Any) -> T:
    """`call` as a local activity: same options, same retries."""
    return await call(activity, arg, result_type, local=True, **options)


async def publish(subject: str, event_type: str, data: dict[str, object], sequence: int) -> None:
    """Publish a business event from a workflow (a local activity); `sequence` numbers the run's
    events, so a retried publish is recorded once and two events of one type stay distinct."""
    info = workflow.info()
    event = BusinessEvent(
        event_id=f"{info.workflow_id}:{info.run_id}:{sequence}:{event_type}",
        type=event_type,
        subject=subject,
        workflow_id=info.workflow_id,
        occurred_at=workflow.now(),
        data=data,
    )
    await call_local("publish_event", PublishEventInput(event=event), PublishEventResult)
