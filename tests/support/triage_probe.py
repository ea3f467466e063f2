"""A small workflow that fails the way ours do, for the triage tests (starter/operations/triage.py,
triage_retry.py): it checks the order (one activity), then sends it to the "erp" through an
activity whose adapter errors are translated by activities/errors.py, as every system call is.
With bad credentials the ERP refuses (`erp.unauthorized`, non-retryable): the workflow undoes the
check and fails with the cause chained, like the onboarding and PO workflows. With the ERP down it
keeps retrying (`erp.transient`): the run is stuck. `ProbeSystem` holds those switches."""

from __future__ import annotations

import contextlib
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import timedelta

from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.worker import Worker

from activities.errors import translate_adapter_errors
from adapters.errors import AuthenticationError, TransientError

with workflow.unsafe.imports_passed_through():  # for `dev_server`: the sandbox re-imports this module
    from temporalio.testing import WorkflowEnvironment

    from runtime.binaries import temporal_cli_path
    from runtime.ports import free_port
    from runtime.settings import Settings
    from runtime.temporal_client import data_converter
    from workflows import search_attributes as sa

QUICK_RETRY = RetryPolicy(initial_interval=timedelta(milliseconds=50), maximum_interval=timedelta(milliseconds=100))


@dataclass
class ProbeSystem:
    credentials_ok: bool = False
    erp_up: bool = True
    checked: list[str] = field(default_factory=list)
    sent: list[str] = field(default_factory=list)
    undone: list[str] = field(default_factory=list)
    attempts: int = 0  # calls to the ERP

    @activity.defn(name="check_order")
    async def check_order(self, order: str) -> str:
        self.checked.append(order)
        return order

    @activity.defn(name="send_to_erp")
    @translate_adapter_errors
    async def send_to_erp(self, order: str) -> str:
        self.attempts += 1
        if not self.erp_up:
            raise TransientError("erp", "503 Service Unavailable", status=503)
        if not self.credentials_ok:
            raise AuthenticationError("erp", "401 the client credentials were refused", status=401)
        self.sent.append(order)
        return f"ERP-{order}"

    @activity.defn(name="undo_check")
    async def undo_check(self, order: str) -> None:
        self.undone.append(order)


@workflow.defn(name="TriageProbe")
class TriageProbe:
    @workflow.run
    async def run(self, order: str) -> str:
        timeout = timedelta(seconds=10)
        await workflow.execute_activity_method(ProbeSystem.check_order, order, start_to_close_timeout=timeout)
        try:
            return await workflow.execute_activity_method(
                ProbeSystem.send_to_erp, order, start_to_close_timeout=timeout, retry_policy=QUICK_RETRY
            )
        except Exception as error:
            await workflow.execute_activity_method(ProbeSystem.undo_check, order, start_to_close_timeout=timeout)
            raise ApplicationError(f"order {order} failed and was undone", type="probe_failed") from error


@workflow.defn(name="TriageProbeLocal")
class TriageProbeLocal:
    """The same call as a local activity, as most PO and onboarding calls are: its retries happen
    inside the worker, out of the server's sight."""

    @workflow.run
    async def run(self, order: str) -> str:
        return await workflow.execute_local_activity_method(
            ProbeSystem.send_to_erp, order, start_to_close_timeout=timedelta(seconds=10), retry_policy=QUICK_RETRY
        )


@workflow.defn(name="TriageProbeBroken")
class TriageProbeBroken:
    """Workflow code that raises: its workflow task fails, again and again (the run stays open)."""

    @workflow.run
    async def run(self, order: str) -> str:
        raise RuntimeError(f"a bug in the workflow code, for {order}")


@contextlib.asynccontextmanager
async def probe_worker(client: Client, system: ProbeSystem) -> AsyncIterator[str]:
    """A worker of the probe on a fresh task queue; yields the queue."""
    task_queue = f"probe-{uuid.uuid4()}"
    activities = [system.check_order, system.send_to_erp, system.undo_check]
    async with Worker(
        client,
        task_queue=task_queue,
        workflows=[TriageProbe, TriageProbeLocal, TriageProbeBroken],
        activities=activities,
    ):
        yield task_queue


async def start_probe(
    client: Client, task_queue: str, order: str, *, execution_timeout: timedelta | None = None
) -> str:
    """Start `probe-<order>`; its run id."""
    handle = await client.start_workflow(
        TriageProbe.run, order, id=f"probe-{order}", task_queue=task_queue, execution_timeout=execution_timeout
    )
    return handle.result_run_id or ""


@contextlib.asynccontextmanager
async def dev_server() -> AsyncIterator[Client]:
    """A dev server on free ports of 127.0.0.1, with our search attributes and data converter (the
    time-skipping test server implements neither visibility queries nor reset); no worker."""
    async with await WorkflowEnvironment.start_local(
        data_converter=data_converter(Settings(environment="development")),
        dev_server_existing_path=str(temporal_cli_path()),
        ip="127.0.0.1",
        port=free_port(),
        search_attributes=list(sa.ALL_KEYS),
        dev_server_extra_args=["--http-port", str(free_port()), "--metrics-port", str(free_port())],
    ) as env:
        yield env.client
