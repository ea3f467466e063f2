"""Recorded histories must replay against the current workflow code (determinism guard)."""

from __future__ import annotations

from pathlib import Path

import pytest
from temporalio.client import WorkflowHistory
from temporalio.worker import Replayer

from runtime.settings import Settings
from runtime.temporal_client import data_converter
from tests.workflows.histories import HISTORY_DIR, SCENARIOS
from worker import WORKFLOWS, workflow_runner


def test_every_scenario_has_a_recorded_history() -> None:
    assert sorted(p.stem for p in HISTORY_DIR.glob("*.json")) == sorted(SCENARIOS)


@pytest.mark.parametrize("path", sorted(HISTORY_DIR.glob("*.json")), ids=lambda p: p.stem)
async def test_history_replays(path: Path) -> None:
    replayer = Replayer(
        workflows=list(WORKFLOWS),
        workflow_runner=workflow_runner(),
        data_converter=data_converter(Settings(environment="development")),
    )
    history = WorkflowHistory.from_json(path.stem, path.read_text())
    result = await replayer.replay_workflow(history, raise_on_replay_failure=True)
    assert result.replay_failure is None
