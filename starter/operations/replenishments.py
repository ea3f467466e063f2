"""Replenishments from the outside: a stock breach handed to its workflow (the API's inventory
webhook and the CLI), the policy built from settings, and reading runs for `replenishment list`,
`replenishment status` and `GET /v1/replenishments`."""

from __future__ import annotations

from datetime import timedelta

from temporalio.client import Client, WorkflowExecutionStatus
from temporalio.service import RPCError, RPCStatusCode

from adapters import replenishment_events_temporal as replenishment_events
from domain.replenishment_models import (
    ReplenishmentPolicy,
    ReplenishmentStatus,
    StockBreach,
    replenishment_workflow_id,
)
from runtime.settings import Settings
from starter.operations.starts import po_policy
from workflows.replenishment import ReplenishmentWorkflow

LIST_LIMIT = 200


def replenishment_policy(settings: Settings) -> ReplenishmentPolicy:
    return ReplenishmentPolicy(
        approval_limit=settings.replenishment_approval_limit,
        critical_approval_limit=settings.replenishment_critical_approval_limit,
        decision_sla=timedelta(hours=settings.decision_sla_hours),
        po=po_policy(settings),
    )


async def deliver_stock_breach(
    client: Client, settings: Settings, breach: StockBreach, policy: ReplenishmentPolicy | None = None
) -> str:
    """Signal-with-start the location and item's replenishment; returns its workflow id."""
    chosen = policy or replenishment_policy(settings)
    return await replenishment_events.deliver_stock_breach(client, settings.task_queue, breach, chosen)


async def replenishment_status(client: Client, location_id: str, item_id: str) -> ReplenishmentStatus | None:
    """The latest run of the location and item (open or ended); None when there never was one."""
    handle = client.get_workflow_handle_for(ReplenishmentWorkflow.run, replenishment_workflow_id(location_id, item_id))
    try:
        return await handle.query(ReplenishmentWorkflow.status)
    except RPCError as error:
        if error.status is RPCStatusCode.NOT_FOUND:
            return None
        raise


async def list_replenishments(
    client: Client, *, open_only: bool = False, limit: int = LIST_LIMIT
) -> list[ReplenishmentStatus]:
    """Runs, newest first (every run: a location and item replenished twice shows twice)."""
    query = 'WorkflowType = "Replenishment"'
    if open_only:
        query += ' AND ExecutionStatus = "Running"'
    found: list[ReplenishmentStatus] = []
    async for execution in client.list_workflows(query, limit=limit):
        handle = client.get_workflow_handle_for(ReplenishmentWorkflow.run, execution.id, run_id=execution.run_id)
        try:
            found.append(await handle.query(ReplenishmentWorkflow.status))
        except RPCError:
            if execution.status is WorkflowExecutionStatus.RUNNING:
                raise
    return found
