"""The test client's retry of an Update the time-skipping server reports lost (tests/support/lost_updates.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from temporalio.client import StartWorkflowUpdateInput, WorkflowUpdateStage
from temporalio.service import RPCError, RPCStatusCode

from tests.support import lost_updates
from tests.support.lost_updates import RetryLostUpdates


class Next:
    def __init__(self, *errors: RPCError) -> None:
        self.errors = list(errors)
        self.inputs: list[StartWorkflowUpdateInput] = []

    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> str:
        self.inputs.append(input)
        if self.errors:
            raise self.errors.pop(0)
        return "handle"


def lost() -> RPCError:
    return RPCError("update 1f2e not found", RPCStatusCode.NOT_FOUND, b"")


def update() -> StartWorkflowUpdateInput:
    return StartWorkflowUpdateInput(
        id="review-1", run_id=None, first_execution_run_id=None, update_id="1f2e", update="resolve", args=[],
        wait_for_stage=WorkflowUpdateStage.COMPLETED, headers={}, ret_type=None, rpc_metadata={}, rpc_timeout=None,
    )  # fmt: skip


def send(inner: Next) -> Any:
    return RetryLostUpdates().intercept_client(inner).start_workflow_update(update())  # type: ignore[arg-type]


async def test_a_lost_update_is_sent_again_with_its_id_then_with_a_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lost_updates.asyncio, "sleep", _no_wait)
    inner = Next(lost(), lost(), lost())
    assert await send(inner) == "handle"
    assert [sent.update_id for sent in inner.inputs] == ["1f2e", "1f2e", "1f2e-again-2", "1f2e-again-3"]
    assert {(sent.id, sent.update, tuple(sent.args)) for sent in inner.inputs} == {("review-1", "resolve", ())}


async def test_an_update_without_an_id_keeps_one_id_for_its_first_tries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lost_updates.asyncio, "sleep", _no_wait)
    inner = Next(lost(), lost())
    outbound = RetryLostUpdates().intercept_client(inner)  # type: ignore[arg-type]
    await outbound.start_workflow_update(dataclasses.replace(update(), update_id=None))
    first, second, third = (sent.update_id for sent in inner.inputs)
    assert first and first == second and third == f"{first}-again-2"


async def test_other_errors_and_a_lasting_loss_reach_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lost_updates.asyncio, "sleep", _no_wait)
    workflow_gone = RPCError("workflow not found for ID: x", RPCStatusCode.NOT_FOUND, b"")
    with pytest.raises(RPCError, match="workflow not found"):
        await send(Next(workflow_gone))
    lasting = Next(*(lost() for _ in range(lost_updates.ATTEMPTS)))
    with pytest.raises(RPCError, match="update 1f2e not found"):
        await send(lasting)
    assert len(lasting.inputs) == lost_updates.ATTEMPTS


async def _no_wait(_seconds: float) -> None:
    return None
