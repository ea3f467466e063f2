"""Onboarding's duplicate review as it ran before every decision went through `DecisionGate`:
the `decide_review` Update and its own SLA wait. Runs recorded before the `one-decision-gate`
patch replay through it; new runs never take it (and `decide_review` refuses them). Delete this
module (and `workflow.deprecate_patch` the patch) once no such run is open.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.decisions import (
        ACTIONS_FOR,
        VENDOR_MASTER_ESCALATION_TEAM,
        VENDOR_MASTER_TEAM,
        DecisionKind,
        DecisionRecord,
        ExceptionAction,
        ExceptionResolution,
        OpenException,
    )
    from domain.onboarding import OnboardingStage, OnboardingStatus, ReviewAction, ReviewDecision
    from workflows import search_attributes as sa
    from workflows.kit.board import Board
    from workflows.kit.events import EventPublisher


class ReviewV1:
    _board: Board[OnboardingStage]
    _events: EventPublisher
    _vendor_id: str
    _decision: ReviewDecision | None = None
    _legacy_review = False
    _review_raised_at: datetime | None = None
    _review_due_at: datetime | None = None
    _escalation_level = 0

    async def _review_v1(self, sla: timedelta) -> DecisionRecord:
        self._legacy_review = True
        self._board.set_stage(OnboardingStage.AWAITING_REVIEW, team=VENDOR_MASTER_TEAM)
        self._review_raised_at = workflow.now()
        self._review_due_at = workflow.now() + sla
        in_inbox = workflow.patched("review-in-task-inbox")
        if in_inbox:
            workflow.upsert_search_attributes([sa.DECISION.value_set(DecisionKind.SUPPLIER_REVIEW.value)])
        await self._events.publish(
            self._vendor_id, "supplier.review_requested", {"team": VENDOR_MASTER_TEAM, "vendor_id": self._vendor_id}
        )
        try:
            await workflow.wait_condition(lambda: self._decision is not None, timeout=sla)
        except TimeoutError:
            self._escalation_level = 1
            self._board.set_stage(OnboardingStage.AWAITING_REVIEW, team=VENDOR_MASTER_ESCALATION_TEAM)
            await self._events.publish(
                self._vendor_id,
                "supplier.review_escalated",
                {
                    "team": VENDOR_MASTER_ESCALATION_TEAM,
                    "vendor_id": self._vendor_id,
                    "sla_hours": sla / timedelta(hours=1),
                },
            )
            await workflow.wait_condition(lambda: self._decision is not None)
        assert self._decision is not None
        if in_inbox:
            workflow.upsert_search_attributes([sa.DECISION.value_unset()])
        resolution = ExceptionResolution(
            action=ExceptionAction(self._decision.action.value),
            reason=self._decision.reason,
            resolved_by=self._decision.decided_by,
        )
        return DecisionRecord(
            kind=DecisionKind.SUPPLIER_REVIEW,
            team=self._board.team or VENDOR_MASTER_TEAM,
            resolution=resolution,
            decided_at=workflow.now(),
            escalation_level=self._escalation_level,
        )

    @workflow.update(name="decide_review")
    async def decide_review(self, decision: ReviewDecision) -> OnboardingStatus:
        self._decision = decision
        return self.status()

    @decide_review.validator
    def _validate_decision(self, decision: ReviewDecision) -> None:
        if not self._legacy_review or self._board.stage is not OnboardingStage.AWAITING_REVIEW:
            raise ValueError("this onboarding takes decisions through resolve_exception")
        if self._decision is not None:
            raise ValueError(f"a decision was already taken: {self._decision.action.value}")

    def _resolve_v1(self, resolution: ExceptionResolution) -> bool:
        """`resolve_exception` on a run waiting in the old review: taken as its decision."""
        if not self._legacy_review or self._decision is not None:
            return False
        action = ReviewAction(resolution.action.value)
        self._decision = ReviewDecision(action=action, reason=resolution.reason, decided_by=resolution.resolved_by)
        return True

    def _open_review_v1(self, summary: str, evidence: dict[str, object]) -> OpenException | None:
        """The old review as a task of the inbox, while it waits."""
        if not self._legacy_review or self._decision is not None:
            return None
        if self._review_raised_at is None or self._review_due_at is None:
            return None
        return OpenException(
            exception_id=workflow.info().workflow_id,
            kind=DecisionKind.SUPPLIER_REVIEW,
            team=self._board.team or VENDOR_MASTER_TEAM,
            summary=summary,
            raised_at=self._review_raised_at,
            due_at=self._review_due_at,
            escalation_level=self._escalation_level,
            record=self._vendor_id,
            supplier_id=self._vendor_id,
            evidence=evidence,
            allowed_actions=list(ACTIONS_FOR[DecisionKind.SUPPLIER_REVIEW]),
        )

    def status(self) -> OnboardingStatus:
        raise NotImplementedError  # the workflow's `status` query
