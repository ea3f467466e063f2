"""Metrics of a process, for Prometheus (`/metrics`) and, when a collector is configured, OTLP.

One `CollectorRegistry` per process (`process_metrics()`): the worker serves it on
`settings.worker_metrics_port` (runtime/metrics_server.py), the API on its `/metrics`
(starter/api/metrics.py), and `supplybridge up`, which runs both in one process, shows the
worker's metrics on the API's `/metrics` too. It holds:

- the Temporal SDK's own metrics (runtime/sdk_metrics.py: why a metric buffer and not the SDK's
  Prometheus server), once `install_metrics` set the Temporal runtime up (before connecting);
- our business metrics (`BusinessMetrics`):
  - `supplybridge_workflow_runs_started_total{workflow}` and
    `supplybridge_workflow_runs_completed_total{workflow,outcome}`: counted by the worker's
    `MetricsInterceptor` (runtime/run_metrics.py) as each run starts and ends, never on replay;
    the outcome is the run's `SupplyBridgeOutcome`, else `completed`, or `failed`, `cancelled`,
    `continued_as_new`;
  - `supplybridge_sla_breaches_total{team}`: each SLA-breach event (domain/kpis.py
    `SLA_BREACH_TYPES`, the same the KPI report counts, by the same team) the first time the
    store records it;
  - `supplybridge_adapter_calls_total{system,result}` and `supplybridge_adapter_call_seconds{system}`:
    every attempt of every external call (adapters/http.py `observe_calls`);
  - `supplybridge_decisions_waiting{team}` and `supplybridge_dead_letters_open{kind}`: gauges of
    the whole deployment, read from Temporal visibility and the store by the API when it is
    scraped (runtime/fleet_metrics.py); the worker does not repeat them.
- the process's CPU, memory and garbage collection (prometheus_client's standard collectors).

Counters count from the start of the process (Prometheus' `rate`/`increase` handle restarts);
what must survive a restart is in the KPI report, computed from the store and visibility.
Labels are bounded operational words (domain/observability.py `label_value`): never a supplier,
a document number, a tax id or a name.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import cast

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, disable_created_metrics
from prometheus_client.exposition import choose_encoder
from prometheus_client.gc_collector import GCCollector
from prometheus_client.platform_collector import PlatformCollector
from prometheus_client.process_collector import ProcessCollector
from temporalio.runtime import (
    LoggingConfig,
    MetricBuffer,
    MetricBufferDurationFormat,
    Runtime,
    TelemetryConfig,
)

from adapters.http import CALL_RESULTS, observe_calls
from domain.observability import label_value
from runtime.sdk_metrics import BUFFER_SIZE, SdkMetricsCollector
from runtime.settings import Settings

# no `_created` series beside every counter: Prometheus does not need them (the function is untyped)
cast(Callable[[], None], disable_created_metrics)()

ADAPTER_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)
DEAD_LETTER_KINDS = ("intake", "event_delivery")
RUN_END_OUTCOMES = ("completed", "failed", "cancelled", "continued_as_new")


class BusinessMetrics:
    """Our metrics (see the module docstring), registered in `registry`."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.runs_started = Counter(
            "supplybridge_workflow_runs_started", "Workflow runs started", ["workflow"], registry=registry
        )
        self.runs_completed = Counter(
            "supplybridge_workflow_runs_completed",
            "Workflow runs ended, by business outcome (or failed, cancelled, continued_as_new)",
            ["workflow", "outcome"],
            registry=registry,
        )
        self.sla_breaches = Counter(
            "supplybridge_sla_breaches",
            "SLA breaches (escalations and overdue POs), by team",
            ["team"],
            registry=registry,
        )
        self.adapter_calls = Counter(
            "supplybridge_adapter_calls",
            "Calls to external systems, by result",
            ["system", "result"],
            registry=registry,
        )
        self.adapter_seconds = Histogram(
            "supplybridge_adapter_call_seconds",
            "Duration of calls to external systems",
            ["system"],
            buckets=ADAPTER_BUCKETS,
            registry=registry,
        )
        self.decisions_waiting = Gauge(
            "supplybridge_decisions_waiting",
            "Running runs waiting for a person's decision, by the team that owes it (Temporal visibility)",
            ["team"],
            registry=registry,
        )
        self.dead_letters_open = Gauge(
            "supplybridge_dead_letters_open",
            "Dead letters not yet replayed or discarded: intake records and event deliveries",
            ["kind"],
            registry=registry,
        )
        self.refresh_errors = Counter(
            "supplybridge_metrics_refresh_errors",
            "Gauges that could not be refreshed (the previous value is kept)",
            ["source"],
            registry=registry,
        )

    def run_started(self, workflow: str) -> None:
        self.runs_started.labels(label_value(workflow)).inc()

    def run_completed(self, workflow: str, outcome: str | None) -> None:
        self.runs_completed.labels(label_value(workflow), label_value(outcome or "completed")).inc()

    def sla_breached(self, team: str) -> None:
        self.sla_breaches.labels(label_value(team)).inc()

    def observe_call(self, system: str, result: str, seconds: float) -> None:
        """An `adapters.http.CallObserver`."""
        system = label_value(system)
        self.adapter_calls.labels(system, label_value(result, allowed=CALL_RESULTS)).inc()
        self.adapter_seconds.labels(system).observe(seconds)

    def set_decisions_waiting(self, by_team: Mapping[str, int]) -> None:
        for team, count in by_team.items():
            self.decisions_waiting.labels(label_value(team)).set(count)

    def set_dead_letters_open(self, by_kind: Mapping[str, int]) -> None:
        for kind, count in by_kind.items():
            self.dead_letters_open.labels(label_value(kind, allowed=DEAD_LETTER_KINDS)).set(count)


