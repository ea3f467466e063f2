"""Scheduled compliance (Temporal Schedules `compliance-rescreen` and `credential-expiry`).

ComplianceRescreen: every active supplier screened against the exclusion list the screening
system serves today. A supplier now excluded is suspended in the vendor-management system (so
the status sync holds it and its open POs in the ERP, as for any suspension there), a review task
opens for `compliance` (reject = a false match: the supplier is reinstated), and a
`supplier.excluded` event is published.

CredentialExpiry: every active supplier's credential documents. 60, 30 and 7 days before one
expires, a `supplier.credential_expiring` event (once per band) and one renewal task for
`vendor-master-data` per credential; on expiry, `supplier.credential_expired` and the supplier's
vendor status becomes `credential_expired`, so the status sync holds it.

ReviewTask: the one-decision task both open (one run per supplier or credential; a later run that
finds the same thing joins it)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow
from temporalio.exceptions import WorkflowAlreadyStartedError

with workflow.unsafe.imports_passed_through():
    from activities.compliance import ComplianceActivities
    from domain.compliance import (
        ComplianceInput,
        ComplianceOutcome,
        ComplianceResult,
        ComplianceStage,
        CredentialBand,
        CredentialNotice,
        CredentialReviewInput,
        NewlyExcluded,
        ReviewTaskInput,
        ReviewTaskStatus,
        StatusChangeInput,
        compliance_review_id,
        credential_renewal_id,
    )
    from domain.decisions import (
        COMPLIANCE_TEAM,
        VENDOR_MASTER_TEAM,
        DecisionKind,
        ExceptionAction,
        ExceptionResolution,
    )
    from workflows.kit.board import Board
    from workflows.kit.calls import call
    from workflows.kit.decisions import DecisionGate
    from workflows.kit.events import EventPublisher

LONG_ACTIVITY = timedelta(minutes=30)
HEARTBEAT = timedelta(minutes=2)


async def open_review(task_id: str, task: ReviewTaskInput) -> str | None:
    """Start the review task as an abandoned child (it outlives the scheduled run); None when
    one with this id is already open."""
    try:
        await workflow.start_child_workflow(
            ReviewTaskWorkflow.run, task, id=task_id, parent_close_policy=workflow.ParentClosePolicy.ABANDON,
            static_summary=task.summary[:200],
        )  # fmt: skip
    except WorkflowAlreadyStartedError:
        return None
    return task_id


@workflow.defn(name="ComplianceRescreen")
class ComplianceRescreenWorkflow:
    def __init__(self) -> None:
        self._board = Board(ComplianceStage.SCREENING)
        self._events = EventPublisher(local=True)
        self._result = ComplianceResult()

    @workflow.run
    async def run(self, params: ComplianceInput) -> ComplianceResult:
        self._board.set_stage(ComplianceStage.SCREENING)
        found = await call(ComplianceActivities.rescreen, params, start_to_close=LONG_ACTIVITY, heartbeat=HEARTBEAT)
        self._result.checked = found.screened
        self._board.set_stage(ComplianceStage.ACTING)
        for supplier in found.excluded:
            await self._hold(supplier)
        outcome = ComplianceOutcome.ACTED if found.excluded else ComplianceOutcome.CLEAR
        self._board.finish(ComplianceStage.COMPLETED, outcome, team=None)
        return self.status()

    @workflow.query(name="status")
    def status(self) -> ComplianceResult:
        return self._result.model_copy(update={"stage": self._board.stage})

    async def _hold(self, supplier: NewlyExcluded) -> None:
        best = supplier.matches[0]
        reason = f"LEIE exclusion {best.exclusion_type} since {best.exclusion_date}: {best.record_name}"
        await call(ComplianceActivities.change_status, StatusChangeInput(
            vendor_id=supplier.vendor_id, status="suspended", reason=reason,
            idempotency_key=f"{workflow.info().workflow_id}:{supplier.vendor_id}:suspend"))  # fmt: skip
        self._result.held.append(supplier.vendor_id)
        evidence = supplier.model_dump(mode="json")
        task = ReviewTaskInput(kind=DecisionKind.COMPLIANCE_REVIEW.value, team=COMPLIANCE_TEAM,
                               record=supplier.vendor_id, summary=f"{supplier.legal_name} matches the exclusion list",
                               evidence=evidence, status_on_reject="reinstated")  # fmt: skip
        opened = await open_review(compliance_review_id(supplier.vendor_id), task)
        self._result.tasks += [opened] if opened else []
        await self._events.publish(supplier.vendor_id, "supplier.excluded", evidence)


@workflow.defn(name="CredentialExpiry")
class CredentialExpiryWorkflow:
    def __init__(self) -> None:
        self._board = Board(ComplianceStage.SCREENING)
        self._events = EventPublisher(local=True)
        self._result = ComplianceResult()

    @workflow.run
    async def run(self, params: ComplianceInput) -> ComplianceResult:
        self._board.set_stage(ComplianceStage.SCREENING)
        review = CredentialReviewInput(today=workflow.now().date())
        notices = await call(ComplianceActivities.review_credentials, review, start_to_close=LONG_ACTIVITY,
                             heartbeat=HEARTBEAT)  # fmt: skip
        self._result.checked = len(notices)
        self._board.set_stage(ComplianceStage.ACTING)
        for notice in notices:
            await (self._expire(notice) if notice.band is CredentialBand.EXPIRED else self._warn(notice))
        outcome = ComplianceOutcome.ACTED if notices else ComplianceOutcome.CLEAR
        self._board.finish(ComplianceStage.COMPLETED, outcome, team=None)
        return self.status()

    @workflow.query(name="status")
    def status(self) -> ComplianceResult:
        return self._result.model_copy(update={"stage": self._board.stage})

    async def _warn(self, notice: CredentialNotice) -> None:
        data = notice.model_dump(mode="json")
        await self._events.publish(notice.vendor_id, "supplier.credential_expiring", data, key=notice.key)
        self._result.warned.append(notice.key)
        task = ReviewTaskInput(kind=DecisionKind.CREDENTIAL_RENEWAL.value, team=VENDOR_MASTER_TEAM,
                               record=notice.vendor_id, evidence=data,
                               summary=f"{notice.kind} of {notice.legal_name or notice.vendor_id} expires on "
                                       f"{notice.expires_on.isoformat()} ({notice.days_left} days)")  # fmt: skip
        opened = await open_review(credential_renewal_id(notice), task)
        self._result.tasks += [opened] if opened else []

    async def _expire(self, notice: CredentialNotice) -> None:
        reason = f"{notice.kind} expired on {notice.expires_on.isoformat()}"
        await call(ComplianceActivities.change_status, StatusChangeInput(
            vendor_id=notice.vendor_id, status="credential_expired", reason=reason,
            idempotency_key=f"credential-expired:{notice.key}"))  # fmt: skip
        self._result.held.append(notice.vendor_id)
        await self._events.publish(notice.vendor_id, "supplier.credential_expired", notice.model_dump(mode="json"),
                                   key=notice.key)  # fmt: skip


@workflow.defn(name="ReviewTask")
class ReviewTaskWorkflow:
    def __init__(self) -> None:
        self._board = Board(ComplianceStage.AWAITING_DECISION)
        self._gate = DecisionGate(record="", supplier_id="")
        self._events = EventPublisher(local=False)
        self._task: ReviewTaskInput | None = None
        self._outcome: ComplianceOutcome | None = None

    @workflow.run
    async def run(self, task: ReviewTaskInput) -> ReviewTaskStatus:
        self._task = task
        self._gate = DecisionGate(record=task.record, supplier_id=task.record)
        self._board.set_stage(ComplianceStage.AWAITING_DECISION, team=task.team)
        decided = await self._gate.decide(DecisionKind(task.kind), task.team, task.summary,
                                          timedelta(hours=task.sla_hours), evidence=task.evidence)  # fmt: skip
        resolution = decided.resolution
        if resolution.action is ExceptionAction.REJECT and task.status_on_reject:
            self._board.set_stage(ComplianceStage.APPLYING, team=None)
            reason = f"{task.kind} rejected: {resolution.reason}"
            await call(ComplianceActivities.change_status, StatusChangeInput(
                vendor_id=task.record, status=task.status_on_reject, reason=reason,
                idempotency_key=f"{workflow.info().workflow_id}:{task.status_on_reject}"))  # fmt: skip
        self._outcome = ComplianceOutcome.DISMISSED if resolution.action is ExceptionAction.REJECT \
            else ComplianceOutcome.CONFIRMED  # fmt: skip
        self._board.finish(ComplianceStage.COMPLETED, self._outcome)
        await self._events.publish(task.record, f"{task.kind}.decided", {
            "action": resolution.action.value, "reason": resolution.reason, "resolved_by": resolution.resolved_by,
            "outcome": self._outcome.value, "summary": task.summary})  # fmt: skip
        await workflow.wait_condition(workflow.all_handlers_finished)
        return self.status()

    @workflow.update(name="resolve_exception")
    async def resolve_exception(self, resolution: ExceptionResolution) -> ReviewTaskStatus:
        self._gate.resolve(resolution)
        return self.status()

    @resolve_exception.validator
    def _validate_resolution(self, resolution: ExceptionResolution) -> None:
        self._gate.validate(resolution)

    @workflow.query(name="status")
    def status(self) -> ReviewTaskStatus:
        assert self._task is not None
        return ReviewTaskStatus(workflow_id=workflow.info().workflow_id, record=self._task.record,
                                stage=self._board.stage, outcome=self._outcome, open_exception=self._gate.open,
                                assigned_team=self._board.team)  # fmt: skip
