"""What operators see of a run in the Temporal UI: its stage, the team that owns its next step,
the decision it waits for, and its outcome, as search attributes (workflows/search_attributes.py).

One meaning of team everywhere: the team a person must act in for the run to move on; None when
nobody owns the next step (the attribute is unset). `set_stage(stage)` keeps the current team,
`set_stage(stage, team=None)` clears it. Each call is one search-attribute upsert, so a workflow's
command sequence (and the replay of its recorded histories) follows its calls exactly.

A run that ends (`finish` with its outcome, or `fail`) is nobody's work: its Team and Decision
attributes are unset, its Stage and Outcome stay, so a team's queue (`SupplyBridgeTeam = ...`)
never lists a closed run. `board.team` keeps who handled it last, for the result. Runs recorded
before the `clear-team-at-end` patch end as they did.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from typing import Final, Generic, TypeVar

from temporalio import workflow
from temporalio.common import SearchAttributeUpdate

from workflows import search_attributes as sa

StageT = TypeVar("StageT", bound=StrEnum)


class _Keep:
    pass


KEEP: Final = _Keep()
CLEAR_TEAM_AT_END: Final = "clear-team-at-end"


class Board(Generic[StageT]):
    def __init__(self, stage: StageT, *, shown: Callable[[StageT], StageT] | None = None) -> None:
        """`shown` maps the stage to the one operators see (a PO on hold shows `on_hold`)."""
        self.stage = stage
        self.team: str | None = None
        self._shown = shown or (lambda stage: stage)

    def set_stage(self, stage: StageT, *, team: str | _Keep | None = KEEP) -> None:
        self.stage = stage
        if not isinstance(team, _Keep):
            self.team = team
        workflow.upsert_search_attributes(
            [
                sa.STAGE.value_set(self._shown(stage).value),
                sa.TEAM.value_set(self.team) if self.team else sa.TEAM.value_unset(),
            ]
        )

    def refresh(self) -> None:
        """Show the current stage again (after what `shown` depends on changed)."""
        self.set_stage(self.stage)

    def finish(self, completed: StageT, outcome: StrEnum, *, team: str | _Keep | None = KEEP) -> None:
        """The run ends with `outcome`; `team` (who handled it) stays in `board.team` only."""
        if not workflow.patched(CLEAR_TEAM_AT_END):
            self.set_stage(completed, team=team)
            workflow.upsert_search_attributes([sa.OUTCOME.value_set(outcome.value)])
            return
        self._end(completed, team, sa.OUTCOME.value_set(outcome.value))

    def fail(self, failed: StageT) -> None:
        """The run ends failed (it raises next): shown at `failed`, no team's work any more."""
        if not workflow.patched(CLEAR_TEAM_AT_END):
            self.set_stage(failed)
            return
        self._end(failed, KEEP)

    def _end(self, stage: StageT, team: str | _Keep | None, *more: SearchAttributeUpdate[str]) -> None:
        self.stage = stage
        if not isinstance(team, _Keep):
            self.team = team
        workflow.upsert_search_attributes(
            [sa.STAGE.value_set(self._shown(stage).value), sa.TEAM.value_unset(), sa.DECISION.value_unset(), *more]
        )


def show_supplier(supplier_id: str) -> None:
    workflow.upsert_search_attributes([sa.SUPPLIER.value_set(supplier_id)])
