"""Onboarding's duplicate review: a possible duplicate becomes a `supplier_review` decision for
vendor-master-data through the one decision mechanism (`DecisionGate`), answered by
`resolve_exception` (approve: create a new supplier; reject: close), escalated once to the team's
managers past its SLA. Runs recorded before the `one-decision-gate` patch take the old review
(workflows/onboarding_review_v1.py)."""

from __future__ import annotations

from datetime import timedelta

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.decisions import (
        ACTIONS_FOR,
        VENDOR_MASTER_TEAM,
        DecisionKind,
        DecisionRecord,
        ExceptionResolution,
        OpenException,
    )
    from domain.duplicates import MatchVerdict
    from domain.onboarding import OnboardingStage, OnboardingStatus
    from workflows.kit.decisions import DecisionGate
    from workflows.onboarding_review_v1 import ReviewV1


class DuplicateReview(ReviewV1):
    _gate: DecisionGate
    _verdict: MatchVerdict | None

    async def _duplicate_review(self, sla: timedelta) -> DecisionRecord:
        if not workflow.patched("one-decision-gate"):
            return await self._review_v1(sla)
        self._board.set_stage(OnboardingStage.AWAITING_REVIEW, team=VENDOR_MASTER_TEAM)
        await self._events.publish(
            self._vendor_id, "supplier.review_requested", {"team": VENDOR_MASTER_TEAM, "vendor_id": self._vendor_id}
        )
        summary, evidence = self._review_summary()
        return await self._gate.decide(
            DecisionKind.SUPPLIER_REVIEW,
            VENDOR_MASTER_TEAM,
            summary,
            sla,
            evidence=evidence,
            on_escalation=self._review_escalated,
        )

    async def _review_escalated(self, opened: OpenException) -> None:
        self._board.set_stage(OnboardingStage.AWAITING_REVIEW, team=opened.team)
        due = opened.due_at - opened.raised_at
        await self._events.publish(
            self._vendor_id,
            "supplier.review_escalated",
            {"team": opened.team, "vendor_id": self._vendor_id, "sla_hours": due / timedelta(hours=1)},
        )

    def _review_summary(self) -> tuple[str, dict[str, object]]:
        candidates = self._verdict.candidates if self._verdict else []
        similar = ", ".join(f"{c.erp_supplier_id} {c.legal_name} ({c.score:.0f})" for c in candidates[:3])
        summary = f"possible duplicate of {similar}: approve to create a new supplier, reject to close"
        return summary, {"duplicate_candidates": [c.model_dump(mode="json") for c in candidates]}

    @workflow.update(name="resolve_exception")
    async def resolve_exception(self, resolution: ExceptionResolution) -> OnboardingStatus:
        if not self._resolve_v1(resolution):
            self._gate.resolve(resolution)
        return self.status()

    @resolve_exception.validator
    def _validate_resolution(self, resolution: ExceptionResolution) -> None:
        if self._legacy_review and self._decision is None:  # an old run waiting in its review
            if resolution.action not in ACTIONS_FOR[DecisionKind.SUPPLIER_REVIEW]:
                raise ValueError(f"action {resolution.action.value} does not apply to a supplier_review")
            return
        self._gate.validate(resolution)
