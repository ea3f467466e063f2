"""Triage against a real dev server (visibility queries and resets: the time-skipping test server
implements neither): runs failed by a bad configuration are listed with their system and error,
brought through by one bulk retry after the fix (a dry run first, which changes nothing), and a
second retry of the same failure is refused; a run whose ERP call keeps failing is stuck, named
in one line; a PO waiting for a pricing approval past its SLA is waiting on people; a run that
never completed a workflow task is run again from its input."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import pytest
from temporalio.api.enums.v1 import EventType
from temporalio.client import Client, WorkflowExecutionStatus
from typer.testing import CliRunner

from runtime.settings import Settings
from starter import operations as ops
from starter.cli import app
from starter.operations import triage
from starter.operations.triage_retry import RetryLedger, retry_run
from store import Store
from tests.api import test_api_v1
from tests.support.harness import Harness, Systems, seeded_systems
from tests.support.triage_probe import (
    ProbeSystem,
    TriageProbeBroken,
    TriageProbeLocal,
    dev_server,
    probe_worker,
    start_probe,
)
from tests.workflows.po_support import purchase_order, until, with_procurement_seed

harness = test_api_v1.harness  # a dev server and a worker over fakes (the PO of the waiting test)
T = TypeVar("T")
PROBES = "WorkflowType='TriageProbe'"


@pytest.fixture
def systems() -> Systems:
    return with_procurement_seed(seeded_systems())


@pytest.fixture
async def client() -> AsyncIterator[Client]:
    """A dev server alone (visibility, reset); each test runs the probe's worker it needs."""
    async with dev_server() as temporal:
        yield temporal


