"""Small workflows the metrics tests run on a worker with `MetricsInterceptor`: one that ends with
a business outcome after an activity, one that fails, one that continues as new, and one that
publishes an SLA-breach event twice (the store records it once)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import activity, workflow
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError

with workflow.unsafe.imports_passed_through():
    from activities.events import EventActivities
    from domain.events import BusinessEvent, PublishEventInput
    from workflows import search_attributes as sa

QUICK = timedelta(seconds=10)


@activity.defn
async def probe_step(text: str) -> str:
    return text


@workflow.defn(name="OutcomeProbe")
class OutcomeProbe:
    @workflow.run
    async def run(self, outcome: str) -> str:
        await workflow.execute_activity(probe_step, "step", start_to_close_timeout=QUICK)
        workflow.upsert_search_attributes([sa.OUTCOME.value_set(outcome)])
        return outcome


@workflow.defn(name="FailingProbe")
class FailingProbe:
    @workflow.run
    async def run(self) -> None:
        raise ApplicationError("the probe fails on purpose", non_retryable=True)


@workflow.defn(name="ContinuingProbe")
class ContinuingProbe:
    @workflow.run
    async def run(self, left: int) -> int:
        if left > 0:
            workflow.continue_as_new(left - 1)
        return left


@workflow.defn(name="BreachProbe")
class BreachProbe:
    @workflow.run
    async def run(self, team: str) -> None:
        event = BusinessEvent(
            event_id=f"{workflow.info().workflow_id}:breach",
            type="invoice.exception_escalated",
            subject="SUP-0002/NSS-889121",
            workflow_id=workflow.info().workflow_id,
            occurred_at=workflow.now(),
            data={"team": team, "po_number": "PO-2026-000451", "invoice_number": "NSS-889121"},
        )
        for _ in range(2):  # the second is what a retried publish looks like: the same event id
            await workflow.execute_activity_method(
                EventActivities.publish_event,
                PublishEventInput(event=event),
                start_to_close_timeout=QUICK,
                retry_policy=RetryPolicy(maximum_attempts=1),
            )
