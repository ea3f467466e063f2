"""A master-data difference the survivorship rules must not settle alone (a sensitive field that
differs, two authoritative systems that disagree, a record its system of record does not know):
one run per record, system and field (`master-data-conflict-...`), a task for vendor-master-data
in the task inbox with the evidence, decided through the one decision mechanism (SLA, one
escalation to vendor-master-data-managers).

approve: the surviving value is written to the system (for a sensitive field nothing is written
by the platform: the steward corrected it at the source, and the next sync checks it);
reject: the systems stay as they are. Either way the decision is published and audited."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from activities.master_data import MasterDataActivities
    from domain.decisions import VENDOR_MASTER_TEAM, DecisionKind, ExceptionAction, ExceptionResolution
    from domain.master_data.sync import (
        ApplyConflictInput,
        ConflictInput,
        ConflictOutcome,
        ConflictStage,
        ConflictStatus,
    )
    from workflows.kit.board import Board
    from workflows.kit.calls import call
    from workflows.kit.decisions import DecisionGate
    from workflows.kit.events import EventPublisher


@workflow.defn(name="MasterDataConflict")
class MasterDataConflictWorkflow:
    def __init__(self) -> None:
        self._board = Board(ConflictStage.AWAITING_STEWARD)
        self._gate = DecisionGate(record="", supplier_id="")
        self._events = EventPublisher(local=False)
        self._params: ConflictInput | None = None
        self._outcome: ConflictOutcome | None = None
        self._note: str | None = None

    @workflow.run
    async def run(self, params: ConflictInput) -> ConflictStatus:
        self._params = params
        conflict = params.conflict
        self._gate = DecisionGate(record=conflict.record, supplier_id=conflict.record)
        self._board.set_stage(ConflictStage.AWAITING_STEWARD, team=VENDOR_MASTER_TEAM)
        decided = await self._gate.decide(
            DecisionKind.MASTER_DATA_CONFLICT,
            VENDOR_MASTER_TEAM,
            f"{conflict.field} of {conflict.record} in {conflict.system}: {conflict.kind.replace('_', ' ')}",
            timedelta(hours=params.sla_hours),
            evidence={"sync_id": params.sync_id, **conflict.model_dump(mode="json"), "sensitive": params.sensitive},
        )
        self._outcome = await self._apply(params, decided.resolution)
        self._board.finish(ConflictStage.COMPLETED, self._outcome)
        await self._events.publish(
            conflict.record,
            "master_data.conflict_resolved",
            {
                "conflict": conflict.model_dump(mode="json"),
                "action": decided.resolution.action.value,
                "resolved_by": decided.resolution.resolved_by,
                "reason": decided.resolution.reason,
                "outcome": self._outcome.value,
                "note": self._note,
            },
        )
        await workflow.wait_condition(workflow.all_handlers_finished)  # the Update's answer goes out first
        return self.status()

    async def _apply(self, params: ConflictInput, resolution: ExceptionResolution) -> ConflictOutcome:
        if resolution.action is ExceptionAction.REJECT:
            return ConflictOutcome.KEPT
        if params.sensitive or params.conflict.surviving is None:
            return ConflictOutcome.CORRECTED_AT_SOURCE
        self._board.set_stage(ConflictStage.APPLYING, team=None)
        refused = await call(
            MasterDataActivities.apply_decision,
            ApplyConflictInput(
                entity=params.entity, conflict=params.conflict, idempotency_key=f"{workflow.info().workflow_id}:apply"
            ),
        )
        self._note = refused
        return ConflictOutcome.FAILED if refused else ConflictOutcome.APPLIED

    @workflow.update(name="resolve_exception")
    async def resolve_exception(self, resolution: ExceptionResolution) -> ConflictStatus:
        self._gate.resolve(resolution)
        return self.status()

    @resolve_exception.validator
    def _validate_resolution(self, resolution: ExceptionResolution) -> None:
        self._gate.validate(resolution)

    @workflow.query(name="status")
    def status(self) -> ConflictStatus:
        assert self._params is not None
        return ConflictStatus(
            workflow_id=workflow.info().workflow_id,
            record=self._params.conflict.record,
            stage=self._board.stage,
            outcome=self._outcome,
            conflict=self._params.conflict,
            open_exception=self._gate.open,
            assigned_team=self._board.team,
            note=self._note,
        )
