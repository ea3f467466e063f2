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
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.events import VendorStatusEvent
from domain.matching import manager_team
from domain.onboarding import (
    OnboardingResult,
    OnboardingStage,
    OnboardingStatus,
    OnboardSupplierInput,
    ReviewAction,
    ReviewDecision,
    onboarding_workflow_id,
)
from domain.procurement import (
    CancelRequest,
    DecisionKind,
    ExceptionResolution,
    InvoiceInput,
    InvoicePolicy,
    InvoiceResult,
    InvoiceStatus,
    OpenException,
    PoPolicy,
    PoResult,
    PoStatus,
    PurchaseOrderInput,
    ReceiptRequest,
)
from domain.purchasing import Invoice, PurchaseOrder, invoice_workflow_id, purchase_order_workflow_id
from domain.status_sync import StatusSyncInput, StatusSyncResult, StatusSyncState, status_sync_workflow_id
from domain.supplier import SupplierOnboardingRequest
from runtime.settings import Settings
from workflows import search_attributes as sa
from workflows.invoice import InvoiceWorkflow
from workflows.onboarding import SupplierOnboardingWorkflow
from workflows.purchase_order import PurchaseOrderWorkflow
from workflows.status_sync import SupplierStatusSyncWorkflow

# workflow type -> (query answer model, result model)
VIEWS: dict[str, tuple[type[BaseModel], type[BaseModel]]] = {
    "SupplierOnboarding": (OnboardingStatus, OnboardingResult),
    "SupplierStatusSync": (StatusSyncState, StatusSyncResult),
    "PurchaseOrder": (PoStatus, PoResult),
    "Invoice": (InvoiceStatus, InvoiceResult),
}
QUERY_TIMEOUT = timedelta(seconds=5)
# Stages where a run waits for someone else (a person, the vendor, the loading dock): `--wait`
# returns there.
SETTLED_STAGES = {
    OnboardingStage.AWAITING_REVIEW.value,
    "awaiting_approval",
    "awaiting_acknowledgement",
    "open",
    "on_hold",
    "awaiting_resolution",
}
REJECTED_OUTCOMES = {"rejected", "duplicate_invoice"}


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
        return self.outcome in REJECTED_OUTCOMES

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


class AlreadyProcessed(ValueError):
    """A business key (PO number) whose process already finished: it is not run again."""

    def __init__(self, message: str, view: RunView) -> None:
        super().__init__(message)
        self.view = view


def po_policy(settings: Settings) -> PoPolicy:
    return PoPolicy(
        ack_sla=timedelta(hours=settings.po_ack_sla_hours),
        ack_cancel_after=timedelta(hours=settings.po_ack_cancel_after_hours),
        decision_sla=timedelta(hours=settings.decision_sla_hours),
    )


async def start_purchase_order(
    client: Client, settings: Settings, po: PurchaseOrder, *, submitted_by: str, policy: PoPolicy | None = None
) -> WorkflowHandle:
    """Start the PO's workflow (`purchase-order-<po number>`); while it runs, join it. A PO number
    whose workflow completed is refused (`AlreadyProcessed`); one that failed may run again."""
    workflow_id = purchase_order_workflow_id(po.po_number)
    try:
        return await client.start_workflow(
            PurchaseOrderWorkflow.run,
            PurchaseOrderInput(po=po, policy=policy or po_policy(settings), submitted_by=submitted_by),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            static_summary=f"PO {po.po_number} to {po.supplier_id}",
        )
    except WorkflowAlreadyStartedError:
        view = await describe_run(client, settings, workflow_id)
        raise AlreadyProcessed(f"PO {po.po_number} was already processed (outcome {view.outcome})", view) from None


async def start_invoice(
    client: Client, settings: Settings, invoice: Invoice, *, submitted_by: str, policy: InvoicePolicy | None = None
) -> WorkflowHandle:
    """Start the invoice's workflow (`invoice-<supplier>-<number>`); while it runs, join it. After
    it completed the id may run again: the workflow then finds the duplicate in AP and refuses it."""
    return await client.start_workflow(
        InvoiceWorkflow.run,
        InvoiceInput(
            invoice=invoice,
            policy=policy or InvoicePolicy(resolution_sla=timedelta(hours=settings.invoice_resolution_sla_hours)),
            submitted_by=submitted_by,
        ),
        id=invoice_workflow_id(invoice.supplier_id, invoice.invoice_number),
        task_queue=settings.task_queue,
        id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
        id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
        static_summary=f"Invoice {invoice.invoice_number} from {invoice.supplier_id} on {invoice.po_number}",
    )


