"""Activity steps, named by method reference so a reader (and mypy) follows a step to its code.

`await call(OnboardingActivities.match_tin, TinMatchInput(...))` runs the activity registered for
that method; its input is type-checked against the method's parameter and its result is the
method's return type. `call_local` is the same call as a local activity: short calls to the systems
run inside the workflow task and are recorded as markers, so a step costs no activity-task round
trip through the server (a human wait is never an activity, local or not).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any, TypeVar

from temporalio import workflow
from temporalio.common import RetryPolicy

ParamT = TypeVar("ParamT")
ResultT = TypeVar("ResultT")

# External systems: retried with backoff (1 s doubling to at most 10 s; the activity honours
# Retry-After) for up to 30 min, so an ERP outage delays a process instead of failing it. Business
# refusals are raised as non-retryable ApplicationErrors by the activities and end the retries.
EXTERNAL_CALL_RETRY = RetryPolicy(
    initial_interval=timedelta(seconds=1),
    backoff_coefficient=2.0,
    maximum_interval=timedelta(seconds=10),
)
EXTERNAL_CALL_DEADLINE = timedelta(minutes=30)
# Compensations must finish: they retry for much longer.
COMPENSATION_DEADLINE = timedelta(hours=24)
# Past this much backoff, the SDK schedules a local activity's retries with durable timers.
LOCAL_RETRY_THRESHOLD = timedelta(seconds=30)


async def call(
    activity: Callable[[Any, ParamT], Awaitable[ResultT]],
    arg: ParamT,
    *,
    start_to_close: timedelta = timedelta(seconds=30),
    schedule_to_close: timedelta = EXTERNAL_CALL_DEADLINE,
    retry: RetryPolicy = EXTERNAL_CALL_RETRY,
    summary: str | None = None,
    local: bool = False,
    heartbeat: timedelta | None = None,
) -> ResultT:
    """Run the activity method `activity` with `arg`; as a local activity when `local`. A long
    activity that heartbeats (paged reads, batches) passes `heartbeat`: a worker that died is
    noticed after that long, not after `start_to_close`."""
    if local:
        return await workflow.execute_local_activity_method(
            activity,
            arg,
            start_to_close_timeout=start_to_close,
            schedule_to_close_timeout=schedule_to_close,
            retry_policy=retry,
            local_retry_threshold=LOCAL_RETRY_THRESHOLD,
            summary=summary,
        )
    return await workflow.execute_activity_method(
        activity,
        arg,
        start_to_close_timeout=start_to_close,
        schedule_to_close_timeout=schedule_to_close,
        retry_policy=retry,
        summary=summary,
        heartbeat_timeout=heartbeat,
    )


async def call_local(
    activity: Callable[[Any, ParamT], Awaitable[ResultT]],
    arg: ParamT,
    *,
    start_to_close: timedelta = timedelta(seconds=30),
    schedule_to_close: timedelta = EXTERNAL_CALL_DEADLINE,
    retry: RetryPolicy = EXTERNAL_CALL_RETRY,
    summary: str | None = None,
) -> ResultT:
    """`call` as a local activity: same options, same retries."""
    return await call(
        activity,
        arg,
        start_to_close=start_to_close,
        schedule_to_close=schedule_to_close,
        retry=retry,
        summary=summary,
        local=True,
    )


def root_cause(error: BaseException) -> str:
    """The innermost cause's message (an ActivityError wraps the activity's own error)."""
    while error.__cause__ is not None:
        error = error.__cause__
    return getattr(error, "message", None) or str(error)
