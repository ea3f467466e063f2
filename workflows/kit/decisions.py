"""The one human-decision mechanism, and the one wait with an SLA and an escalation.

A workflow that needs a person opens one decision at a time through its `DecisionGate`: an
`OpenException` routed to a team (the task inbox lists it, the `Decision` and `Team` search
attributes show it), answered by the workflow's `resolve_exception` Update (validated by
`DecisionGate.validate` before it is accepted), escalated once to the team's managers when its SLA
passes, after which it keeps waiting. Supplier reviews, pricing approvals, contract exceptions
and invoice exceptions all go through it.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

from temporalio import workflow

with workflow.unsafe.imports_passed_through():
    from domain.decisions import (
        ACTIONS_FOR,
        DecisionKind,
        DecisionRecord,
        ExceptionResolution,
        OpenException,
        manager_team,
    )
    from domain.matching import Discrepancy
    from workflows import search_attributes as sa


class Cancelled(Exception):
    """Raised inside a workflow when a cancel request arrives during a wait."""


async def wait_with_sla(
    done: Callable[[], bool],
    sla: timedelta,
    on_overdue: Callable[[], Awaitable[None]],
    *,
    then_wait: timedelta | None = None,
) -> None:
    """Wait until `done()`. If `sla` passes first, await `on_overdue()` once (escalate) and keep
    waiting: without limit, or for `then_wait`, after which TimeoutError is raised."""
    try:
        await workflow.wait_condition(done, timeout=sla)
    except TimeoutError:
        await on_overdue()
        await workflow.wait_condition(done, timeout=then_wait)


class DecisionGate:
    def __init__(self, record: str, supplier_id: str) -> None:
        """`record`: the business key people know the run by (PO or invoice number, vendor id)."""
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
        on_escalation: Callable[[OpenException], Awaitable[Any]] | None = None,
    ) -> DecisionRecord:
        """Open the decision, wait for it (escalating once past `sla`), and return it; raises
        `Cancelled` when `cancelled()` becomes true first."""
        now = workflow.now()
        self.resolution = None
        opened = self.open = OpenException(
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

        async def escalate() -> None:
            opened.escalation_level = 1
            opened.team = manager_team(team)
            workflow.upsert_search_attributes([sa.TEAM.value_set(opened.team)])
            if on_escalation is not None:
                await on_escalation(opened)

        await wait_with_sla(lambda: self.resolution is not None or cancelled(), sla, escalate)
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
        """The Update validator: refused (nothing recorded) unless a decision is open and the
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
