"""What people and systems tell running processes: receipts and cancellations (Updates on the
PO), acknowledgements and ERP receipts (signals to the PO), and decisions: the task inbox lists
the open ones, and every decision (a PO approval, an invoice exception, a possible-duplicate
supplier review) goes through the one `resolve_exception` Update of its run, whose validator
refuses what does not apply."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from contextlib import asynccontextmanager
from typing import Any, Protocol, TypeVar, cast

from pydantic import BaseModel
from temporalio.client import (
    Client,
    WorkflowHandle,
    WorkflowUpdateFailedError,
    WorkflowUpdateRPCTimeoutOrCancelledError,
)
from temporalio.service import RPCError, RPCStatusCode
from temporalio.workflow import UpdateMethodMultiParam

from domain.compliance import ReviewTaskStatus
from domain.decisions import DecisionKind, ExceptionResolution, OpenException, manager_team
from domain.invoice_models import InvoiceStatus
from domain.master_data.sync import ConflictStatus
from domain.onboarding import OnboardingStatus
from domain.po_models import CancelRequest, PoResult, PoStatus, ReceiptRequest
from domain.purchasing import PoAcknowledgement, Receipt, purchase_order_workflow_id
from domain.replenishment_models import ReplenishmentStatus
from domain.shipping import ShipNotice
from starter.operations.processes import deciding_workflow
from starter.operations.runs import (
    QUERY_TIMEOUT,
    DecisionRefused,
    UnknownRun,
    ended_run_message,
    failure_message,
)
from workflows import search_attributes as sa
from workflows.purchase_order import PurchaseOrderWorkflow

A = TypeVar("A", bound=BaseModel)
E = TypeVar("E", bound=BaseModel)
R = TypeVar("R", bound=BaseModel)
# what a deciding workflow's status query and Update answer
Decided = OnboardingStatus | PoStatus | InvoiceStatus | ConflictStatus | ReviewTaskStatus | ReplenishmentStatus


class _Deciding(Protocol):
    """The status query's answer of a deciding workflow (OnboardingStatus, PoStatus, InvoiceStatus)."""

    open_exception: OpenException | None


DECISION_KINDS = tuple(kind.value for kind in DecisionKind)
# How long a caller waits for an Update's answer (a receipt, a cancellation, a decision) before
# it is told the run is still applying it: the API's bound on every request that changes a run.
UPDATE_WAIT_SECONDS = 12.0


@asynccontextmanager
async def _refusals(client: Client, workflow_id: str) -> AsyncIterator[None]:
    """An Update its validator refused, or sent to a run that has ended ("... is completed
    (outcome closed)") -> `DecisionRefused`; no such run -> `UnknownRun`."""
    try:
        yield
    except WorkflowUpdateFailedError as error:
        raise DecisionRefused(failure_message(error)) from error
    except RPCError as error:
        if error.status != RPCStatusCode.NOT_FOUND:
            raise
        ended = await ended_run_message(client, workflow_id)
        if ended is not None:
            raise DecisionRefused(f"{ended}: it takes no more requests") from error
        raise UnknownRun(f"no workflow with id {workflow_id!r}") from error


def _purchase_order(client: Client, po_number: str) -> WorkflowHandle[PurchaseOrderWorkflow, PoResult]:
    return client.get_workflow_handle_for(PurchaseOrderWorkflow.run, purchase_order_workflow_id(po_number))


class StillApplying(TimeoutError):
    """An Update sent to a run did not finish within the caller's bound (a system it calls is
    down or slow, or no worker runs): it stays with the run, which applies it when it can. The
    API answers 202 with the run's Location; the CLI says so and exits 1."""

    def __init__(self, workflow_id: str, waited: float) -> None:
        super().__init__(
            f"{workflow_id} has not finished applying the request after {waited:.0f} s; it is still being "
            "applied: read the run to see when it is"
        )
        self.workflow_id = workflow_id


