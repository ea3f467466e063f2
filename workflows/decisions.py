"""Human decisions shared by the PO and invoice workflows: one open exception at a time, routed
to a team, answered by the `resolve_exception` Update, escalated once to the team's managers
when its SLA passes (then it keeps waiting)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.matching import Discrepancy, manager_team
    from domain.procurement import (
        ACTIONS_FOR,
        DecisionKind,
        DecisionRecord,
        ExceptionResolution,
        OpenException,
    )
    from workflows import search_attributes as sa


class Cancelled(Exception):
    """Raised inside a workflow when a cancel request arrives during a wait."""


class DecisionGate:
    def __init__(self, record: str, supplier_id: str) -> None:
        self.record = record
        self.supplier_id = supplier_id
        self.open: OpenException | None = None
        self.resolution: ExceptionResolution | None = None
        self.history: list[DecisionRecord] = []

    async def decide(
        self,
        kind: DecisionKind,
        team: str,
        summary: str,
        sla: timedelta,
        *,
        discrepancies: list[Discrepancy] | None = None,
        evidence: dict[str, Any] | None = None,
        cancelled: Callable[[], bool] = lambda: False,
        on_escalation: Callable[[OpenException], Any] | None = None,
    ) -> DecisionRecord:
        now = workflow.now()
        self.resolution = None
        self.open = OpenException(
            exception_id=workflow.info().workflow_id,
            kind=kind,
            team=team,
            summary=summary,
            raised_at=now,
            due_at=now + sla,
            record=self.record,
            supplier_id=self.supplier_id,
            discrepancies=discrepancies or [],
            evidence=evidence or {},
            allowed_actions=list(ACTIONS_FOR[kind]),
        )
        workflow.upsert_search_attributes([sa.DECISION.value_set(kind.value), sa.TEAM.value_set(team)])
        try:
            await workflow.wait_condition(lambda: self.resolution is not None or cancelled(), timeout=sla)
        except TimeoutError:
            self.open.escalation_level = 1
            self.open.team = manager_team(team)
            workflow.upsert_search_attributes([sa.TEAM.value_set(self.open.team)])
            if on_escalation is not None:
                await on_escalation(self.open)
            await workflow.wait_condition(lambda: self.resolution is not None or cancelled())
        opened = self.open
        self.open = None
        workflow.upsert_search_attributes([sa.DECISION.value_unset()])
        if self.resolution is None:
            raise Cancelled()
        decided = DecisionRecord(
            kind=kind,
            team=opened.team,
            resolution=self.resolution,
            decided_at=workflow.now(),
            escalation_level=opened.escalation_level,
        )
        self.history.append(decided)
        return decided

    def validate(self, resolution: ExceptionResolution) -> None:
        """The Update validator: refused (nothing recorded) unless an exception is open and the
        action is one it allows."""
        if self.open is None:
            raise ValueError(f"{self.record} has no open exception to resolve")
        if self.resolution is not None:
            raise ValueError(f"the exception on {self.record} was already resolved: {self.resolution.action.value}")
        if resolution.action not in self.open.allowed_actions:
            allowed = ", ".join(a.value for a in self.open.allowed_actions)
            raise ValueError(
                f"action {resolution.action.value} does not apply to a {self.open.kind.value} (allowed: {allowed})"
            )

    def resolve(self, resolution: ExceptionResolution) -> None:
        self.resolution = resolution
