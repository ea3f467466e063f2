"""Issue 16, part 2: the process registry (runtime/metrics.py) with the Temporal SDK's metrics
(runtime/sdk_metrics.py), runs and SLA breaches counted by the worker's interceptor
(runtime/run_metrics.py), adapter calls (adapters/http.py), the deployment gauges
(runtime/fleet_metrics.py), the worker's /metrics server and the OTLP push."""

from __future__ import annotations

import re
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common._internal.metrics_encoder import encode_metrics
from opentelemetry.sdk.metrics.export import MetricExportResult, MetricsData
from opentelemetry.sdk.resources import Resource
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.parser import text_string_to_metric_families
from temporalio.client import WorkflowFailureError
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_GAUGE,
    BUFFERED_METRIC_KIND_HISTOGRAM,
    MetricBuffer,
    MetricBufferDurationFormat,
    Runtime,
)
from temporalio.testing import WorkflowEnvironment
from temporalio.worker import Worker

import runtime.metrics as metrics_module
from activities.events import EventActivities
from adapters.errors import AdapterError
from adapters.http import SystemClient, observe_calls
from domain.events import BusinessEvent
from domain.observability import label_value
from domain.subscriptions import Channel, Subscription
from runtime import binaries
from runtime.fleet_metrics import WAITING_TEAMS, FleetGauges, StoreDeadLetters, decisions_waiting_query
from runtime.metrics import ProcessMetrics, install_metrics, temporal_runtime
from runtime.metrics_server import serving_metrics
from runtime.namespace import ensure_search_attributes
from runtime.otlp_metrics import RegistryPusher, metrics_data
from runtime.ports import free_port
from runtime.run_metrics import MetricsInterceptor
from runtime.sdk_metrics import LATENCY_BUCKETS, SdkMetricsCollector
from runtime.settings import Settings
from runtime.temporal_client import data_converter
from store import Store
from tests.support.fakes import FakeStore
from tests.support.metrics_probe import BreachProbe, ContinuingProbe, FailingProbe, OutcomeProbe, probe_step
from worker import workflow_runner
from workflows.search_attributes import REGISTRATION


def fresh() -> ProcessMetrics:
    return ProcessMetrics(standard_collectors=False)


# --- labels ---------------------------------------------------------------------------------------


@given(st.text(max_size=80))
def test_a_label_value_is_a_bounded_word_never_an_id(value: str) -> None:
    label = label_value(value)
    assert label in ("other", "none") or re.fullmatch(r"[A-Za-z][A-Za-z_-]{0,62}", label)
    if any(ch.isdigit() for ch in value):
        assert label in ("other", "none")


@pytest.mark.parametrize(
    ("value", "label"),
    [("SupplierOnboarding", "SupplierOnboarding"), ("pricing-managers", "pricing-managers"), ("SUP-0001", "other"),
     ("45-2873311", "other"), ("Dana Whitfield", "other"), (None, "none"), ("", "none")],
)  # fmt: skip
def test_label_values(value: str | None, label: str) -> None:
    assert label_value(value) == label


# --- the SDK's metric buffer ----------------------------------------------------------------------


@dataclass(frozen=True)
class FakeMetric:
    name: str
    kind: int
    description: str | None = None
    unit: str | None = None


@dataclass(frozen=True)
class FakeUpdate:
    metric: FakeMetric
    value: float
    attributes: dict[str, Any]


@dataclass
class FakeBuffer:
    pending: list[FakeUpdate] = field(default_factory=list)

    def retrieve_updates(self) -> Sequence[Any]:
        drained, self.pending = self.pending, []
        return drained


def test_buffered_counters_add_gauges_keep_the_last_value_histograms_bucket() -> None:
    completed = FakeMetric("temporal_workflow_completed", BUFFERED_METRIC_KIND_COUNTER)
    slots = FakeMetric("temporal_worker_task_slots_available", BUFFERED_METRIC_KIND_GAUGE)
    latency = FakeMetric("temporal_activity_execution_latency", BUFFERED_METRIC_KIND_HISTOGRAM, unit="s")
    wf = {"workflow_type": "PurchaseOrder", "namespace": "default"}
    buffer = FakeBuffer(
        [FakeUpdate(completed, 1, wf), FakeUpdate(completed, 2, wf), FakeUpdate(slots, 100, {"eager": True}),
         FakeUpdate(slots, 97, {"eager": True}), FakeUpdate(latency, 0.02, wf), FakeUpdate(latency, 7.0, wf),
         FakeUpdate(latency, 10**9, wf)]
    )  # fmt: skip
    metrics = fresh()
    metrics.add_sdk_metrics(SdkMetricsCollector(buffer))
    sample = metrics.registry.get_sample_value

    assert sample("temporal_workflow_completed_total", wf) == 3
    assert sample("temporal_worker_task_slots_available", {"eager": "true"}) == 97
    assert sample("temporal_activity_execution_latency_bucket", {**wf, "le": "0.025"}) == 1
    assert sample("temporal_activity_execution_latency_bucket", {**wf, "le": "10.0"}) == 2
    assert sample("temporal_activity_execution_latency_bucket", {**wf, "le": "+Inf"}) == 3
    assert sample("temporal_activity_execution_latency_count", wf) == 3
    buffer.pending.append(FakeUpdate(completed, 4, wf))  # drained again on the next scrape
    assert sample("temporal_workflow_completed_total", wf) == 7
    families = {f.name for f in text_string_to_metric_families(metrics.render()[0].decode())}
    assert {"temporal_workflow_completed", "temporal_activity_execution_latency"} <= families
    assert len(LATENCY_BUCKETS) == len(set(LATENCY_BUCKETS)) == len(sorted(LATENCY_BUCKETS))


