"""Which workflow class a run id belongs to, and the one name the client cannot take from a
method reference. Everything the client sends (starts, updates, signals, queries) goes through
the workflow's methods, as temporalio samples-python `message_passing/introduction/starter.py`
does: no workflow, update, signal or query name is spelled out in starter/."""

from __future__ import annotations

from domain.onboarding import onboarding_workflow_id
from domain.purchasing import invoice_workflow_id, purchase_order_workflow_id
from runtime.temporal_names import signal_name as signal_name  # re-exported for the starters
from workflows.compliance import ComplianceRescreenWorkflow, CredentialExpiryWorkflow, ReviewTaskWorkflow
from workflows.intake import IntakeFileWorkflow, IntakeInboxWorkflow, IntakeReplayWorkflow
from workflows.invoice import InvoiceWorkflow
from workflows.master_data_conflict import MasterDataConflictWorkflow
from workflows.master_data_sync import MasterDataSyncWorkflow
from workflows.onboarding import SupplierOnboardingWorkflow
from workflows.purchase_order import PurchaseOrderWorkflow
from workflows.replenishment import ReplenishmentWorkflow
from workflows.replenishment_scan import ReplenishmentScanWorkflow
from workflows.status_sync import SupplierStatusSyncWorkflow

# The workflows that open decisions for a team: each has a `status` query whose answer carries
# its `open_exception`, and a `resolve_exception` Update taking an ExceptionResolution.
DecidingWorkflow = (
    type[SupplierOnboardingWorkflow]
    | type[PurchaseOrderWorkflow]
    | type[InvoiceWorkflow]
    | type[MasterDataConflictWorkflow]
    | type[ReviewTaskWorkflow]
    | type[ReplenishmentWorkflow]
)
Process = (
    DecidingWorkflow
    | type[SupplierStatusSyncWorkflow]
    | type[MasterDataSyncWorkflow]
    | type[ComplianceRescreenWorkflow]
    | type[CredentialExpiryWorkflow]
    | type[ReplenishmentScanWorkflow]
    | type[IntakeFileWorkflow]
    | type[IntakeReplayWorkflow]
    | type[IntakeInboxWorkflow]
)

# Id prefixes, as domain/onboarding.py, domain/purchasing.py and domain/status_sync.py build the ids.
_DECIDING: tuple[tuple[str, DecidingWorkflow], ...] = (
    ("supplier-onboarding-", SupplierOnboardingWorkflow),
    ("purchase-order-", PurchaseOrderWorkflow),
    ("invoice-", InvoiceWorkflow),
    ("master-data-conflict-", MasterDataConflictWorkflow),
    ("compliance-review-", ReviewTaskWorkflow),
    ("credential-renewal-", ReviewTaskWorkflow),
    ("catalog-price-", ReviewTaskWorkflow),
    ("ship-notice-", ReviewTaskWorkflow),
    ("edi-997-overdue-", ReviewTaskWorkflow),
    ("replenishment-", ReplenishmentWorkflow),
)
_BY_PREFIX: tuple[tuple[str, Process], ...] = (
    ("replenishment-scan", ReplenishmentScanWorkflow),  # before `replenishment-` (in _DECIDING)
    *_DECIDING,
    ("supplier-status-", SupplierStatusSyncWorkflow),
    ("master-data-sync-", MasterDataSyncWorkflow),
    ("compliance-rescreen", ComplianceRescreenWorkflow),
    ("intake-replay-", IntakeReplayWorkflow),
    ("intake-inbox", IntakeInboxWorkflow),
    ("intake-", IntakeFileWorkflow),
    ("credential-expiry", CredentialExpiryWorkflow),
)


def workflow_for(workflow_id: str) -> Process | None:
    """The workflow class whose runs have ids like this one; None for an id we never start."""
    return next((cls for prefix, cls in _BY_PREFIX if workflow_id.startswith(prefix)), None)


def deciding_workflow(workflow_id: str) -> DecidingWorkflow | None:
    """The workflow class of a run that may hold a decision (supplier review, PO approval,
    invoice exception); None for any other id (a `replenishment-scan-...` run decides nothing)."""
    if workflow_for(workflow_id) is ReplenishmentScanWorkflow:
        return None
    return next((cls for prefix, cls in _DECIDING if workflow_id.startswith(prefix)), None)


def run_id_candidates(ref: str) -> list[str]:
    """The workflow ids a person may mean by `ref`, most likely first: a workflow id we start is
    itself; `SUP-0002/NSS-889121` is that invoice; anything else may be a PO number, an invoice
    key (`<supplier>-<invoice number>`, as in the invoice's id), a vendor id, or an id of its own."""
    if workflow_for(ref) is not None:
        return [ref]
    supplier, slash, number = ref.partition("/")
    if slash:
        return [invoice_workflow_id(supplier, number)]
    invoice_key = f"invoice-{ref}"  # an invoice key is its workflow id without the prefix
    return [purchase_order_workflow_id(ref), invoice_key, onboarding_workflow_id(ref), ref]
