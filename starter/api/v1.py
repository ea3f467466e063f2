"""The governed process API, `/v1`: the business capabilities of the CLI over HTTP.

Request and response bodies are the domain models. Every POST that starts or changes something
honours `Idempotency-Key` and is audited (actor = the principal, never a field of the body);
reading a run needs its process's read scope and sees only the runs starter/api/access.py lets
it; the task inbox needs `tasks:decide`, the audit trail `audit:read`. A business number already
held by a running process with another document is 409 naming that run. Starting a process answers 202 at
once with the run's id (and a `Location` to read it), or with `?wait=true` once it settled (at
most 10 s), as `supplybridge ... submit` does.
"""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from domain.audit import AuditEntry, AuditRecord
from domain.decisions import ExceptionResolution, OpenException
from domain.po_models import CancelRequest, PoStatus, ReceiptRequest
from domain.purchasing import Invoice, PurchaseOrder, invoice_workflow_id, purchase_order_workflow_id
from domain.supplier import SupplierOnboardingRequest
from runtime.settings import Settings
from starter import operations as ops
from starter.api import access
from starter.api.bodies import BusinessId, CancelBody, IsoDatetime, ReceiptBody, RunId
from starter.api.deps import TemporalClient
from starter.api.guards import idempotent
from starter.api.idempotency import audit_with_answer
from starter.api.problems import PROBLEM_RESPONSES, ProblemError
from starter.api.security import CurrentPrincipal, Principal, require
from store import Store

SETTLE_SECONDS = 10.0
MAX_OFFSET = 1_000_000_000  # past any real trail; larger numbers overflow the database's integers
router = APIRouter(prefix="/v1", responses=PROBLEM_RESPONSES)


class AuditPage(BaseModel):
    items: list[AuditEntry]
    limit: int
    offset: int


class TaskList(BaseModel):
    items: list[OpenException]


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


def _audit(request: Request, principal: Principal, action: str, record: tuple[str, str], **details: Any) -> None:
    """The request's audit entry, written with its answer (starter/api/idempotency.py)."""
    entry = AuditRecord(
        actor=principal.subject,
        action=action,
        record_type=record[0],
        record_id=record[1],
        outcome=str(details.pop("outcome", "")) or None,
        details={"via": principal.via, **details},
    )
    audit_with_answer(request, entry)


def _view(principal: Principal, view: ops.RunView, status: int = 200) -> JSONResponse:
    headers = {"Location": f"/v1/runs/{view.workflow_id}"} if status == 202 else None
    shown = access.redacted(principal, view)
    return JSONResponse(shown.model_dump(mode="json"), status_code=status, headers=headers)


def _conflict(conflict: ops.ConflictingSubmission) -> ProblemError:
    """409 naming the run that holds the number (`workflow_id`, and where to read it)."""
    run = conflict.workflow_id
    return ProblemError(409, "Already running with another document", str(conflict), workflow_id=run,
                        run=f"/v1/runs/{run}")  # fmt: skip


async def _start_and_settle(request: Request, temporal: Any, handle: Any, wait: bool) -> ops.RunView:
    """The run's view right after the start, or (`?wait=true`) once it settled (at most 10 s)."""
    settings = _settings(request)
    if wait:
        return await ops.wait_until_settled(temporal, settings, handle.id, SETTLE_SECONDS)
    return ops.started_view(settings, handle.id, handle.result_run_id)


WaitQuery = Annotated[bool, Query(description="answer once the run completed or waits for someone else (at most 10 s)")]


Writer = Annotated[Principal, require("suppliers:write")]
Buyer = Annotated[Principal, require("procurement:write")]
Biller = Annotated[Principal, require("invoices:write")]
Approver = Annotated[Principal, require("tasks:decide")]
Auditor = Annotated[Principal, require("audit:read")]
ACCEPTED: dict[int | str, dict[str, Any]] = {
    202: {"model": ops.RunView, "description": "started (or joined); the run's view once it settled"}
}


@router.post("/suppliers/onboarding", status_code=202, tags=["suppliers"], responses=ACCEPTED)
async def onboard_supplier(
    request: Request,
    body: SupplierOnboardingRequest,
    principal: Writer,
    temporal: TemporalClient,
    wait: WaitQuery = False,
) -> Response:
    """Onboard a supplier (workflow `supplier-onboarding-<vendor id>`)."""

    async def run() -> JSONResponse:
        try:
            handle = await ops.start_onboarding(temporal, _settings(request), body)
        except ops.ConflictingSubmission as conflict:
            raise _conflict(conflict) from None
        view = await _start_and_settle(request, temporal, handle, wait)
        _audit(request, principal, "supplier.onboarding_requested", ("supplier", body.source.id),
               workflow_id=handle.id, outcome=view.outcome or view.stage)  # fmt: skip
        return _view(principal, view, 202)

    return await idempotent(request, principal, run)


