"""The Temporal SDK's own metrics (`temporal_workflow_completed`, `temporal_activity_execution_latency`,
`temporal_workflow_task_execution_latency`, `temporal_request`, ...) in our Prometheus registry.

Why a `MetricBuffer` and not the SDK's `PrometheusConfig`: `PrometheusConfig` makes the SDK's Rust
core serve its own `/metrics` on a port of its own. To show its metrics on *our* `/metrics` (one
scrape target per process, one port to open, the API's and the worker's in one place under `up`)
we would have to fetch that page over HTTP on every scrape and splice two expositions together,
with a second port to allocate, secure and keep free. With a buffer the core hands us each update
in process (`retrieve_updates`) and this collector keeps the totals: one registry, one exposition,
one OTLP export (runtime/otlp_metrics.py pushes the same registry), no extra port.

What the buffer gives and how it is kept: counters arrive as deltas (summed here), gauges as
values (the last one is kept), histograms as single observations (bucketed here,
`LATENCY_BUCKETS`; durations in seconds: `MetricBufferDurationFormat.SECONDS`). Names are the
SDK's (its `temporal_` prefix, no unit suffix, as its own Prometheus exporter writes them);
counters are exposed with `_total` as Prometheus wants. Labels are the SDK's attributes
(namespace, task_queue, workflow_type, activity_type, operation, ...): no business data.

The buffer must be drained regularly or the core drops updates: `drain` runs on every scrape and
on a background thread every `DRAIN_SECONDS` (`start_draining`).
"""

from __future__ import annotations

import bisect
import logging
import math
import threading
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from temporalio.runtime import (
    BUFFERED_METRIC_KIND_COUNTER,
    BUFFERED_METRIC_KIND_GAUGE,
    BufferedMetricUpdate,
)

DRAIN_SECONDS = 1.0
BUFFER_SIZE = 100_000
# seconds: from a local activity (milliseconds) to a workflow's end-to-end latency (days)
LATENCY_BUCKETS: tuple[float, ...] = (
    0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 60.0, 300.0, 3600.0, 86400.0, 7 * 86400.0,
)  # fmt: skip

LabelKey = tuple[tuple[str, str], ...]
_log = logging.getLogger(__name__)


class UpdateSource(Protocol):
    """A `temporalio.runtime.MetricBuffer` (or a test's stand-in)."""

    def retrieve_updates(self) -> Sequence[BufferedMetricUpdate]: ...


@dataclass
class _Histogram:
    buckets: list[int] = field(default_factory=lambda: [0] * (len(LATENCY_BUCKETS) + 1))
    count: int = 0
    total: float = 0.0

    def observe(self, value: float) -> None:
        self.buckets[bisect.bisect_left(LATENCY_BUCKETS, value)] += 1
        self.count += 1
        self.total += value


@dataclass
class _Family:
    name: str
    description: str
    kind: int
    values: dict[LabelKey, float] = field(default_factory=dict)
    histograms: dict[LabelKey, _Histogram] = field(default_factory=dict)


def label_key(attributes: Mapping[str, object]) -> LabelKey:
    return tuple(sorted((name, _text(value)) for name, value in attributes.items()))


def _text(value: object) -> str:
    return str(value).lower() if isinstance(value, bool) else str(value)


class SdkMetricsCollector(Collector):
    """A prometheus_client collector over the SDK's metric buffer."""

    def __init__(self, source: UpdateSource) -> None:
        self._source = source
        self._families: dict[str, _Family] = {}
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def drain(self) -> None:
        """Apply every update the buffer holds."""
        with self._lock:
            for update in self._source.retrieve_updates():
                self._apply(update)

    def _apply(self, update: BufferedMetricUpdate) -> None:
        metric = update.metric
        family = self._families.get(metric.name)
        if family is None:
            family = self._families[metric.name] = _Family(metric.name, metric.description or metric.name, metric.kind)
        key = label_key(update.attributes)
        value = float(update.value)
        if not math.isfinite(value):
            return
        if family.kind == BUFFERED_METRIC_KIND_COUNTER:
            family.values[key] = family.values.get(key, 0.0) + value
        elif family.kind == BUFFERED_METRIC_KIND_GAUGE:
            family.values[key] = value
        else:
            family.histograms.setdefault(key, _Histogram()).observe(value)

    def describe(self) -> list[Metric]:
        """Nothing up front: the SDK names its metrics as it records them (and registering must not
        drain a buffer whose runtime may not exist yet)."""
        return []

    def collect(self) -> Iterator[Metric]:
        self.drain()
        with self._lock:
            for family in sorted(self._families.values(), key=lambda f: f.name):
                yield _exposed(family)

    def start_draining(self, every: float = DRAIN_SECONDS) -> None:
        """Drain on a daemon thread every `every` seconds until `stop_draining`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._drain_loop, args=(every,), name="sdk-metrics", daemon=True)
        self._thread.start()

    def stop_draining(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def _drain_loop(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.drain()
            except Exception:  # keep draining: a full buffer drops the SDK's updates
                _log.exception("draining the Temporal SDK's metrics failed")


def _exposed(family: _Family) -> Metric:
    if family.kind == BUFFERED_METRIC_KIND_COUNTER:
        metric = Metric(family.name, family.description, "counter")
        for key, value in family.values.items():
            metric.add_sample(f"{family.name}_total", dict(key), value)
    elif family.kind == BUFFERED_METRIC_KIND_GAUGE:
        metric = Metric(family.name, family.description, "gauge")
        for key, value in family.values.items():
            metric.add_sample(family.name, dict(key), value)
    else:
        metric = Metric(family.name, family.description, "histogram")
        for key, histogram in family.histograms.items():
            labels = dict(key)
            cumulative = 0
            for bound, count in zip((*LATENCY_BUCKETS, math.inf), histogram.buckets, strict=True):
                cumulative += count
                metric.add_sample(f"{family.name}_bucket", {**labels, "le": _bound(bound)}, cumulative)
            metric.add_sample(f"{family.name}_count", labels, histogram.count)
            metric.add_sample(f"{family.name}_sum", labels, histogram.total)
    return metric


def _bound(bound: float) -> str:
    return "+Inf" if math.isinf(bound) else repr(float(bound))