# --- the worker: runs, outcomes, SLA breaches, and the SDK's own metrics ---------------------------


async def test_the_worker_counts_runs_once_by_outcome_and_breaches_once_beside_the_sdk_metrics() -> None:
    buffer = MetricBuffer(50_000, MetricBufferDurationFormat.SECONDS)
    runtime = temporal_runtime(buffer)
    metrics = fresh()
    metrics.add_sdk_metrics(SdkMetricsCollector(buffer))
    store = FakeStore()
    queue = f"metrics-{uuid.uuid4()}"
    async with await WorkflowEnvironment.start_time_skipping(
        runtime=runtime,
        data_converter=data_converter(Settings(environment="development")),
        test_server_existing_path=str(binaries.test_server_path()),
    ) as env:
        await ensure_search_attributes(env.client, REGISTRATION)
        async with Worker(
            env.client,
            task_queue=queue,
            workflows=[OutcomeProbe, FailingProbe, ContinuingProbe, BreachProbe],
            activities=[probe_step, EventActivities(store=store).publish_event],
            interceptors=[MetricsInterceptor(metrics.business)],
            workflow_runner=workflow_runner(),
            max_cached_workflows=0,  # every workflow task replays the run from its start
        ):
            run = env.client.execute_workflow
            assert await run(OutcomeProbe.run, "onboarded", id=f"o-{uuid.uuid4()}", task_queue=queue) == "onboarded"
            with pytest.raises(WorkflowFailureError):
                await run(FailingProbe.run, id=f"f-{uuid.uuid4()}", task_queue=queue)
            assert await run(ContinuingProbe.run, 1, id=f"c-{uuid.uuid4()}", task_queue=queue) == 0
            await run(BreachProbe.run, "pricing-managers", id=f"b-{uuid.uuid4()}", task_queue=queue)

    sample = metrics.registry.get_sample_value
    started, ended = "supplybridge_workflow_runs_started_total", "supplybridge_workflow_runs_completed_total"
    assert sample(started, {"workflow": "OutcomeProbe"}) == 1  # not again on each replay
    assert sample(ended, {"workflow": "OutcomeProbe", "outcome": "onboarded"}) == 1
    points = [point for family in metrics.registry.collect() for point in family.samples]
    outcomes = {point.labels["outcome"] for point in points if "outcome" in point.labels}
    assert outcomes == {"onboarded", "failed", "continued_as_new", "completed"}  # evictions end nothing
    assert sample(ended, {"workflow": "FailingProbe", "outcome": "failed"}) == 1
    assert sample(started, {"workflow": "ContinuingProbe"}) == 2
    assert sample(ended, {"workflow": "ContinuingProbe", "outcome": "continued_as_new"}) == 1
    assert sample(ended, {"workflow": "ContinuingProbe", "outcome": "completed"}) == 1
    assert sample("supplybridge_sla_breaches_total", {"team": "pricing-managers"}) == 1  # published twice
    assert len(store.events) == 1

    wf = {"namespace": "default", "task_queue": queue}
    assert sample("temporal_workflow_completed_total", {**wf, "workflow_type": "OutcomeProbe"}) == 1
    assert sample("temporal_workflow_failed_total", {**wf, "workflow_type": "FailingProbe"}) == 1
    assert sample("temporal_workflow_task_execution_latency_count", {**wf, "workflow_type": "OutcomeProbe"}) == 2
    activity = {**wf, "workflow_type": "OutcomeProbe", "activity_type": "probe_step"}
    assert sample("temporal_activity_execution_latency_count", activity) == 1
    assert sample("temporal_activity_execution_latency_bucket", {**activity, "le": "+Inf"}) == 1