async def eventually(read: Callable[[], Awaitable[T]], holds: Callable[[T], bool], timeout: float = 15) -> T:
    """Poll until `holds(read())` (visibility is eventually consistent); no fixed sleep."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await read()
        if holds(value) or asyncio.get_running_loop().time() > deadline:
            return value
        await asyncio.sleep(0.05)


async def cli(client: Client, *args: str) -> tuple[int, dict[str, Any]]:
    target = client.service_client.config.target_host
    argv = ["--address", target, *args, "--json"]
    result = await asyncio.to_thread(CliRunner().invoke, app, argv, standalone_mode=False)
    assert result.exception is None, result.exception
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1, result.output
    return int(result.return_value or 0), json.loads(lines[0])


async def retry(client: Client, state: Path, *args: str) -> tuple[int, dict[str, Any]]:
    return await cli(client, "runs", "retry", *args, "--state-dir", str(state), "--by", "ops-ana")


def a_store(tmp_path: Path) -> Store:
    return Store(Settings(state_dir=tmp_path).resolved_store_url)


async def failed_probes(client: Client, settings: Settings) -> list[triage.FailedRun]:
    return await triage.list_failed(client, settings, workflow_type="TriageProbe")


async def test_bad_configuration_failures_are_listed_then_one_bulk_retry_brings_them_through(
    client: Client, tmp_path: Path
) -> None:
    settings, probe = Settings(), ProbeSystem(credentials_ok=False)
    a_store(tmp_path).close()
    async with probe_worker(client, probe) as queue:
        for order in ("A1", "A2"):
            await start_probe(client, queue, order)
        for order in ("A1", "A2"):
            with pytest.raises(Exception, match="Workflow execution failed"):
                await client.get_workflow_handle(f"probe-{order}").result()

        failed = await eventually(lambda: failed_probes(client, settings), lambda found: len(found) == 2)
        assert {run.workflow_id for run in failed} == {"probe-A1", "probe-A2"}
        assert all(run.system == "erp" and run.status == "failed" for run in failed)
        assert "order A1 failed and was undone" in next(r for r in failed if r.workflow_id == "probe-A1").error
        assert all("erp refused: 401 the client credentials were refused" in run.error for run in failed)

        code, listed = await cli(client, "runs", "list", "--failed", "--type", "TriageProbe")
        assert code == 0 and {run["workflow_id"] for run in listed["runs"]} == {"probe-A1", "probe-A2"}

        code, planned = await retry(client, tmp_path, "--query", PROBES, "--dry-run")
        assert code == 0 and planned["would_retry"] == 2 and planned["retried"] == 0, planned
        sent_point = await scheduled_by(client, "probe-A1", "send_to_erp")
        assert {run["reset_event_id"] for run in planned["runs"]} == {sent_point} and sent_point > 4
        assert all(run["how"] == "reset" and run["system"] == "erp" for run in planned["runs"])
        assert len(await failed_probes(client, settings)) == 2  # a dry run changes nothing

        probe.credentials_ok = True  # the configuration is fixed
        code, done = await retry(client, tmp_path, "--query", PROBES)
        assert code == 0 and done["retried"] == 2 and done["failed"] == 0, done
        for run in done["runs"]:
            result = await client.get_workflow_handle(run["workflow_id"], run_id=run["new_run_id"]).result()
            assert result == f"ERP-{run['workflow_id'].removeprefix('probe-')}"
        assert sorted(probe.sent) == ["A1", "A2"]
        assert sorted(probe.checked) == ["A1", "A2"]  # the step before the reset point did not run again

        code, again = await retry(client, tmp_path, "--query", PROBES, "--limit", "1")  # skips do not count
        assert code == 0 and again["skipped"] == 2 and again["retried"] == 0
        assert all(run["detail"].startswith("already retried as run ") for run in again["runs"])
        code, refused = await retry(client, tmp_path, "probe-A1")
        first = next(run for run in done["runs"] if run["workflow_id"] == "probe-A1")
        assert code == 2 and refused["ok"] is False
        assert refused["error"] == f"already retried as run {first['new_run_id']}, which is completed"
        assert await eventually(lambda: failed_probes(client, settings), lambda found: not found) == []

    with a_store(tmp_path) as store:
        entries = store.audit.query(record_type="workflow_run", record_id="probe-A1")
    assert [(e.action, e.actor, e.outcome) for e in entries] == [("run.retried", "ops-ana", "reset")]
    assert entries[0].details["new_run_id"] == first["new_run_id"]


async def scheduled_by(client: Client, workflow_id: str, activity: str) -> int:
    """The WorkflowTaskCompleted event that scheduled `activity` in the run's history."""
    async for event in client.get_workflow_handle(workflow_id).fetch_history_events():
        attributes = event.activity_task_scheduled_event_attributes
        if (
            event.event_type == EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED
            and attributes.activity_type.name == activity
        ):
            return attributes.workflow_task_completed_event_id
    raise AssertionError(f"{activity} was never scheduled")


