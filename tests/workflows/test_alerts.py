"""The `alerts-evaluate` workflow over a real store (SQLite) in a time-skipping Temporal: an ERP outage
with several runs retrying the ERP raises ONE alert for the system erp, routed to the operations
team channel through the outbox; evaluating again announces nothing new; when the ERP is back the
alert is resolved. And the facts as Temporal visibility gives them (activities/alerts.py
`TemporalRuns`), against a real dev server: runs escalated past their SLA, a run retrying an ERP
failure, a failed run (and not one run again since)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from temporalio import activity, workflow
from temporalio.client import Client
from temporalio.common import RetryPolicy
from temporalio.exceptions import ApplicationError
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import UnsandboxedWorkflowRunner, Worker

from activities.alerts import AlertActivities, TemporalRuns
from activities.events import EventActivities
from domain.alert_facts import SystemCall
from domain.alerts import AlertsInput, load_rules
from domain.decisions import DecisionKind
from domain.event_catalog import data_schema
from domain.subscriptions import Channel, DeliveryStatus, Subscription
from runtime import binaries
from runtime.devserver import DevServer
from runtime.ports import free_port
from runtime.settings import Settings
from runtime.temporal_client import data_converter
from store import Store
from store.alerts import AlertRecords
from tests.support.alert_fakes import FakeRuns, FakeSystem
from worker import activity_functions, workflow_runner
from workflows import search_attributes as sa
from workflows.alerts import AlertsEvaluateWorkflow

NOW = datetime(2026, 11, 26, 9, 0, tzinfo=UTC)
ERP_DOWN = "erp unavailable: POST /erp/purchase-orders answered 503: outage"


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store(f"sqlite:///{tmp_path / 'store.db'}") as opened:
        opened.outbox.add_subscription(
            Subscription(subscription_id="team-operations", channel=Channel.TEAM, team="operations",
                         url="https://hooks.example/services/alerts", created_by="settings", created_at=NOW)
        )  # fmt: skip
        yield opened


@dataclass
class Clock:
    now: datetime

    def __call__(self) -> datetime:
        return self.now


async def test_an_erp_outage_raises_one_alert_and_resolves_it_when_the_erp_is_back(store: Store) -> None:
    retrying = [f"purchase-order-PO-2026-00045{n}" for n in range(4)]
    runs = FakeRuns(retrying=[SystemCall(system="erp", at=NOW, ok=False, error=ERP_DOWN, workflow_id=workflow_id)
                              for workflow_id in retrying])  # fmt: skip
    erp, ap = FakeSystem("erp", down=True), FakeSystem("ap")
    clock = Clock(NOW)
    alerts = AlertActivities(alerts=AlertRecords.of(store), runs=runs, probes=[erp, ap], clock=clock)
    rules = load_rules().rules
    converter = data_converter(Settings(environment="development"))
    async with await WorkflowEnvironment.start_time_skipping(
        data_converter=converter, test_server_existing_path=str(binaries.test_server_path())
    ) as env:
        task_queue = f"alerts-{uuid.uuid4()}"
        async with Worker(env.client, task_queue=task_queue, workflows=[AlertsEvaluateWorkflow],
                          activities=activity_functions(alerts, EventActivities(store=store)),
                          workflow_runner=workflow_runner()):  # fmt: skip

            async def evaluate() -> Any:
                return await env.client.execute_workflow(
                    AlertsEvaluateWorkflow.run, AlertsInput(rules=rules, renotify_after=timedelta(hours=1)),
                    id=f"alerts-evaluate-{uuid.uuid4()}", task_queue=task_queue,
                )  # fmt: skip

            outage = await evaluate()
            [raised] = store.list_events(type="alert.raised")
            assert [(n.change.value, n.alert.subject) for n in outage.notices] == [("raised", "erp")]
            assert raised.subject == "system-failing/erp" and raised.data["team"] == "operations"
            assert raised.data["severity"] == "critical" and raised.data["notices"] == 1
            assert "5 of 5 calls failed" in raised.data["summary"] and ERP_DOWN in raised.data["summary"]
            assert "4 runs retrying" in raised.data["summary"]

            clock.now += timedelta(minutes=1)
            assert (await evaluate()).notices == []  # still down: nothing new to announce
            assert len(store.list_events(type="alert.raised")) == 1

            erp.down, runs.retrying = False, []
            clock.now += timedelta(minutes=5)  # the outage's failed calls are out of the rule's window
            back = await evaluate()

    assert [(n.change.value, n.alert.subject) for n in back.notices] == [("resolved", "erp")]
    [resolved] = store.list_events(type="alert.resolved")
    assert resolved.data["alert_id"] == raised.data["alert_id"] and resolved.data["resolved_at"]
    assert AlertRecords.of(store).open_alerts() == [] and back.open == 0
    deliveries = store.outbox.deliveries("team-operations")
    assert [(d.event_type, d.status) for d in deliveries] == [
        ("alert.raised", DeliveryStatus.PENDING),
        ("alert.resolved", DeliveryStatus.PENDING),
    ]
    for event in (raised, resolved):
        data = event.model_dump(mode="json")["data"]
        assert list(Draft202012Validator(data_schema(event.type)).iter_errors(data)) == []
    assert erp.probes == 3 and ap.probes == 3


# --- the facts as Temporal visibility gives them --------------------------------------------------


@activity.defn(name="create_po_in_erp")
async def erp_down(_: str) -> None:
    raise ApplicationError(ERP_DOWN, type="erp.transient")


@workflow.defn(name="RetriesTheErp")
class RetriesTheErp:
    @workflow.run
    async def run(self, _: str) -> None:
        await workflow.execute_activity(erp_down, "po", start_to_close_timeout=timedelta(seconds=10),
                                        retry_policy=RetryPolicy(initial_interval=timedelta(milliseconds=100),
                                                                 maximum_interval=timedelta(seconds=1)))  # fmt: skip


@workflow.defn(name="WaitsForPricingManagers")
class WaitsForPricingManagers:
    @workflow.run
    async def run(self, _: str) -> None:
        workflow.upsert_search_attributes([sa.DECISION.value_set(DecisionKind.PRICING_APPROVAL.value),
                                           sa.TEAM.value_set("pricing-managers")])  # fmt: skip
        await workflow.wait_condition(lambda: False)


@workflow.defn(name="FailsOnce")
class FailsOnce:
    @workflow.run
    async def run(self, how: str) -> str:
        if how == "fail":
            raise ApplicationError("contracts refused: GET /contracts answered 401", non_retryable=True)
        return how


async def test_temporal_visibility_gives_the_escalated_the_retrying_and_the_failed_runs(tmp_path: Path) -> None:
    server = DevServer(state_dir=tmp_path, port=free_port(), ui_port=free_port(), search_attributes=sa.REGISTRATION)
    async with server:
        client = await Client.connect(server.target)
        async with Worker(client, task_queue="q", workflows=[RetriesTheErp, WaitsForPricingManagers, FailsOnce],
                          activities=[erp_down], workflow_runner=UnsandboxedWorkflowRunner()):  # fmt: skip
            since = datetime.now(UTC) - timedelta(minutes=1)
            retrying = await client.start_workflow(RetriesTheErp.run, "x", id="po-retrying", task_queue="q")
            waiting = await client.start_workflow(
                WaitsForPricingManagers.run, "x", id="invoice-waiting", task_queue="q"
            )
            for workflow_id, how in [("po-failed", "fail"), ("po-failed-then-fixed", "fail"),
                                     ("po-failed-then-fixed", "ok")]:  # fmt: skip
                handle = await client.start_workflow(FailsOnce.run, how, id=workflow_id, task_queue="q")
                await asyncio.gather(handle.result(), return_exceptions=True)
            runs = TemporalRuns(client)
            escalated, calls, failed = await seen(runs, since)
            await retrying.terminate("test over")
            await waiting.terminate("test over")

    assert escalated == {"pricing": ["invoice-waiting"]}
    [call] = calls
    assert (call.system, call.ok, call.workflow_id, call.error) == ("erp", False, "po-retrying", ERP_DOWN)
    [run] = failed
    assert (run.workflow_id, run.workflow_type) == ("po-failed", "FailsOnce")
    assert "contracts refused: GET /contracts answered 401" in run.error


async def seen(runs: TemporalRuns, since: datetime) -> tuple[dict[str, list[str]], list[SystemCall], list[Any]]:
    """Visibility is eventually consistent: ask until every run shows (at most 30 s)."""
    for _ in range(150):
        escalated, calls, failed = await runs.escalated(), await runs.retrying_calls(), await runs.failed_runs(since)
        if escalated and calls and failed:
            return escalated, calls, failed
        await asyncio.sleep(0.2)
    return escalated, calls, failed
