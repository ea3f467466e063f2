"""What the CLI, the demo and the API do with Temporal: start processes, read their state,
deliver decisions. One `RunView` shape answers every "what happened?" question."""

from __future__ import annotations

import asyncio
import time
from datetime import timedelta
from typing import Any

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowExecutionStatus,
    WorkflowFailureError,
    WorkflowHandle,
    WorkflowUpdateFailedError,
)
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.service import RPCError, RPCStatusCode

from domain.events import VendorStatusEvent
from domain.onboarding import (
    OnboardingResult,
    OnboardingStage,
    OnboardingStatus,
    OnboardSupplierInput,
    ReviewDecision,
    onboarding_workflow_id,
)
from domain.status_sync import StatusSyncInput, StatusSyncResult, StatusSyncState, status_sync_workflow_id
from domain.supplier import SupplierOnboardingRequest
from runtime.settings import Settings
from workflows import search_attributes as sa
from workflows.onboarding import SupplierOnboardingWorkflow
from workflows.status_sync import SupplierStatusSyncWorkflow

# workflow type -> (query answer model, result model)
VIEWS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "SupplierOnboarding": (OnboardingStatus, OnboardingResult),
    "SupplierStatusSync": (StatusSyncState, StatusSyncResult),
}
QUERY_TIMEOUT = timedelta(seconds=5)
SETTLED_STAGES = {OnboardingStage.AWAITING_REVIEW.value}


class UnknownRun(LookupError):
    pass


class DecisionRefused(ValueError):
    pass


class RunView(BaseModel):
    workflow_id: str
    workflow_type: str | None = None
    status: str
    stage: str | None = None
    outcome: str | None = None
    result: dict[str, Any] | None = None
    error: str | None = None
    ui_url: str | None = None

    @property
    def is_rejection(self) -> bool:
        return self.outcome == "rejected"

    @property
    def is_failure(self) -> bool:
        return self.status in {"failed", "terminated", "timed_out", "canceled"}


async def start_onboarding(client: Client, settings: Settings, request: SupplierOnboardingRequest) -> WorkflowHandle:
    """Start (or, while one runs, join) the onboarding of this vendor-management registration."""
    return await client.start_workflow(
        SupplierOnboardingWorkflow.run,
        OnboardSupplierInput(request=request, review_sla=settings.review_sla),
        id=onboarding_workflow_id(request.source.id),
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary=f"Onboard vendor {request.source.id}",
    )


async def deliver_status_event(client: Client, settings: Settings, event: VendorStatusEvent) -> str:
    """Signal-with-start the vendor's status-sync workflow; returns its workflow id."""
    workflow_id = status_sync_workflow_id(event.vendor_id)
    await client.start_workflow(
        SupplierStatusSyncWorkflow.run,
        StatusSyncInput(vendor_id=event.vendor_id),
        id=workflow_id,
        task_queue=settings.task_queue,
        start_signal="status_changed",
        start_signal_args=[event],
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
    )
    return workflow_id


async def describe_run(client: Client, settings: Settings, workflow_id: str) -> RunView:
    handle = client.get_workflow_handle(workflow_id)
    try:
        description = await handle.describe()
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise UnknownRun(f"no workflow with id {workflow_id!r}") from error
        raise
    status = (description.status or WorkflowExecutionStatus.RUNNING).name.lower()
    view = RunView(
        workflow_id=workflow_id,
        workflow_type=description.workflow_type,
        status=status,
        stage=description.typed_search_attributes.get(sa.STAGE),
        outcome=description.typed_search_attributes.get(sa.OUTCOME),
        ui_url=settings.workflow_url(workflow_id),
    )
    status_model, result_model = VIEWS.get(description.workflow_type or "", (None, None))
    if description.status == WorkflowExecutionStatus.RUNNING and status_model is not None:
        try:  # a query needs a worker: without one, the search attributes still tell the stage
            answer = await handle.query("status", result_type=status_model, rpc_timeout=QUERY_TIMEOUT)
        except RPCError:
            return view
        view.stage = getattr(answer, "stage", view.stage)
        view.result = answer.model_dump(mode="json")
    elif description.status == WorkflowExecutionStatus.COMPLETED:
        result = await client.get_workflow_handle(workflow_id, result_type=result_model).result()
        view.result = result.model_dump(mode="json") if isinstance(result, BaseModel) else {"value": result}
        view.outcome = view.result.get("outcome", view.outcome)
    elif description.status is not None:
        try:
            await handle.result()
        except WorkflowFailureError as failure:
            view.error = _failure_message(failure)
    return view


async def wait_until_settled(client: Client, settings: Settings, workflow_id: str, timeout: float) -> RunView:
    """Poll until the run completes or waits for a person (awaiting review), or time runs out."""
    deadline = time.monotonic() + timeout
    delay = 0.1
    while True:
        view = await describe_run(client, settings, workflow_id)
        if view.status != "running" or view.stage in SETTLED_STAGES or time.monotonic() >= deadline:
            return view
        await asyncio.sleep(delay)
        delay = min(delay * 1.5, 1.0)


async def decide_review(client: Client, workflow_id: str, decision: ReviewDecision) -> OnboardingStatus:
    handle = client.get_workflow_handle(workflow_id)
    try:
        status: OnboardingStatus = await handle.execute_update("decide_review", decision, result_type=OnboardingStatus)
        return status
    except WorkflowUpdateFailedError as error:
        raise DecisionRefused(_failure_message(error)) from error
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise UnknownRun(f"no running workflow with id {workflow_id!r}") from error
        raise


_GENERIC = {"Workflow execution failed", "Activity task failed", "Workflow update failed"}


def _failure_message(error: BaseException) -> str:
    """The chain of causes without the generic wrappers: "onboarding failed ...: contracts refused: ..."."""
    messages: list[str] = []
    current: BaseException | None = error
    while current is not None:
        text = getattr(current, "message", None) or str(current)
        if text and text not in _GENERIC and not any(text in m for m in messages):
            messages.append(text)
        current = current.__cause__
    return messages[0] if len(messages) == 1 else "; ".join(messages) if messages else type(error).__name__
