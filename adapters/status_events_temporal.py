"""`StatusEventsPort` over Temporal: signal-with-start of the vendor's `SupplierStatusSync`
workflow, the one way a status change reaches it (the API's webhook and the activities both come
here). The status sync dedupes by event id, so a retried delivery is applied once."""

from __future__ import annotations

from temporalio import activity
from temporalio.client import Client
from temporalio.common import WorkflowIDConflictPolicy

from domain.events import VendorStatusEvent
from domain.status_sync import StatusSyncInput, status_sync_workflow_id
from runtime.temporal_names import signal_name
from workflows.status_sync import SupplierStatusSyncWorkflow


async def deliver_status_event(client: Client, task_queue: str, event: VendorStatusEvent) -> str:
    """Signal-with-start the vendor's status-sync workflow (its `status_changed` signal); returns
    its workflow id."""
    workflow_id = status_sync_workflow_id(event.vendor_id)
    await client.start_workflow(
        SupplierStatusSyncWorkflow.run,
        StatusSyncInput(vendor_id=event.vendor_id),
        id=workflow_id,
        task_queue=task_queue,
        start_signal=signal_name(SupplierStatusSyncWorkflow.status_changed),
        start_signal_args=[event],
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return workflow_id


class TemporalStatusEvents:
    """Delivers through the client and on the task queue of the activity that calls it
    (`activity.client()`, `activity.info().task_queue`): the worker that runs the sync runs the
    status syncs too."""

    async def deliver(self, event: VendorStatusEvent) -> str:
        return await deliver_status_event(activity.client(), activity.info().task_queue, event)
