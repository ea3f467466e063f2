"""The process's Prometheus registry pushed to an OpenTelemetry collector over OTLP/HTTP, when
`SUPPLYBRIDGE_OTLP_ENDPOINT` is set (`<endpoint>/v1/metrics`, every `EXPORT_SECONDS`).

One source of truth: the registry `/metrics` shows (ours and the Temporal SDK's) is what is sent,
converted family by family (`metrics_data`): counters as cumulative monotonic sums (named without
`_total`, as OpenTelemetry names them), gauges as gauges, histograms as cumulative explicit-bucket
histograms (their min and max are unknown to Prometheus and left out). Other families (info,
summaries) are not sent. Pushing runs on a daemon thread; a failed push is logged by the
exporter and tried again at the next interval.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import defaultdict
from collections.abc import Iterable

from opentelemetry.sdk.metrics.export import (
    AggregationTemporality,
    Gauge,
    Histogram,
    HistogramDataPoint,
    Metric,
    MetricExporter,
    MetricsData,
    NumberDataPoint,
    ResourceMetrics,
    ScopeMetrics,
    Sum,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from prometheus_client.metrics_core import Metric as Family
from prometheus_client.registry import CollectorRegistry

EXPORT_SECONDS = 30.0
SCOPE = InstrumentationScope("supplybridge")
_log = logging.getLogger(__name__)


def metrics_data(families: Iterable[Family], resource: Resource, start_ns: int, now_ns: int) -> MetricsData:
    """OpenTelemetry's view of a registry's `collect()`."""
    metrics = [metric for family in families if (metric := _metric(family, start_ns, now_ns)) is not None]
    scope = ScopeMetrics(scope=SCOPE, metrics=metrics, schema_url="")
    return MetricsData(resource_metrics=[ResourceMetrics(resource=resource, scope_metrics=[scope], schema_url="")])


def _metric(family: Family, start_ns: int, now_ns: int) -> Metric | None:
    def point(labels: dict[str, str], value: float) -> NumberDataPoint:
        return NumberDataPoint(attributes=labels, start_time_unix_nano=start_ns, time_unix_nano=now_ns, value=value)

    if family.type == "counter":
        points = [point(s.labels, s.value) for s in family.samples if s.name.endswith("_total")]
        data: Sum | Gauge | Histogram = Sum(points, AggregationTemporality.CUMULATIVE, is_monotonic=True)
    elif family.type == "gauge":
        data = Gauge([point(s.labels, s.value) for s in family.samples])
    elif family.type == "histogram":
        data = Histogram(_histogram_points(family, start_ns, now_ns), AggregationTemporality.CUMULATIVE)
    else:
        return None
    return Metric(name=family.name, description=family.documentation, unit=family.unit or None, data=data)


def _histogram_points(family: Family, start_ns: int, now_ns: int) -> list[HistogramDataPoint]:
    buckets: dict[tuple[tuple[str, str], ...], list[tuple[float, float]]] = defaultdict(list)
    counts: dict[tuple[tuple[str, str], ...], float] = {}
    sums: dict[tuple[tuple[str, str], ...], float] = {}
    for sample in family.samples:
        labels = {k: v for k, v in sample.labels.items() if k != "le"}
        key = tuple(sorted(labels.items()))
        if sample.name.endswith("_bucket"):
            buckets[key].append((float(sample.labels["le"]), sample.value))
        elif sample.name.endswith("_count"):
            counts[key] = sample.value
        elif sample.name.endswith("_sum"):
            sums[key] = sample.value
    points = []
    for key, cumulative in buckets.items():
        cumulative.sort()
        bounds = [bound for bound, _ in cumulative[:-1]]  # the last is +Inf
        per_bucket, previous = [], 0.0
        for _, total in cumulative:
            per_bucket.append(int(total - previous))
            previous = total
        points.append(
            HistogramDataPoint(
                attributes=dict(key),
                start_time_unix_nano=start_ns,
                time_unix_nano=now_ns,
                count=int(counts.get(key, previous)),
                sum=sums.get(key, 0.0),
                bucket_counts=per_bucket,
                explicit_bounds=bounds,
                min=None,  # type: ignore[arg-type]  # unknown: left out of the OTLP message
                max=None,  # type: ignore[arg-type]
            )
        )
    return points


class RegistryPusher:
    """Exports `registry` with `exporter` every `every` seconds on a daemon thread."""

    def __init__(self, registry: CollectorRegistry, exporter: MetricExporter, resource: Resource) -> None:
        self._registry = registry
        self._exporter = exporter
        self._resource = resource
        self._started_ns = time.time_ns()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def push(self) -> None:
        data = metrics_data(self._registry.collect(), self._resource, self._started_ns, time.time_ns())
        self._exporter.export(data)

    def start(self, every: float = EXPORT_SECONDS) -> None:
        self._thread = threading.Thread(target=self._loop, args=(every,), name="otlp-metrics", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self.push()
        self._exporter.shutdown()

    def _loop(self, every: float) -> None:
        while not self._stop.wait(every):
            try:
                self.push()
            except Exception:
                _log.exception("pushing metrics by OTLP failed")


def push_metrics(registry: CollectorRegistry, endpoint: str, service_name: str) -> RegistryPusher:
    """Start pushing `registry` to the collector at `endpoint` (e.g. http://otel:4318)."""
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import OTLPMetricExporter

    exporter = OTLPMetricExporter(endpoint=f"{endpoint.rstrip('/')}/v1/metrics")
    pusher = RegistryPusher(registry, exporter, Resource.create({"service.name": service_name}))
    pusher.start()
    return pusher
