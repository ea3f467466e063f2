"""The time-skipping test server, loaded (a suite on 2 busy cores), can answer an Update it has
just been sent with NOT_FOUND "update <id> not found" (seen in full runs: a steward's decision on
a master-data conflict, a compliance reviewer's resolution). The real server and the dev server
admit an Update durably or time out; this is the Java test server's own race. A test client sends
such an Update again, spread over about 6 s (once seen: five tries within 2 s all lost): first
with its same id (Temporal dedupes Updates by id within a run, so a retry never applies it twice),
then under a new id per try. NOT_FOUND for the Update means the run holds no such Update, so it
was not applied; were it applied after all, the workflow's own validator refuses the second one
and the test fails loudly rather than passing on a double apply. Any other error, and a loss that
lasts through every attempt, reaches the test."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from typing import Any

from temporalio.client import Interceptor, OutboundInterceptor, StartWorkflowUpdateInput, WorkflowUpdateHandle
from temporalio.service import RPCError, RPCStatusCode

SAME_ID_ATTEMPTS = 2
ATTEMPTS = 6


def lost_update(error: RPCError) -> bool:
    return error.status == RPCStatusCode.NOT_FOUND and error.message.startswith("update ")


def attempt_input(input: StartWorkflowUpdateInput, attempt: int) -> StartWorkflowUpdateInput:
    """The Update as sent on this attempt: its own id first, then a new one per attempt."""
    if attempt < SAME_ID_ATTEMPTS:
        return input
    return dataclasses.replace(input, update_id=f"{input.update_id}-again-{attempt}")


class _RetryLostUpdates(OutboundInterceptor):
    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        input = dataclasses.replace(
            input, update_id=input.update_id or str(uuid.uuid4())
        )  # the SDK's default, made here
        for attempt in range(ATTEMPTS):
            try:
                return await super().start_workflow_update(attempt_input(input, attempt))
            except RPCError as error:
                if not lost_update(error) or attempt == ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.25 * 2 ** min(attempt, 3))
        raise AssertionError("unreachable")


class RetryLostUpdates(Interceptor):
    """For `WorkflowEnvironment.start_time_skipping(interceptors=[RetryLostUpdates()])`."""

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _RetryLostUpdates(next)