async def _execute_update(
    client: Client,
    workflow_id: str,
    update: UpdateMethodMultiParam[[Any, A], Coroutine[Any, Any, R]],
    arg: A,
    *,
    wait_seconds: float | None = None,
) -> R:
    """Run an Update of the workflow by its method, waiting at most `wait_seconds` for its answer
    (then `StillApplying`: a receipt must not hang a caller while the ERP is down).
    `@workflow.update(name=...)` (our workflows name their handlers, so renaming a method never
    breaks a running workflow) types the method as returning its coroutine; the SDK returns the
    awaited value, whose type this restores."""
    bound = UPDATE_WAIT_SECONDS if wait_seconds is None else wait_seconds
    async with _refusals(client, workflow_id):
        call = client.get_workflow_handle(workflow_id).execute_update(update, arg)
        try:
            answer = await asyncio.wait_for(call, bound)
        except (TimeoutError, WorkflowUpdateRPCTimeoutOrCancelledError):  # the SDK's word for our bound's cancel
            raise StillApplying(workflow_id, bound) from None
    return cast(R, answer)


async def record_receipt(client: Client, po_number: str, request: ReceiptRequest) -> PoStatus:
    workflow_id = purchase_order_workflow_id(po_number)
    return await _execute_update(client, workflow_id, PurchaseOrderWorkflow.record_receipt, request)


async def cancel_purchase_order(client: Client, po_number: str, request: CancelRequest) -> PoStatus:
    return await _execute_update(client, purchase_order_workflow_id(po_number), PurchaseOrderWorkflow.cancel, request)


async def _signal_po(
    client: Client, po_number: str, signal: Callable[[PurchaseOrderWorkflow, E], None], event: E
) -> bool:
    try:
        await _purchase_order(client, po_number).signal(signal, event)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return False
        raise
    return True


async def purchase_order_status(client: Client, po_number: str) -> PoStatus | None:
    """The PO's `status` query (who its supplier is, each line's ordered and received, the
    receipts it counted): of the running workflow, or of the last run while Temporal keeps its
    history; None when there is no such PO. Other failures propagate (Temporal unreachable)."""
    try:
        return await _purchase_order(client, po_number).query(PurchaseOrderWorkflow.status, rpc_timeout=QUERY_TIMEOUT)
    except RPCError as error:
        if error.status == RPCStatusCode.NOT_FOUND:
            return None
        raise


async def deliver_acknowledgement(client: Client, ack: PoAcknowledgement) -> bool:
    """The vendor's acknowledgement, to the PO's running workflow; False when none runs. The
    caller sets `ack.source` (who delivered it): the workflow dedupes on `(source, event_id)`."""
    return await _signal_po(client, ack.po_number, PurchaseOrderWorkflow.acknowledgement_received, ack)


async def deliver_ship_notice(client: Client, notice: ShipNotice) -> bool:
    """An advance ship notice (856), to the PO's running workflow; False when none runs."""
    return await _signal_po(client, notice.po_number, PurchaseOrderWorkflow.ship_notice_received, notice)


async def deliver_receipt(client: Client, receipt: Receipt) -> bool:
    """An ERP receipt, to the PO's running workflow; False when none runs."""
    return await _signal_po(client, receipt.po_number, PurchaseOrderWorkflow.receipt_recorded, receipt)


async def list_exceptions(client: Client, *, team: str | None = None) -> list[OpenException]:
    """Open exceptions (PO approvals, contract exceptions, invoice exceptions, supplier reviews),
    oldest first. `team` also matches the team's managers, who hold its escalated exceptions."""
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
    """The decision the run waits for, from its `status` query; None if none (or no such run)."""
    workflow = deciding_workflow(workflow_id)
    if workflow is None:
        return None
    status_query: Callable[[Any], _Deciding] = workflow.status
    try:
        status = await client.get_workflow_handle(workflow_id).query(status_query, rpc_timeout=QUERY_TIMEOUT)
    except RPCError:
        return None
    return status.open_exception


async def resolve_exception(client: Client, workflow_id: str, resolution: ExceptionResolution) -> Decided:
    """Decide the run's open exception or review (the CLI's `exceptions resolve`, `approve` and
    `reject`, and the API's task decision all come here); returns the run's status after it."""
    workflow = deciding_workflow(workflow_id)
    if workflow is None:
        raise UnknownRun(f"{workflow_id!r} is not a supplier onboarding, purchase order or invoice run")
    return await _execute_update(client, workflow_id, workflow.resolve_exception, resolution)
