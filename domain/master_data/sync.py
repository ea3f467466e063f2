"""What the master-data sync workflow and its activities exchange (small: the records themselves
stay in the activities and the store, never in the workflow's history)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import Field

from domain.base import DomainModel
from domain.decisions import OpenException
from domain.master_data.policy import Entity
from domain.master_data.summary import SyncSummary

DEFAULT_BATCH_SIZE = 200
"""Records whose corrections one `apply_batch` activity writes."""


def sync_workflow_id(entity: Entity, fire_time: datetime | None, run_key: str | None = None) -> str:
    """One run per entity per schedule tick: `master-data-sync-suppliers-20261124T0900Z`; a run
    started by hand gets its own key (`...-manual-<key>`)."""
    if fire_time is not None:
        return f"master-data-sync-{entity.value}-{fire_time.strftime('%Y%m%dT%H%MZ')}"
    return f"master-data-sync-{entity.value}-manual-{run_key}"


class MasterDataSyncInput(DomainModel):
    entity: Entity
    dry_run: bool = False
    batch_size: int = Field(default=DEFAULT_BATCH_SIZE, ge=1, le=5000)
    next_batch: int = Field(default=0, ge=0, description="carried across continue-as-new")
    planned: SyncPlan | None = Field(default=None, description="carried across continue-as-new")
    started_at: datetime | None = Field(default=None, description="carried across continue-as-new")


class PlanSyncInput(DomainModel):
    sync_id: str
    entity: Entity
    dry_run: bool
    batch_size: int


class ConflictFound(DomainModel):
    """A difference the rules must not settle: a task for vendor-master-data (values masked when
    sensitive)."""

    record: str
    system: str
    local_id: str | None
    field: str
    kind: str  # sensitive_differs | authorities_disagree | unknown_to_system_of_record
    before: object = None
    surviving: object = None
    rule: str
    sensitive: bool = False


class StatusCorrection(DomainModel):
    """The ERP's status of a supplier corrected to vendor management's: delivered to the supplier's
    status-sync workflow, exactly as a status change in vendor management is, so its open POs are
    held (or released) with it."""

    vendor_id: str
    erp_supplier_id: str
    hold: bool


class DeliverStatusInput(DomainModel):
    sync_id: str
    corrections: list[StatusCorrection]


STATUS_SYNC_BATCH = -1
"""The batch of drift rows the status sync applies (never written by `apply_batch`)."""


class SyncPlan(DomainModel):
    summary: SyncSummary
    batches: int
    conflicts: list[ConflictFound] = Field(default_factory=list)
    status_corrections: list[StatusCorrection] = Field(default_factory=list)
    status_delivered: list[str] = Field(default_factory=list, description="vendor ids told to the status sync")
    already_open: list[str] = Field(
        default_factory=list, description="conflict tasks this run found open since an earlier run"
    )


class ApplyBatchInput(DomainModel):
    sync_id: str
    entity: Entity
    batch: int


class BatchOutcome(DomainModel):
    corrected: int = 0
    created: int = 0
    failed: list[str] = Field(default_factory=list, description="record, system and reason of each refusal")


class FinishSyncInput(DomainModel):
    sync_id: str
    planned: SyncSummary
    duration_seconds: float
    already_open: list[str] = Field(default_factory=list)
    status_delivered: list[str] = Field(default_factory=list, description="vendor ids told to the status sync")


class SyncStage(StrEnum):
    PLANNING = "planning"
    OPENING_TASKS = "opening_tasks"
    APPLYING = "applying"
    COMPLETED = "completed"


class SyncOutcome(StrEnum):
    IN_SYNC = "in_sync"  # nothing differed
    CORRECTED = "corrected"  # every difference was corrected
    NEEDS_DECISIONS = "needs_decisions"  # conflicts left to vendor-master-data
    PARTIAL = "partial"  # a system refused some corrections (see the summary's `failed`)
    DRY_RUN = "dry_run"  # reported only


def sync_outcome(summary: SyncSummary) -> SyncOutcome:
    if summary.dry_run:
        return SyncOutcome.DRY_RUN
    if summary.failed:
        return SyncOutcome.PARTIAL
    if summary.conflicts or summary.awaiting_decision:
        return SyncOutcome.NEEDS_DECISIONS
    return SyncOutcome.CORRECTED if summary.corrected or summary.created else SyncOutcome.IN_SYNC


class SyncProgress(DomainModel):
    workflow_id: str
    entity: Entity
    stage: SyncStage
    batches: int = 0
    next_batch: int = 0
    summary: SyncSummary | None = None


class ConflictStage(StrEnum):
    AWAITING_STEWARD = "awaiting_steward"
    APPLYING = "applying"
    COMPLETED = "completed"


class ConflictOutcome(StrEnum):
    APPLIED = "applied"  # the surviving value was written
    CORRECTED_AT_SOURCE = "corrected_at_source"  # a sensitive value: the steward fixed it by hand
    KEPT = "kept"  # the systems stay as they are
    FAILED = "failed"  # the system refused the surviving value


def conflict_workflow_id(entity: Entity, conflict: ConflictFound) -> str:
    """One open task per record, system and field: a later sync that finds the same difference
    joins it instead of opening another."""
    return f"master-data-conflict-{entity.value}-{conflict.record}-{conflict.system}-{conflict.field}".replace(
        "*", "record"
    )


class ConflictInput(DomainModel):
    entity: Entity
    sync_id: str
    conflict: ConflictFound
    sensitive: bool
    sla_hours: float = Field(default=72, gt=0)


class ApplyConflictInput(DomainModel):
    entity: Entity
    conflict: ConflictFound
    idempotency_key: str


class ConflictStatus(DomainModel):
    workflow_id: str
    record: str
    stage: ConflictStage
    outcome: ConflictOutcome | None = None
    conflict: ConflictFound
    open_exception: OpenException | None = None
    assigned_team: str | None = None
    note: str | None = None


MasterDataSyncInput.model_rebuild()
