"""Starting processes: each by its workflow's `run` method, under the id its business key gives
it (`supplier-onboarding-<vendor id>`, `purchase-order-<po number>`, `invoice-<supplier>-<number>`,
`supplier-status-<vendor id>`), joining the run while one is open."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import TypeVar

from pydantic import BaseModel
from temporalio.client import Client, WorkflowHandle
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError

from adapters import status_events_temporal as status_events
from domain.events import VendorStatusEvent
from domain.invoice_models import InvoiceInput, InvoicePolicy, InvoiceResult
from domain.onboarding import OnboardingResult, OnboardSupplierInput, onboarding_workflow_id
from domain.po_models import PoPolicy, PoResult, PurchaseOrderInput
from domain.purchasing import Invoice, PurchaseOrder, invoice_workflow_id, purchase_order_workflow_id
from domain.supplier import SupplierOnboardingRequest
from runtime.settings import Settings
from starter.operations.runs import RunView, describe_run, run_input
from workflows.invoice import InvoiceWorkflow
from workflows.onboarding import SupplierOnboardingWorkflow
from workflows.purchase_order import PurchaseOrderWorkflow

InputT = TypeVar("InputT", bound=BaseModel)


class ConflictingSubmission(ValueError):
    """A business key (PO number, invoice number, vendor id) whose process runs with another
    document: the new one did not take effect (the API answers 409 naming the run)."""

    def __init__(self, message: str, workflow_id: str) -> None:
        super().__init__(message)
        self.workflow_id = workflow_id


async def _refuse_another_document(
    client: Client,
    workflow_id: str,
    input_type: type[InputT],
    document_of: Callable[[InputT], BaseModel],
    sent: BaseModel,
) -> None:
    """Starting joins the run that holds the business key; when that run was started with another
    document (read from its history), the new one is refused rather than silently dropped.
    Compared as models, so `20` and `20.00` are one quantity."""
    started = await run_input(client, workflow_id, input_type)
    if started is not None and document_of(started) != sent:
        raise ConflictingSubmission(
            f"{workflow_id} is already running with another document under this number; "
            "it was not changed (send a new number, or cancel the running one first)",
            workflow_id,
        )


class AlreadyProcessed(ValueError):
    """A business key (PO number) whose process already finished: it is not run again."""

    def __init__(self, message: str, view: RunView) -> None:
        super().__init__(message)
        self.view = view


def decodable(workflow_input: InputT) -> InputT:
    """The input as the worker will decode it: a value that validates here but not after its JSON
    round trip (say a name of spaces, stripped to nothing) would leave the run unable to start its
    first workflow task, forever. Raises pydantic's ValidationError (a 422 / exit 2) instead."""
    return type(workflow_input).model_validate_json(workflow_input.model_dump_json())


async def start_onboarding(
    client: Client, settings: Settings, request: SupplierOnboardingRequest
) -> WorkflowHandle[SupplierOnboardingWorkflow, OnboardingResult]:
    """Start (or, while one runs, join) the onboarding of this vendor-management registration;
    `ConflictingSubmission` when the running one onboards another registration under this id."""
    workflow_id = onboarding_workflow_id(request.source.id)
    try:
        return await client.start_workflow(
            SupplierOnboardingWorkflow.run,
            decodable(OnboardSupplierInput(request=request, review_sla=settings.review_sla)),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            static_summary=f"Onboard vendor {request.source.id}",
        )
    except WorkflowAlreadyStartedError:  # one runs: join it, if it onboards this same registration
        await _refuse_another_document(client, workflow_id, OnboardSupplierInput, lambda run: run.request, request)
        return client.get_workflow_handle_for(SupplierOnboardingWorkflow.run, workflow_id)


def po_policy(settings: Settings) -> PoPolicy:
    return PoPolicy(
        ack_sla=timedelta(hours=settings.po_ack_sla_hours),
        ack_cancel_after=timedelta(hours=settings.po_ack_cancel_after_hours),
        decision_sla=timedelta(hours=settings.decision_sla_hours),
        invoice_sla=timedelta(days=settings.po_invoice_sla_days),
        approval_line_amount=settings.po_approval_line_amount,
        approval_order_amount=settings.po_approval_order_amount,
    )


async def start_purchase_order(
    client: Client, settings: Settings, po: PurchaseOrder, *, submitted_by: str, policy: PoPolicy | None = None
) -> WorkflowHandle[PurchaseOrderWorkflow, PoResult]:
    """Start the PO's workflow (`purchase-order-<po number>`); while it runs, join it. A PO number
    whose workflow completed is refused (`AlreadyProcessed`); one that failed may run again. A PO
    number whose running workflow holds another PO is refused (`ConflictingSubmission`). A new PO
    costs one call to Temporal; only a PO number already in use is looked up."""
    workflow_id = purchase_order_workflow_id(po.po_number)
    try:
        return await client.start_workflow(
            PurchaseOrderWorkflow.run,
            decodable(PurchaseOrderInput(po=po, policy=policy or po_policy(settings), submitted_by=submitted_by)),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE_FAILED_ONLY,
            static_summary=f"PO {po.po_number} to {po.supplier_id}",
        )
    except WorkflowAlreadyStartedError:
        view = await describe_run(client, settings, workflow_id)
        if view.status != "running":
            ended = f"outcome {view.outcome}" if view.outcome else view.status
            raise AlreadyProcessed(f"PO {po.po_number} was already processed ({ended})", view) from None
    await _refuse_another_document(client, workflow_id, PurchaseOrderInput, lambda run: run.po, po)
    return client.get_workflow_handle_for(PurchaseOrderWorkflow.run, workflow_id)


async def start_invoice(
    client: Client, settings: Settings, invoice: Invoice, *, submitted_by: str, policy: InvoicePolicy | None = None
) -> WorkflowHandle[InvoiceWorkflow, InvoiceResult]:
    """Start the invoice's workflow (`invoice-<supplier>-<number>`); while it runs, join it. After
    it completed the id may run again: the workflow then finds the duplicate in AP and refuses it.
    While it runs, another invoice under the same number is refused (`ConflictingSubmission`)."""
    workflow_id = invoice_workflow_id(invoice.supplier_id, invoice.invoice_number)
    resolution_sla = timedelta(hours=settings.invoice_resolution_sla_hours)
    try:
        return await client.start_workflow(
            InvoiceWorkflow.run,
            decodable(
                InvoiceInput(
                    invoice=invoice,
                    policy=policy or InvoicePolicy(resolution_sla=resolution_sla),
                    submitted_by=submitted_by,
                )
            ),
            id=workflow_id,
            task_queue=settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.FAIL,
            id_reuse_policy=WorkflowIDReusePolicy.ALLOW_DUPLICATE,
            static_summary=f"Invoice {invoice.invoice_number} from {invoice.supplier_id} on {invoice.po_number}",
        )
    except WorkflowAlreadyStartedError:  # one runs: join it, if it is this same invoice
        await _refuse_another_document(client, workflow_id, InvoiceInput, lambda run: run.invoice, invoice)
        return client.get_workflow_handle_for(InvoiceWorkflow.run, workflow_id)


async def deliver_status_event(client: Client, settings: Settings, event: VendorStatusEvent) -> str:
    """Signal-with-start the vendor's status-sync workflow (its `status_changed` signal); returns
    its workflow id (adapters/status_events_temporal.py: the one way a status change reaches it)."""
    return await status_events.deliver_status_event(client, settings.task_queue, event)
