"""The time-skipping test server, loaded (a suite on 2 busy cores), can answer an Update it has
just been sent with NOT_FOUND "update <id> not found" (seen once in a full run: a steward's
decision on a master-data conflict). The real server and the dev server admit an Update durably
or time out; this is the Java test server's own race. A test client retries such an Update with
its same id (Temporal dedupes Updates by id within a run, so a retry never applies it twice); any
other error, and a NOT_FOUND still there after the retries, reaches the test."""

from __future__ import annotations

import asyncio
from typing import Any

from temporalio.client import Interceptor, OutboundInterceptor, StartWorkflowUpdateInput, WorkflowUpdateHandle
from temporalio.service import RPCError, RPCStatusCode

ATTEMPTS = 5


def lost_update(error: RPCError) -> bool:
    return error.status == RPCStatusCode.NOT_FOUND and error.message.startswith("update ")


class _RetryLostUpdates(OutboundInterceptor):
    async def start_workflow_update(self, input: StartWorkflowUpdateInput) -> WorkflowUpdateHandle[Any]:
        for attempt in range(ATTEMPTS):
            try:
                return await super().start_workflow_update(input)
            except RPCError as error:
                if not lost_update(error) or attempt == ATTEMPTS - 1:
                    raise
                await asyncio.sleep(0.2 * (attempt + 1))
        raise AssertionError("unreachable")


class RetryLostUpdates(Interceptor):
    """For `WorkflowEnvironment.start_time_skipping(interceptors=[RetryLostUpdates()])`."""

    def intercept_client(self, next: OutboundInterceptor) -> OutboundInterceptor:
        return _RetryLostUpdates(next)
