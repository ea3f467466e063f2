"""The test client's retry of an Update the time-skipping server reports lost (tests/support/lost_updates.py)."""

from __future__ import annotations

from typing import Any

import pytest
from temporalio.service import RPCError, RPCStatusCode

from tests.support import lost_updates
from tests.support.lost_updates import RetryLostUpdates


class Next:
    def __init__(self, *errors: RPCError) -> None:
        self.errors = list(errors)
        self.inputs: list[Any] = []

    async def start_workflow_update(self, input: Any) -> str:
        self.inputs.append(input)
        if self.errors:
            raise self.errors.pop(0)
        return "handle"


def lost() -> RPCError:
    return RPCError("update 1f2e not found", RPCStatusCode.NOT_FOUND, b"")


async def test_a_lost_update_is_sent_again_with_its_same_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lost_updates.asyncio, "sleep", _no_wait)
    inner = Next(lost(), lost())
    outbound = RetryLostUpdates().intercept_client(inner)  # type: ignore[arg-type]
    assert await outbound.start_workflow_update("the update") == "handle"  # type: ignore[arg-type]
    assert inner.inputs == ["the update"] * 3


async def test_other_errors_and_a_lasting_loss_reach_the_caller(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(lost_updates.asyncio, "sleep", _no_wait)
    workflow_gone = RPCError("workflow not found for ID: x", RPCStatusCode.NOT_FOUND, b"")
    with pytest.raises(RPCError, match="workflow not found"):
        await RetryLostUpdates().intercept_client(Next(workflow_gone)).start_workflow_update("u")  # type: ignore[arg-type]
    lasting = Next(*(lost() for _ in range(lost_updates.ATTEMPTS)))
    with pytest.raises(RPCError, match="update 1f2e not found"):
        await RetryLostUpdates().intercept_client(lasting).start_workflow_update("u")  # type: ignore[arg-type]
    assert len(lasting.inputs) == lost_updates.ATTEMPTS


async def _no_wait(_seconds: float) -> None:
    return None
