"""`ReplenishmentEventsPort` over Temporal: signal-with-start of the location and item's
`Replenishment` workflow, the one way a breach reaches it (the API's inventory webhook, the CLI
and the scan all come here). While a run is open the breach joins it (its `breach_reported`
signal); when none is, a new run starts with it. The workflow counts each event id once."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy

from domain.replenishment_models import (
    ReplenishmentInput,
    ReplenishmentPolicy,
    StockBreach,
    replenishment_workflow_id,
)
from runtime.temporal_names import signal_name
from workflows.replenishment import ReplenishmentWorkflow


async def deliver_stock_breach(
    client: Client, task_queue: str, breach: StockBreach, policy: ReplenishmentPolicy
) -> str:
    workflow_id = replenishment_workflow_id(breach.location_id, breach.item_id)
    await client.start_workflow(
        ReplenishmentWorkflow.run,
        ReplenishmentInput(location_id=breach.location_id, item_id=breach.item_id, policy=policy),
        id=workflow_id,
        task_queue=task_queue,
        start_signal=signal_name(ReplenishmentWorkflow.breach_reported),
        start_signal_args=[breach],
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary=f"Replenish {breach.item_id} at {breach.location_id}",
    )
    return workflow_id


class TemporalReplenishmentEvents:
    """Delivers through the client and on the task queue of the activity that calls it."""

    async def deliver(self, breach: StockBreach, policy: ReplenishmentPolicy) -> str:
        return await deliver_stock_breach(activity.client(), activity.info().task_queue, breach, policy)
