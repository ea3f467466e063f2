"""`MetricsInterceptor`: the worker counts runs and SLA breaches where they happen.

- **Runs** (a workflow inbound interceptor, inside the sandbox): a run is counted as started
  when its first workflow task runs, and as ended with its outcome when its code returns or
  fails it. Replays (a worker rebuilding a run it had evicted, a query on a closed run) are
  never counted (`workflow.unsafe.is_replaying`). The count leaves the sandbox through an
  extern function, as Temporal's own tracing interceptor does. Outcome: the run's
  `SupplyBridgeOutcome` search attribute (set by the workflow's board), else `completed`;
  `failed` for an error that fails the run, `cancelled`, `continued_as_new`. An exception that
  only fails a workflow task (a bug, retried by Temporal) ends nothing and is not counted.
- **SLA breaches** (an activity inbound interceptor): every `publish_event` activity
  (`EventActivities.publish_event`, recognised by its input and result types) that recorded an
  SLA-breach event for the first time (`published`: a retried publish of the same event id is
  recorded once by the store, so it is counted once).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from temporalio import workflow
from temporalio.exceptions import FailureError, is_cancelled_exception
from temporalio.worker import (
    ActivityInboundInterceptor,
    ExecuteActivityInput,
    ExecuteWorkflowInput,
    Interceptor,
    WorkflowInboundInterceptor,
    WorkflowInterceptorClassInput,
)

from domain.events import PublishEventInput, PublishEventResult
from domain.kpis import SLA_BREACH_TYPES, breach_team
from runtime.metrics import BusinessMetrics, process_metrics
from workflows import search_attributes as sa

RUN_METRICS_EXTERN = "__supplybridge_run_metrics"
RunRecorder = Callable[[str, str | None], None]


class MetricsInterceptor(Interceptor):
    """Counts into `metrics` (the process's by default). Give it to the worker: `Worker(...,
    interceptors=[MetricsInterceptor()])`."""

    def __init__(self, metrics: BusinessMetrics | None = None) -> None:
        self._metrics = metrics or process_metrics().business

    def intercept_activity(self, next: ActivityInboundInterceptor) -> ActivityInboundInterceptor:
        return _EventMetrics(next, self._metrics)

    def workflow_interceptor_class(self, input: WorkflowInterceptorClassInput) -> type[WorkflowInboundInterceptor]:
        input.unsafe_extern_functions[RUN_METRICS_EXTERN] = self._record_run
        return _RunMetrics

    def _record_run(self, workflow_type: str, outcome: str | None) -> None:
        """Started when `outcome` is None, else ended with it."""
        if outcome is None:
            self._metrics.run_started(workflow_type)
        else:
            self._metrics.run_completed(workflow_type, outcome)


class _RunMetrics(WorkflowInboundInterceptor):
    async def execute_workflow(self, input: ExecuteWorkflowInput) -> Any:
        record: RunRecorder = workflow.extern_functions()[RUN_METRICS_EXTERN]
        workflow_type = workflow.info().workflow_type
        if not workflow.unsafe.is_replaying():
            record(workflow_type, None)
        try:
            result = await super().execute_workflow(input)
        except workflow.ContinueAsNewError:
            _ended(record, workflow_type, "continued_as_new")
            raise
        except BaseException as error:
            if is_cancelled_exception(error):
                _ended(record, workflow_type, "cancelled")
            elif isinstance(error, FailureError):
                _ended(record, workflow_type, "failed")
            raise
        _ended(record, workflow_type, workflow.info().typed_search_attributes.get(sa.OUTCOME) or "completed")
        return result


def _ended(record: RunRecorder, workflow_type: str, outcome: str) -> None:
    if not workflow.unsafe.is_replaying():
        record(workflow_type, outcome)


class _EventMetrics(ActivityInboundInterceptor):
    def __init__(self, next: ActivityInboundInterceptor, metrics: BusinessMetrics) -> None:
        super().__init__(next)
        self._metrics = metrics

    async def execute_activity(self, input: ExecuteActivityInput) -> Any:
        result = await super().execute_activity(input)
        params = input.args[0] if input.args else None
        if isinstance(params, PublishEventInput) and _first_breach(params, result):
            self._metrics.sla_breached(breach_team(params.event))
        return result


def _first_breach(params: PublishEventInput, result: object) -> bool:
    """An SLA-breach event the store recorded now (not a retry of one it had)."""
    return isinstance(result, PublishEventResult) and result.published and params.event.type in SLA_BREACH_TYPES