# --- adapter calls --------------------------------------------------------------------------------


def answer(request: httpx.Request) -> httpx.Response:
    path = request.url.path
    if path == "/slow":
        raise httpx.ReadTimeout("slow", request=request)
    if path == "/down":
        raise httpx.ConnectError("refused", request=request)
    status = {"/ok": 200, "/missing": 404, "/busy": 503, "/refused": 422, "/who": 401}[path]
    return httpx.Response(status, json={"code": "rule", "detail": "no"} if status >= 400 else {"ok": True})


async def test_every_attempt_of_an_external_call_is_counted_by_system_and_result_with_its_latency() -> None:
    metrics = fresh()
    metrics.observe_adapter_calls()

    def broken(system: str, result: str, seconds: float) -> None:
        raise RuntimeError("an observer's bug")

    stop_broken = observe_calls(broken)
    try:
        async with SystemClient(
            "erp", "http://erp", token=None, transport=httpx.MockTransport(answer), attempts=1
        ) as c:
            assert await c.request("GET", "/ok") == {"ok": True}  # the broken observer does not fail it
            for path in ("/missing", "/busy", "/refused", "/who", "/slow", "/down"):
                with pytest.raises(AdapterError):
                    await c.request("POST", path)
        async with SystemClient("ap", "http://ap", token=None, transport=httpx.MockTransport(answer), attempts=3) as c:
            with pytest.raises(AdapterError):
                await c.request("GET", "/busy")  # three attempts, each counted
    finally:
        stop_broken()
        metrics.close()
    sample = metrics.registry.get_sample_value
    calls = "supplybridge_adapter_calls_total"
    for result in ("ok", "not_found", "unavailable", "rejected", "auth_error", "timeout", "unreachable"):
        assert sample(calls, {"system": "erp", "result": result}) == 1, result
    assert sample(calls, {"system": "ap", "result": "unavailable"}) == 3
    assert sample("supplybridge_adapter_call_seconds_count", {"system": "erp"}) == 7
    async with SystemClient("erp", "http://erp", token=None, transport=httpx.MockTransport(answer)) as c:
        await c.request("GET", "/ok")  # no longer observed after close()
    assert sample(calls, {"system": "erp", "result": "ok"}) == 1


# --- the deployment gauges ------------------------------------------------------------------------


@dataclass
class Counted:
    count: int


@dataclass
class FakeVisibility:
    open: dict[str, int]
    queries: list[str] = field(default_factory=list)
    broken: bool = False

    async def count_workflows(self, query: str | None = None) -> Counted:
        if self.broken:
            raise RuntimeError("visibility is down")
        assert query is not None
        self.queries.append(query)
        team = re.search(r'SupplyBridgeTeam="([^"]+)"', query)
        return Counted(self.open.get(team.group(1) if team else "", 0))


@dataclass
class FakeDeadLetters:
    counts: dict[str, int]

    def open_dead_letters(self) -> dict[str, int]:
        return dict(self.counts)


async def test_decisions_waiting_and_dead_letters_are_read_at_most_every_refresh_interval() -> None:
    metrics = fresh()
    now = [0.0]
    visibility = FakeVisibility({"pricing": 2, "pricing-managers": 1})
    letters = FakeDeadLetters({"intake": 3, "event_delivery": 1})
    gauges = FleetGauges(metrics.business, visibility=visibility, dead_letters=letters, every=15, clock=lambda: now[0])
    sample = metrics.registry.get_sample_value

    await gauges.refresh()
    assert sample("supplybridge_decisions_waiting", {"team": "pricing"}) == 2
    assert sample("supplybridge_decisions_waiting", {"team": "pricing-managers"}) == 1
    assert sample("supplybridge_decisions_waiting", {"team": "receiving"}) == 0
    assert sample("supplybridge_dead_letters_open", {"kind": "intake"}) == 3
    assert len(visibility.queries) == len(WAITING_TEAMS)
    assert decisions_waiting_query("pricing") in visibility.queries
    assert "SupplyBridgeDecision IS NOT NULL" in decisions_waiting_query("pricing")

    visibility.open["pricing"], now[0] = 5, 10.0
    await gauges.refresh()  # within the interval: cached
    assert sample("supplybridge_decisions_waiting", {"team": "pricing"}) == 2
    now[0], visibility.broken, letters.counts["intake"] = 16.0, True, 0
    await gauges.refresh()  # visibility fails: its values stay, the store's are read
    assert sample("supplybridge_decisions_waiting", {"team": "pricing"}) == 2
    assert sample("supplybridge_dead_letters_open", {"kind": "intake"}) == 0
    assert sample("supplybridge_metrics_refresh_errors_total", {"source": "visibility"}) == 1