@router.post("/purchase-orders", status_code=202, tags=["purchase orders"], responses=ACCEPTED)
async def submit_purchase_order(
    request: Request, body: PurchaseOrder, principal: Buyer, temporal: TemporalClient, wait: WaitQuery = False
) -> Response:
    """Submit a purchase order (workflow `purchase-order-<po number>`)."""

    async def run() -> JSONResponse:
        try:
            handle = await ops.start_purchase_order(temporal, _settings(request), body, submitted_by=principal.subject)
        except ops.AlreadyProcessed as done:
            raise ProblemError(409, "Already processed", str(done), workflow_id=done.view.workflow_id) from None
        except ops.ConflictingSubmission as conflict:
            raise _conflict(conflict) from None
        view = await _start_and_settle(request, temporal, handle, wait)
        _audit(request, principal, "purchase_order.submitted", ("purchase_order", body.po_number),
               workflow_id=handle.id, supplier_id=body.supplier_id, total=str(body.total),
               outcome=view.outcome or view.stage)  # fmt: skip
        return _view(principal, view, 202)

    return await idempotent(request, principal, run)


@router.get("/purchase-orders/{po_number}", tags=["purchase orders"], response_model=ops.RunView)
async def get_purchase_order(
    request: Request, po_number: BusinessId, principal: CurrentPrincipal, temporal: TemporalClient
) -> JSONResponse:
    """A PO's run (`procurement:read`; only the POs you may see: starter/api/access.py)."""
    workflow_id = purchase_order_workflow_id(po_number)
    return _view(principal, await access.readable_run(temporal, _settings(request), principal, workflow_id))


@router.post("/purchase-orders/{po_number}/receipts", tags=["purchase orders"], response_model=PoStatus)
async def receive_goods(
    request: Request, po_number: BusinessId, body: ReceiptBody, principal: Buyer, temporal: TemporalClient
) -> Response:
    """Record goods received on one PO line, received by the caller: the PO's requester, receiving
    or purchasing (403 for others)."""

    async def run() -> JSONResponse:
        workflow_id = purchase_order_workflow_id(po_number)
        await access.check_may_change_po(temporal, principal, workflow_id, access.RECEIVERS)
        receipt = ReceiptRequest(**body.model_dump(), received_by=principal.subject)
        status = await _refusable(ops.record_receipt(temporal, po_number, receipt))
        _audit(request, principal, "purchase_order.received", ("purchase_order", po_number),
               line=body.line, quantity=str(body.quantity), uom=body.uom)  # fmt: skip
        return JSONResponse(status.model_dump(mode="json"))

    return await idempotent(request, principal, run)


@router.post("/purchase-orders/{po_number}/cancel", tags=["purchase orders"], response_model=ops.RunView)
async def cancel_purchase_order(
    request: Request, po_number: BusinessId, body: CancelBody, principal: Buyer, temporal: TemporalClient
) -> Response:
    """Cancel a PO; it is compensated in reverse (reservations, vendor, ERP). Only its requester,
    purchasing and purchasing-managers (and `*`) may (403 for others)."""

    async def run() -> JSONResponse:
        workflow_id = purchase_order_workflow_id(po_number)
        await access.check_may_change_po(temporal, principal, workflow_id, access.CANCELLERS)
        cancel = CancelRequest(reason=body.reason, requested_by=principal.subject)
        await _refusable(ops.cancel_purchase_order(temporal, po_number, cancel))
        view = await _describe(request, temporal, workflow_id)
        _audit(request, principal, "purchase_order.cancel_requested", ("purchase_order", po_number),
               reason=body.reason, outcome=view.outcome)  # fmt: skip
        return _view(principal, view)

    return await idempotent(request, principal, run)


@router.post("/invoices", status_code=202, tags=["invoices"], responses=ACCEPTED)
async def submit_invoice(
    request: Request, body: Invoice, principal: Biller, temporal: TemporalClient, wait: WaitQuery = False
) -> Response:
    """Submit a supplier invoice for the three-way match (workflow `invoice-<supplier>-<number>`)."""

    async def run() -> JSONResponse:
        try:
            handle = await ops.start_invoice(temporal, _settings(request), body, submitted_by=principal.subject)
        except ops.ConflictingSubmission as conflict:
            raise _conflict(conflict) from None
        view = await _start_and_settle(request, temporal, handle, wait)
        _audit(request, principal, "invoice.submitted", ("invoice", handle.id),
               po_number=body.po_number, amount=str(body.computed_total),
               outcome=view.outcome or view.stage)  # fmt: skip
        return _view(principal, view, 202)

    return await idempotent(request, principal, run)


