"""Master-data sync: one run per entity per schedule tick (the schedule names the run after its
fire time: `master-data-sync-suppliers-2026-11-24T09:00:00Z`), or one started by hand.

It plans (one heartbeating activity reads every system page by page, matches the records through
the cross-reference and then the tax id or GTIN, computes each golden record and its drift, and
keeps the drift rows in the store), opens one task per conflict for vendor-master-data (a child
run each, abandoned to live on after this run ends), applies the corrections batch by batch
(continuing as new every `BATCHES_PER_RUN` batches, so the history stays small at any volume),
then finishes: the summary, and the `sync.completed` and `master_data.drifted` business events.
A dry run plans and reports, and changes nothing."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.master_data import MasterDataActivities
    from domain.master_data.summary import SyncSummary
    from domain.master_data.sync import (
        ApplyBatchInput,
        ConflictFound,
        ConflictInput,
        DeliverStatusInput,
        FinishSyncInput,
        MasterDataSyncInput,
        PlanSyncInput,
        SyncPlan,
        SyncProgress,
        SyncStage,
        conflict_workflow_id,
        sync_outcome,
    )
    from workflows.kit.board import Board
    from workflows.kit.calls import call
    from workflows.kit.events import EventPublisher
    from workflows.master_data_conflict import MasterDataConflictWorkflow

BATCHES_PER_RUN = 25
READ_HEARTBEAT = timedelta(minutes=2)
LONG_ACTIVITY = timedelta(hours=1)


@workflow.defn(name="MasterDataSync")
class MasterDataSyncWorkflow:
    def __init__(self) -> None:
        self._board = Board(SyncStage.PLANNING)
        self._events = EventPublisher(local=True)
        self._progress: SyncProgress | None = None

    @workflow.run
    async def run(self, params: MasterDataSyncInput) -> SyncSummary:
        sync_id = workflow.info().workflow_id  # the same across continue-as-new
        self._progress = SyncProgress(workflow_id=sync_id, entity=params.entity, stage=SyncStage.PLANNING)
        started = params.started_at or workflow.now()
        plan = params.planned or await self._plan(sync_id, params)
        self._progress.batches = plan.batches
        self._stage(SyncStage.APPLYING)
        for batch in range(params.next_batch, plan.batches):
            if batch - params.next_batch >= BATCHES_PER_RUN or workflow.info().is_continue_as_new_suggested():
                carried = {"next_batch": batch, "planned": plan, "started_at": started}
                workflow.continue_as_new(params.model_copy(update=carried))
            self._progress.next_batch = batch
            await call(MasterDataActivities.apply_batch, ApplyBatchInput(sync_id=sync_id, entity=params.entity,
                       batch=batch), start_to_close=LONG_ACTIVITY, heartbeat=READ_HEARTBEAT)  # fmt: skip
        delivered: list[str] = []
        if plan.status_corrections and not params.dry_run:
            corrections = DeliverStatusInput(sync_id=sync_id, corrections=plan.status_corrections)
            delivered = await call(MasterDataActivities.deliver_status_corrections, corrections)
        plan = plan.model_copy(update={"status_delivered": delivered})
        return await self._finish(sync_id, plan, (workflow.now() - started).total_seconds())

    def _stage(self, stage: SyncStage) -> None:
        self._board.set_stage(stage)
        if self._progress is not None:
            self._progress.stage = stage

    async def _plan(self, sync_id: str, params: MasterDataSyncInput) -> SyncPlan:
        self._stage(SyncStage.PLANNING)
        plan = await call(
            MasterDataActivities.plan_sync,
            PlanSyncInput(sync_id=sync_id, entity=params.entity, dry_run=params.dry_run, batch_size=params.batch_size),
            start_to_close=LONG_ACTIVITY,
            heartbeat=READ_HEARTBEAT,
        )
        already_open = []
        if not params.dry_run and plan.conflicts:
            self._stage(SyncStage.OPENING_TASKS)
            opened = await asyncio.gather(*(self._open_task(sync_id, params, c) for c in plan.conflicts))
            pairs = zip(plan.conflicts, opened, strict=True)
            already_open = [conflict_workflow_id(params.entity, c) for c, new in pairs if not new]
        # opened: only which were open before is carried across continue-as-new
        return plan.model_copy(update={"conflicts": [], "already_open": already_open})

    async def _open_task(self, sync_id: str, params: MasterDataSyncInput, conflict: ConflictFound) -> bool:
        """A child run per conflict, abandoned (it outlives this run); one already open is kept
        (False)."""
        try:
            await workflow.start_child_workflow(
                MasterDataConflictWorkflow.run,
                ConflictInput(entity=params.entity, sync_id=sync_id, conflict=conflict, sensitive=conflict.sensitive),
                id=conflict_workflow_id(params.entity, conflict),
                parent_close_policy=workflow.ParentClosePolicy.ABANDON,
                static_summary=f"{conflict.field} of {conflict.record} in {conflict.system}",
            )
        except WorkflowAlreadyStartedError:
            return False
        return True

    async def _finish(self, sync_id: str, plan: SyncPlan, elapsed: float) -> SyncSummary:
        finish = FinishSyncInput(sync_id=sync_id, planned=plan.summary, duration_seconds=elapsed,
                                 already_open=plan.already_open, status_delivered=plan.status_delivered)  # fmt: skip
        summary = await call(MasterDataActivities.finish_sync, finish)
        assert self._progress is not None
        self._progress.summary = summary
        self._progress.stage = SyncStage.COMPLETED
        self._board.finish(SyncStage.COMPLETED, sync_outcome(summary), team=None)
        data = summary.model_dump(mode="json") | {"sync_id": sync_id}
        await self._events.publish(sync_id, "sync.completed", data)
        if summary.drifted:
            await self._events.publish(sync_id, "master_data.drifted", {"sync_id": sync_id, "entity": summary.entity,
                                                                        "drifted": summary.drifted})  # fmt: skip
        return summary

    @workflow.query(name="status")
    def status(self) -> SyncProgress:
        assert self._progress is not None
        return self._progress