def test_dead_letters_are_counted_in_a_real_store(tmp_path: Any) -> None:
    with Store(f"sqlite:///{tmp_path / 'store.sqlite'}") as store:
        assert StoreDeadLetters(store).open_dead_letters() == {"intake": 0, "event_delivery": 0}
        now = datetime.now(UTC)
        erp = Subscription(subscription_id="erp", channel=Channel.WEBHOOK, types=["*"], url="https://erp.example/e",
                           created_by="t", created_at=now)  # fmt: skip
        store.outbox.add_subscription(erp)
        for n in range(3):
            store.append_event(BusinessEvent(event_id=f"e{n}", type="supplier.onboarded", subject="V", occurred_at=now))
        for delivery in store.outbox.deliveries()[:2]:
            store.outbox.failed(delivery.delivery_id, "503", now, timedelta(0))
        assert StoreDeadLetters(store).open_dead_letters() == {"intake": 0, "event_delivery": 2}


# --- the worker's /metrics server -----------------------------------------------------------------


async def test_a_second_worker_on_the_machine_runs_without_metrics_when_the_port_is_taken(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    settings = Settings(environment="development", worker_metrics_port=port)
    async with serving_metrics(settings, fresh()) as first, serving_metrics(settings, fresh()) as second:
        assert first == f"http://127.0.0.1:{port}/metrics" and second is None
    assert f"127.0.0.1:{port} is taken" in caplog.text


async def test_the_worker_serves_its_registry_on_its_metrics_port_and_stops_with_it() -> None:
    metrics = fresh()
    metrics.business.run_started("PurchaseOrder")
    port = free_port()
    settings = Settings(environment="development", worker_metrics_port=port)
    async with serving_metrics(settings, metrics) as url:
        assert url == f"http://127.0.0.1:{port}/metrics"
        async with httpx.AsyncClient() as client:
            response = await client.get(url)
            assert (await client.get(f"http://127.0.0.1:{port}/health")).status_code == 200
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    assert 'supplybridge_workflow_runs_started_total{workflow="PurchaseOrder"} 1.0' in response.text
    with pytest.raises(httpx.ConnectError):
        httpx.get(url)
    async with serving_metrics(settings.model_copy(update={"worker_metrics_port": 0}), metrics) as off:
        assert off is None


# --- install and OTLP -----------------------------------------------------------------------------


def test_install_sets_the_temporal_runtime_up_once_and_observes_adapter_calls(monkeypatch: pytest.MonkeyPatch) -> None:
    installed: list[object] = []
    monkeypatch.setattr(metrics_module, "_process", fresh())
    monkeypatch.setattr(Runtime, "set_default", lambda runtime, **_: installed.append(runtime))
    first = install_metrics(Settings(environment="development"), "test")
    try:
        assert install_metrics(Settings(environment="development"), "test") is first
        assert len(installed) == 1 and first.sdk is not None
        assert first._stop_observing is not None
    finally:
        first.close()


@dataclass
class CapturingExporter:
    exported: list[MetricsData] = field(default_factory=list)

    def export(self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any) -> MetricExportResult:
        self.exported.append(metrics_data)
        return MetricExportResult.SUCCESS

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        pass


def test_the_registry_converts_to_otlp_counters_gauges_and_histograms() -> None:
    registry = CollectorRegistry()
    Counter("runs", "r", ["workflow"], registry=registry).labels("Invoice").inc(3)
    Gauge("waiting", "w", ["team"], registry=registry).labels("pricing").set(2)
    Histogram("call_seconds", "c", ["system"], buckets=(0.1, 1.0), registry=registry).labels("erp").observe(0.5)
    exporter = CapturingExporter()
    RegistryPusher(registry, exporter, Resource.create({"service.name": "t"})).push()  # type: ignore[arg-type]
    [data] = exporter.exported
    metrics: dict[str, Any] = {m.name: m for m in data.resource_metrics[0].scope_metrics[0].metrics}
    runs = metrics["runs"].data.data_points[0]
    assert (dict(runs.attributes or {}), runs.value) == ({"workflow": "Invoice"}, 3.0)
    assert metrics["runs"].data.is_monotonic
    assert metrics["waiting"].data.data_points[0].value == 2.0
    point = metrics["call_seconds"].data.data_points[0]
    assert (point.count, point.sum, list(point.bucket_counts)) == (1, 0.5, [0, 1, 0])
    assert list(point.explicit_bounds) == [0.1, 1.0]
    encoded = encode_metrics(metrics_data(registry.collect(), Resource.create({}), 1, 2))
    assert len(encoded.resource_metrics[0].scope_metrics[0].metrics) == 3