async def _update(client: Client, workflow_id: str, name: str, arg: object, result_type: type[BaseModel]) -> Any:
    handle = client.get_workflow_handle(workflow_id)
    try:
        return await handle.execute_update(name, arg, result_type=result_type)
    except WorkflowUpdateFailedError as error:
        raise DecisionRefused(_failure_message(error)) from error
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            raise UnknownRun(f"no running workflow with id {workflow_id!r}") from error
        raise


async def record_receipt(client: Client, po_number: str, request: ReceiptRequest) -> PoStatus:
    status: PoStatus = await _update(client, purchase_order_workflow_id(po_number), "record_receipt", request, PoStatus)
    return status


async def cancel_purchase_order(client: Client, po_number: str, request: CancelRequest) -> PoStatus:
    status: PoStatus = await _update(client, purchase_order_workflow_id(po_number), "cancel", request, PoStatus)
    return status


DECISION_KINDS = tuple(kind.value for kind in DecisionKind)


async def list_exceptions(client: Client, *, team: str | None = None) -> list[OpenException]:
    """Open exceptions (PO approvals, contract exceptions, invoice exceptions), oldest first.
    `team` also matches the team's managers, who hold its escalated exceptions."""
    kinds = ", ".join(f"'{kind}'" for kind in DECISION_KINDS)
    query = f"ExecutionStatus = 'Running' AND {sa.DECISION.name} IN ({kinds})"
    if team:
        teams = {team, manager_team(team)}
        query += f" AND {sa.TEAM.name} IN ({', '.join(repr(t) for t in sorted(teams))})"
    ids = [execution.id async for execution in client.list_workflows(query)]
    statuses = await asyncio.gather(*(open_exception(client, workflow_id) for workflow_id in ids))
    found = [s for s in statuses if s is not None and (team is None or s.team in (team, manager_team(team)))]
    return sorted(found, key=lambda e: e.raised_at)


async def open_exception(client: Client, workflow_id: str) -> OpenException | None:
    handle = client.get_workflow_handle(workflow_id)
    try:
        answer = await handle.query("status", result_type=dict, rpc_timeout=QUERY_TIMEOUT)
    except RPCError:
        return None
    exception = answer.get("open_exception")
    return OpenException.model_validate(exception) if exception else None


async def resolve_exception(client: Client, exception_id: str, resolution: ExceptionResolution) -> dict[str, Any]:
    """Resolve an open task: a supplier review goes to onboarding's `decide_review`, everything
    else to the run's `resolve_exception` Update (whose validator refuses what does not apply)."""
    task = await open_exception(client, exception_id)
    if task is not None and task.kind is DecisionKind.SUPPLIER_REVIEW:
        if resolution.action not in task.allowed_actions:
            allowed = ", ".join(a.value for a in task.allowed_actions)
            raise DecisionRefused(f"action {resolution.action.value} does not apply to a supplier review ({allowed})")
        decision = ReviewDecision(
            action=ReviewAction(resolution.action.value), reason=resolution.reason, decided_by=resolution.resolved_by
        )
        return (await decide_review(client, exception_id, decision)).model_dump(mode="json")
    answer: dict[str, Any] = await _update(client, exception_id, "resolve_exception", resolution, dict)  # type: ignore[arg-type]
    return answer


async def find_run_id(client: Client, ref: str) -> str:
    """A workflow id, or a PO number (`PO-2026-000451` -> `purchase-order-PO-2026-000451`)."""
    for candidate in (ref, purchase_order_workflow_id(ref)):
        try:
            await client.get_workflow_handle(candidate).describe()
            return candidate
        except RPCError as error:
            if error.status != RPCStatusCode.NOT_FOUND:
                raise
    return ref


async def deliver_po_signal(client: Client, po_number: str, signal: str, event: BaseModel) -> bool:
    """Signal an event (acknowledgement, receipt) to the PO's running workflow; False when none runs."""
    try:
        await client.get_workflow_handle(purchase_order_workflow_id(po_number)).signal(signal, event)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


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