class ProcessMetrics:
    """The registry of one process, with our metrics and (once installed) the SDK's."""

    def __init__(self, *, standard_collectors: bool = True) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.business = BusinessMetrics(self.registry)
        self.sdk: SdkMetricsCollector | None = None
        self._stop_observing: Callable[[], None] | None = None
        if standard_collectors:
            ProcessCollector(registry=self.registry)
            PlatformCollector(registry=self.registry)
            GCCollector(registry=self.registry)

    def add_sdk_metrics(self, collector: SdkMetricsCollector) -> None:
        if self.sdk is None:
            self.sdk = collector
            self.registry.register(collector)

    def observe_adapter_calls(self) -> None:
        """Count every external call of this process (adapters/http.py)."""
        if self._stop_observing is None:
            self._stop_observing = observe_calls(self.business.observe_call)

    def render(self, accept: str | None = None) -> tuple[bytes, str]:
        """The exposition (Prometheus text, or OpenMetrics when `accept` asks) and its content type."""
        encode, content_type = choose_encoder(accept or "")
        return encode(self.registry), content_type

    def close(self) -> None:
        if self._stop_observing is not None:
            self._stop_observing()
            self._stop_observing = None
        if self.sdk is not None:
            self.sdk.stop_draining()


_process: ProcessMetrics | None = None
_lock = threading.Lock()


def process_metrics() -> ProcessMetrics:
    """This process's metrics (created on first use)."""
    global _process
    with _lock:
        if _process is None:
            _process = ProcessMetrics()
        return _process


def temporal_runtime(buffer: MetricBuffer) -> Runtime:
    """A Temporal runtime whose SDK metrics go to `buffer` (logging as the SDK's default)."""
    return Runtime(telemetry=TelemetryConfig(logging=LoggingConfig.default, metrics=buffer, attach_service_name=False))


def install_metrics(settings: Settings, service_name: str) -> ProcessMetrics:
    """Set the process up for metrics; call it once, before the first Temporal client connects
    (a client keeps the runtime it was created with): the default Temporal runtime records the
    SDK's metrics in a buffer drained into `process_metrics()`, external calls are counted, and
    with `settings.otlp_endpoint` the registry is pushed to the collector. Calling it again
    returns the same metrics."""
    metrics = process_metrics()
    with _lock:
        if metrics.sdk is not None:
            return metrics
        buffer = MetricBuffer(BUFFER_SIZE, MetricBufferDurationFormat.SECONDS)
        Runtime.set_default(temporal_runtime(buffer), error_if_already_set=False)
        collector = SdkMetricsCollector(buffer)
        metrics.add_sdk_metrics(collector)
        collector.start_draining()
    metrics.observe_adapter_calls()
    if settings.otlp_endpoint:
        from runtime.otlp_metrics import push_metrics

        push_metrics(metrics.registry, settings.otlp_endpoint, service_name)
    return metrics
