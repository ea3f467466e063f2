"""Who may read which run, and who may change a purchase order: the API's rules beyond scopes.

Reading (`GET /v1/purchase-orders/{po}`, `/v1/invoices/{supplier}/{number}`, `/v1/runs/{id}`,
and the run every POST answers with):
- A scope per process: `procurement:read` for POs, `invoices:read` for invoices, `suppliers:read`
  for supplier onboarding and status sync. A write scope implies the read scope of its process
  (`procurement:write` reads POs): whoever may submit must be able to follow what it submitted.
  A run id of a process we never start is 404.
- Which runs: team `*` sees every run. A principal bound to suppliers (a vendor partner) sees only
  its suppliers' runs. Any other sees the runs it submitted, the runs whose next step one of its
  teams owns (the task inbox's rule, `Principal.may_decide_for`: the team or its managers), and
  every run of a process its team owns (`purchasing` POs, `accounts-payable` invoices,
  `vendor-master-data` suppliers). Any other run is 404, as if it did not exist: ids are business
  numbers, easy to guess, and must not be probed.
- Evidence (contract prices, the supplier's dispute history) of an exception is shown to the team
  that decides it (and its managers), to `accounts-payable` and to `*`; to anyone else it is
  withheld (`evidence: {}`, the rest of the run is shown).

Changing a PO (the actor is always the principal, never a field of the body):
- cancel: its requester (the principal that submitted it), `purchasing`, `purchasing-managers`, `*`;
- receive: its requester, `receiving` and `purchasing` (and their managers), `*`.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends
from temporalio.client import Client

from domain.decisions import AP_TEAM, PURCHASING_TEAM, RECEIVING_TEAM, VENDOR_MASTER_TEAM
from domain.invoice_models import InvoiceInput
from domain.po_models import PurchaseOrderInput
from runtime.settings import Settings
from starter import operations as ops
from starter.api.problems import ProblemError
from starter.api.security import ALL_TEAMS, CurrentPrincipal, Principal
from starter.operations.processes import workflow_for
from workflows.invoice import InvoiceWorkflow
from workflows.onboarding import SupplierOnboardingWorkflow
from workflows.purchase_order import PurchaseOrderWorkflow
from workflows.status_sync import SupplierStatusSyncWorkflow

PROCUREMENT_READ, INVOICES_READ, SUPPLIERS_READ = "procurement:read", "invoices:read", "suppliers:read"
_IMPLIED_BY = {
    PROCUREMENT_READ: "procurement:write",
    INVOICES_READ: "invoices:write",
    SUPPLIERS_READ: "suppliers:write",
    "subscriptions:read": "subscriptions:write",
    "runs:read": "runs:write",
}
# (read scope, the team that owns every run of the process) per workflow class
_PROCESS: dict[type, tuple[str, str]] = {
    PurchaseOrderWorkflow: (PROCUREMENT_READ, PURCHASING_TEAM),
    InvoiceWorkflow: (INVOICES_READ, AP_TEAM),
    SupplierOnboardingWorkflow: (SUPPLIERS_READ, VENDOR_MASTER_TEAM),
    SupplierStatusSyncWorkflow: (SUPPLIERS_READ, VENDOR_MASTER_TEAM),
}
CANCELLERS = (PURCHASING_TEAM,)  # and the requester; `may_decide_for` adds managers and `*`
RECEIVERS = (RECEIVING_TEAM, PURCHASING_TEAM)


def holds(principal: Principal, scope: str) -> bool:
    return scope in principal.scopes or _IMPLIED_BY.get(scope, "") in principal.scopes


def _check_scope(principal: Principal, scope: str) -> None:
    if not holds(principal, scope):
        detail = f"this operation needs the scope {scope} (or {_IMPLIED_BY[scope]})"
        raise ProblemError(403, "Insufficient scope", detail, scope=scope)


def reader(scope: str) -> Any:
    """A dependency: the caller, who must hold `scope` or the write scope implying it (403)."""

    async def check(principal: CurrentPrincipal) -> Principal:
        _check_scope(principal, scope)
        return principal

    return Depends(check)


async def submitter(client: Client, workflow_id: str) -> str | None:
    """The principal that submitted a PO or invoice run (from the run's start input)."""
    workflow = workflow_for(workflow_id)
    started: PurchaseOrderInput | InvoiceInput | None = None
    if workflow is PurchaseOrderWorkflow:
        started = await ops.run_input(client, workflow_id, PurchaseOrderInput)
    elif workflow is InvoiceWorkflow:
        started = await ops.run_input(client, workflow_id, InvoiceInput)
    return started.submitted_by if started is not None else None


async def _sees(client: Client, principal: Principal, view: ops.RunView, owner_team: str) -> bool:
    if ALL_TEAMS in principal.teams:
        return True
    if principal.suppliers:
        return view.supplier is not None and principal.speaks_for_supplier(view.supplier)
    if principal.may_decide_for(owner_team) or (view.team is not None and principal.may_decide_for(view.team)):
        return True
    return await submitter(client, view.workflow_id) == principal.subject


def _may_see_evidence(principal: Principal, team: Any) -> bool:
    return principal.may_decide_for(AP_TEAM) or (isinstance(team, str) and principal.may_decide_for(team))


def redacted(principal: Principal, view: ops.RunView) -> ops.RunView:
    """The view with the evidence the principal may not see withheld (see the module docstring)."""
    result = view.result
    if not result:
        return view
    opened = result.get("open_exception")
    if isinstance(opened, dict) and opened.get("evidence") and not _may_see_evidence(principal, opened.get("team")):
        result["open_exception"] = {**opened, "evidence": {}}
    if result.get("evidence") and not _may_see_evidence(principal, result.get("assigned_team")):
        result["evidence"] = {}
    return view


async def readable_run(client: Client, settings: Settings, principal: Principal, workflow_id: str) -> ops.RunView:
    """The run as this principal may see it: 403 without the process's read scope, 404 for a run
    that does not exist or that it may not see."""
    process = _PROCESS.get(workflow_for(workflow_id) or type(None))
    if process is None:
        raise ProblemError(404, "Not found", f"no workflow with id {workflow_id!r}")
    scope, owner_team = process
    _check_scope(principal, scope)
    try:
        view = await ops.describe_run(client, settings, workflow_id)
    except ops.UnknownRun as missing:
        raise ProblemError(404, "Not found", str(missing)) from None
    if not await _sees(client, principal, view, owner_team):
        raise ProblemError(404, "Not found", f"no workflow with id {workflow_id!r}")
    return redacted(principal, view)


async def check_may_change_po(client: Client, principal: Principal, workflow_id: str, teams: tuple[str, ...]) -> None:
    """404 for no such PO; 403 unless the principal submitted it or is of one of `teams` (or their
    managers, or `*`)."""
    requester = await submitter(client, workflow_id)
    if requester is None:
        raise ProblemError(404, "Not found", f"no workflow with id {workflow_id!r}")
    if requester == principal.subject or any(principal.may_decide_for(team) for team in teams):
        return
    allowed = ", ".join(teams)
    raise ProblemError(403, "Not your purchase order", f"only its requester or the teams {allowed} may do this")
