"""`IntakeDispatchPort` over Temporal: each record a file brings goes through the same start or
signal a JSON request makes (starter/operations/starts.py and messages.py), from the intake
activity's own client and task queue. Wired by worker.py (the composition root) with the
worker's settings, so SLAs and policies are the platform's."""

from __future__ import annotations

from decimal import Decimal

from temporalio import activity
from temporalio.client import Client, WorkflowQueryFailedError
from temporalio.common import WorkflowIDConflictPolicy, WorkflowIDReusePolicy
from temporalio.exceptions import WorkflowAlreadyStartedError
from temporalio.service import RPCError, RPCStatusCode

from domain.compliance import ReviewTaskInput
from domain.intake import IntakeFileInput, IntakeResult, intake_workflow_id
from domain.purchasing import Invoice, PoAcknowledgement, PurchaseOrder, purchase_order_workflow_id
from domain.shipping import ShipNotice
from domain.supplier import SupplierOnboardingRequest
from runtime.settings import Settings
from starter.operations.messages import deliver_acknowledgement, deliver_ship_notice, purchase_order_status
from starter.operations.starts import (
    AlreadyProcessed,
    ConflictingSubmission,
    start_invoice,
    start_onboarding,
    start_purchase_order,
)
from workflows.compliance import ReviewTaskWorkflow
from workflows.intake import IntakeFileWorkflow


class TemporalIntakeDispatch:
    def __init__(self, settings: Settings, client: Client | None = None) -> None:
        """`client`: for callers outside an activity (the CLI and API submit files with theirs)."""
        self._settings = settings
        self._client = client

    @property
    def client(self) -> Client:
        return self._client or activity.client()

    @property
    def settings(self) -> Settings:
        """Inside an activity, processes start on the queue of the worker that runs it."""
        if self._client is None and activity.in_activity():
            return self._settings.model_copy(update={"task_queue": activity.info().task_queue})
        return self._settings

    async def acknowledge(self, ack: PoAcknowledgement) -> str | None:
        if not await deliver_acknowledgement(self.client, ack):
            return None
        return purchase_order_workflow_id(ack.po_number)

    async def ship_notice(self, notice: ShipNotice) -> str | None:
        if not await deliver_ship_notice(self.client, notice):
            return None
        return purchase_order_workflow_id(notice.po_number)

    async def start_invoice(self, invoice: Invoice, submitted_by: str) -> tuple[str, bool]:
        before = await self._exists(f"invoice-{invoice.supplier_id}-{invoice.invoice_number}")
        try:
            handle = await start_invoice(self.client, self.settings, invoice, submitted_by=submitted_by)
        except ConflictingSubmission as conflict:
            return conflict.workflow_id, False
        return handle.id, not before

    async def start_purchase_order(self, po: PurchaseOrder, submitted_by: str) -> tuple[str, bool]:
        before = await self._exists(purchase_order_workflow_id(po.po_number))
        try:
            handle = await start_purchase_order(self.client, self.settings, po, submitted_by=submitted_by)
        except AlreadyProcessed as done:
            return done.view.workflow_id, False
        except ConflictingSubmission as conflict:
            return conflict.workflow_id, False
        return handle.id, not before

    async def start_onboarding(self, request: SupplierOnboardingRequest) -> tuple[str, bool]:
        try:
            handle = await start_onboarding(self.client, self.settings, request)
        except ConflictingSubmission as conflict:
            return conflict.workflow_id, False
        return handle.id, True

    async def open_task(self, task_id: str, task: ReviewTaskInput) -> str:
        await self.client.start_workflow(
            ReviewTaskWorkflow.run, task, id=task_id, task_queue=self.settings.task_queue,
            id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
            id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE, static_summary=task.summary[:200],
        )  # fmt: skip
        return task_id

    async def purchase_order_lines(self, po_number: str) -> dict[int, tuple[Decimal, Decimal, str]] | None:
        try:
            status = await purchase_order_status(self.client, po_number)
        except (RPCError, WorkflowQueryFailedError):
            return None
        if status is None or status.outcome is not None:
            return None
        return {line.line: (line.ordered, line.shipped, line.uom) for line in status.lines if not line.cancelled}

    async def purchase_order_known(self, po_number: str) -> bool:
        return await self._exists(purchase_order_workflow_id(po_number))

    async def process_file(self, params: IntakeFileInput) -> IntakeResult:
        workflow_id = intake_workflow_id(params.file_id)
        try:
            handle = await self.client.start_workflow(
                IntakeFileWorkflow.run, params, id=workflow_id, task_queue=self.settings.task_queue,
                id_conflict_policy=WorkflowIDConflictPolicy.USE_EXISTING,
                id_reuse_policy=WorkflowIDReusePolicy.REJECT_DUPLICATE, static_summary=f"Intake of {params.name}",
            )  # fmt: skip
        except WorkflowAlreadyStartedError:  # taken before (and finished): its result stands
            handle = self.client.get_workflow_handle_for(IntakeFileWorkflow.run, workflow_id)
        return await handle.result()

    async def _exists(self, workflow_id: str) -> bool:
        try:
            await self.client.get_workflow_handle(workflow_id).describe()
        except RPCError as error:
            if error.status is RPCStatusCode.NOT_FOUND:
                return False
            raise
        return True