async def test_runs_whose_erp_call_keeps_failing_are_stuck_naming_the_system(client: Client) -> None:
    settings, probe = Settings(), ProbeSystem(credentials_ok=True, erp_up=False)
    async with probe_worker(client, probe) as queue:
        await start_probe(client, queue, "S1")
        await client.start_workflow(  # a short workflow task: the worker heartbeats it, and answers queries, often
            TriageProbeLocal.run, "L1", id="probe-L1", task_queue=queue, task_timeout=timedelta(seconds=1)
        )
        await start_probe(client, "nobody-polls-this-queue", "N1")
        broken = await client.start_workflow(TriageProbeBroken.run, "B1", id="probe-B1", task_queue=queue)
        handle = client.get_workflow_handle("probe-S1")

        async def attempts() -> int:
            pending = (await handle.describe()).raw_description.pending_activities
            return max((p.attempt for p in pending), default=0)

        assert await eventually(attempts, lambda n: n >= 2) >= 2  # retrying on the server
        assert await eventually(lambda: asyncio.sleep(0, probe.attempts), lambda n: n >= 4) >= 4  # and locally

        async def task_attempts() -> int:
            return int((await broken.describe()).raw_description.pending_workflow_task.attempt)

        assert await eventually(task_attempts, lambda n: n >= 2) >= 2  # the broken code's task fails again
        later = datetime.now(UTC) + timedelta(minutes=30)
        stuck = await triage.list_stuck(client, settings, stuck_after=timedelta(minutes=10), now=later)
        lines = {run.workflow_id: run.line for run in stuck}
        assert set(lines) == {"probe-S1", "probe-L1", "probe-N1", "probe-B1"}, lines
        assert all("\n" not in line and " stuck on " in line for line in lines.values())
        assert lines["probe-S1"].startswith(
            "probe-S1 stuck on erp for 30 min: erp unavailable: 503 Service Unavailable"
        )
        assert lines["probe-S1"].endswith(" (activity send_to_erp, attempt " + lines["probe-S1"].rsplit(" ", 1)[1])
        assert lines["probe-L1"] == f"probe-L1 stuck on erp for 30 min: send_to_erp {triage.LOCAL_ERROR}"
        assert lines["probe-N1"] == ("probe-N1 stuck on worker for 30 min: no worker has taken its workflow task "
                                     "from task queue nobody-polls-this-queue")  # fmt: skip
        assert lines["probe-B1"].startswith("probe-B1 stuck on workflow for 30 min: its workflow task failed ")
        local = next(run for run in stuck if run.workflow_id == "probe-L1")
        assert local.activity == "send_to_erp" and local.attempt is None and local.system == "erp"
        assert await triage.list_stuck(client, settings, stuck_after=timedelta(minutes=10)) == []  # not yet 10 min
        probe.erp_up = True  # back: the retrying runs complete
        assert await handle.result() == "ERP-S1" and await client.get_workflow_handle("probe-L1").result() == "ERP-L1"
        for workflow_id in ("probe-N1", "probe-B1"):
            await client.get_workflow_handle(workflow_id).terminate("test over")


async def test_a_decision_past_its_sla_is_waiting_on_people(harness: Harness) -> None:
    settings = Settings(task_queue=harness.task_queue)
    po = purchase_order("po-off-contract-price")
    handle = await ops.start_purchase_order(harness.client, settings, po, submitted_by="ana")
    await until(handle, lambda s: s.stage == "awaiting_approval")

    async def waiting(now: datetime) -> list[triage.WaitingRun]:
        return await triage.list_waiting(harness.client, settings, now=now, workflow_type="PurchaseOrder")

    assert await waiting(datetime.now(UTC)) == []  # within its SLA (24 h)
    found = await eventually(lambda: waiting(datetime.now(UTC) + timedelta(hours=25)), lambda runs: bool(runs))
    [run] = found
    assert run.workflow_id == handle.id and run.kind == "pricing_approval" and run.team == "pricing"
    assert re.match(rf"{handle.id}: pricing_approval for pricing overdue by 6[01] min \(due 20", run.line), run.line


async def test_a_run_that_never_took_a_workflow_task_is_run_again_from_its_input(
    client: Client, tmp_path: Path
) -> None:
    settings = Settings()
    await start_probe(client, "nobody-polls-this-queue", "T1", execution_timeout=timedelta(seconds=1))
    handle = client.get_workflow_handle("probe-T1")
    timed_out = await eventually(handle.describe, lambda d: d.status == WorkflowExecutionStatus.TIMED_OUT)
    assert timed_out.status == WorkflowExecutionStatus.TIMED_OUT
    with a_store(tmp_path) as store:
        done = await retry_run(client, settings, RetryLedger(store), "probe-T1", by="ops-ana")
        assert done.outcome == "retried" and done.how == "rerun" and done.reset_event_id is None
        again = await retry_run(client, settings, RetryLedger(store), "probe-T1", by="ops-ana", run_id=timed_out.run_id)
        assert again.outcome == "skipped" and again.detail.startswith(f"already retried as run {done.new_run_id}")
    rerun = client.get_workflow_handle("probe-T1", run_id=done.new_run_id)
    description = await rerun.describe()
    assert description.status == WorkflowExecutionStatus.RUNNING and description.workflow_type == "TriageProbe"
    async for event in rerun.fetch_history_events():
        [order] = await client.data_converter.decode(event.workflow_execution_started_event_attributes.input.payloads)
        assert order == "T1"
        break
    assert description.raw_description.execution_config.task_queue.name == "nobody-polls-this-queue"
    await rerun.terminate("test over")