@router.get("/invoices/{supplier_id}/{invoice_number}", tags=["invoices"], response_model=ops.RunView)
async def get_invoice(
    request: Request,
    supplier_id: BusinessId,
    invoice_number: BusinessId,
    principal: CurrentPrincipal,
    temporal: TemporalClient,
) -> JSONResponse:
    """An invoice's run (`invoices:read`; only the invoices you may see: starter/api/access.py)."""
    workflow_id = invoice_workflow_id(supplier_id, invoice_number)
    return _view(principal, await access.readable_run(temporal, _settings(request), principal, workflow_id))


@router.get("/tasks", tags=["tasks"], response_model=TaskList)
async def list_tasks(
    principal: Approver,
    temporal: TemporalClient,
    team: Annotated[str | None, Query(max_length=80, description="one of your teams; all of them by default")] = None,
) -> JSONResponse:
    """The caller's inbox: open approvals and exceptions of their teams (and escalated ones for
    managers), oldest first, with why each was raised and its evidence."""
    if team is not None and not principal.may_decide_for(team):
        raise ProblemError(403, "Not your team", f"you are not an approver of team {team}")
    found = await ops.list_exceptions(temporal, team=team)
    mine = [task for task in found if principal.may_decide_for(task.team)]
    return JSONResponse(TaskList(items=mine).model_dump(mode="json"))


@router.post("/tasks/{task_id}/decision", tags=["tasks"], response_model=ops.RunView)
async def decide_task(
    request: Request, task_id: RunId, body: ExceptionResolution, principal: Approver, temporal: TemporalClient
) -> Response:
    """Decide a task; only an approver of the task's team may (403 otherwise)."""

    async def run() -> JSONResponse:
        task = await ops.open_exception(temporal, task_id)
        if task is None:
            raise ProblemError(404, "No open task", f"{task_id} has no open task")
        if not principal.may_decide_for(task.team):
            raise ProblemError(403, "Not your team", f"task {task_id} belongs to team {task.team}")
        decision = body.model_copy(update={"resolved_by": principal.subject})
        await _refusable(ops.resolve_exception(temporal, task_id, decision))
        view = await ops.wait_until_settled(temporal, _settings(request), task_id, SETTLE_SECONDS)
        _audit(request, principal, f"{task.kind.value}.decided", (task.kind.value, task_id),
               decision=body.action.value, reason=body.reason, team=task.team,
               outcome=view.outcome or view.stage)  # fmt: skip
        return _view(principal, view)

    return await idempotent(request, principal, run)


@router.get("/runs/{workflow_id}", tags=["runs"], response_model=ops.RunView)
async def get_run(request: Request, workflow_id: RunId, principal: CurrentPrincipal, temporal: TemporalClient) -> Any:
    """Any run, with the read scope of its process (`procurement:read`, `invoices:read`,
    `suppliers:read`); only the runs you may see (starter/api/access.py), others are 404."""
    return _view(principal, await access.readable_run(temporal, _settings(request), principal, workflow_id))


@router.get("/audit", tags=["audit"], response_model=AuditPage)
async def read_audit(
    request: Request,
    principal: Auditor,
    record_type: Annotated[str | None, Query(max_length=60)] = None,
    record_id: Annotated[str | None, Query(max_length=255)] = None,
    actor: Annotated[str | None, Query(max_length=200)] = None,
    since: IsoDatetime | None = None,
    until: IsoDatetime | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> JSONResponse:
    """Who did what, when, to which record (oldest first); `supplybridge audit verify` proves it unaltered."""
    entries = await asyncio.to_thread(
        _store(request).audit.query,
        record_type=record_type,
        record_id=record_id,
        actor=actor,
        since=since,
        until=until,
        limit=limit,
        offset=offset,
    )
    return JSONResponse(AuditPage(items=entries, limit=limit, offset=offset).model_dump(mode="json"))


async def _describe(request: Request, temporal: Any, workflow_id: str) -> ops.RunView:
    try:
        return await ops.describe_run(temporal, _settings(request), workflow_id)
    except ops.UnknownRun as missing:
        raise ProblemError(404, "Not found", str(missing)) from None


async def _refusable(call: Any) -> Any:
    """A refused Update is 409 (the process is not in a state to take it); an unknown run 404."""
    try:
        return await call
    except ops.DecisionRefused as refused:
        raise ProblemError(409, "Refused", str(refused)) from None
    except ops.UnknownRun as missing:
        raise ProblemError(404, "Not found", str(missing)) from None
