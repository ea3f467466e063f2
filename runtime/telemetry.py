"""OpenTelemetry for our processes: traces and (through runtime/metrics.py) metrics.

One trace follows a request from the API through the workflow, its activities and the adapter's
HTTP call to the external system: the FastAPI instrumentation opens the server span
(`instrument_api`), Temporal's `TracingInterceptor` (runtime/temporal_client.py, carried to the
worker in the workflow's headers) adds `StartWorkflow`, `RunWorkflow`, `StartActivity` and
`RunActivity`, and the httpx instrumentation (`instrument_http`) the client span of each call
`SystemClient` makes.

Exporters, from the settings: OTLP/HTTP to `SUPPLYBRIDGE_OTLP_ENDPOINT` (`<endpoint>/v1/traces`;
the metrics go to `<endpoint>/v1/metrics`, runtime/otlp_metrics.py), the console
(`SUPPLYBRIDGE_TELEMETRY=console`), both, or none. With none, no SDK tracer provider is installed
and nothing is instrumented (the Temporal client gets no tracing interceptor): spans stay
OpenTelemetry's no-ops and cost nothing per request.

No tax id, bank number or personal name leaves in a span: every exporter is wrapped in
`ScrubbingSpanExporter`, which rewrites each span's attributes, event attributes and status
by domain/observability.py's rules before export (URLs lose their query strings, where the ERP
supplier search puts `tax_id` and `name`, and any path segment that is not id-shaped; tax ids and
long digit runs are redacted from every other value; header captures are dropped).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SpanExporter,
    SpanExportResult,
)
from opentelemetry.trace import Status

from domain.observability import scrub_attributes, scrub_text
from runtime.settings import Settings

NOT_TRACED = "/health$,/ready$,/metrics$,/docs,/redoc,/openapi.json$"
"""API paths whose requests open no span (probes, scrapes, the docs)."""

_configured = False


class ScrubbingSpanExporter(SpanExporter):
    """Exports through `inner` a scrubbed copy of every span (see the module docstring)."""

    def __init__(self, inner: SpanExporter) -> None:
        self.inner = inner

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self.inner.export([scrubbed(span) for span in spans])

    def shutdown(self) -> None:
        self.inner.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return self.inner.force_flush(timeout_millis)


def scrubbed(span: ReadableSpan) -> ReadableSpan:
    status = span.status
    description = scrub_text(status.description) if status.description else None
    return ReadableSpan(
        name=scrub_text(span.name),
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=scrub_attributes(span.attributes),
        events=[Event(e.name, scrub_attributes(e.attributes), e.timestamp) for e in span.events],
        links=span.links,
        kind=span.kind,
        status=Status(status.status_code, description),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def span_exporters(settings: Settings) -> list[SpanExporter]:
    """The exporters the settings ask for (none: tracing is off)."""
    exporters: list[SpanExporter] = []
    if settings.otlp_endpoint:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporters.append(OTLPSpanExporter(endpoint=f"{settings.otlp_endpoint.rstrip('/')}/v1/traces"))
    if settings.telemetry == "console":
        exporters.append(ConsoleSpanExporter())
    return exporters


def tracer_provider(
    service_name: str,
    exporters: Sequence[SpanExporter],
    *,
    processor: Callable[[SpanExporter], SpanProcessor] = BatchSpanProcessor,
) -> TracerProvider:
    """A provider exporting scrubbed spans to each of `exporters` (in batches, unless a test
    passes `SimpleSpanProcessor`)."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    for exporter in exporters:
        provider.add_span_processor(processor(ScrubbingSpanExporter(exporter)))
    return provider


def instrument_http(provider: trace.TracerProvider | None = None) -> None:
    """Trace every call an httpx client with the default transport makes (every `SystemClient`)."""
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().instrument(tracer_provider=provider)


def uninstrument_http() -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor

    HTTPXClientInstrumentor().uninstrument()


def tracing_enabled() -> bool:
    """Whether this process exports spans (`configure_telemetry` found an exporter)."""
    return isinstance(trace.get_tracer_provider(), TracerProvider)


def instrument_api(app: Any, provider: trace.TracerProvider | None = None) -> None:
    """Open a server span per API request (not for probes, scrapes and docs: `NOT_TRACED`), when
    this process traces (or a `provider` is given); call it on the app before it serves."""
    if provider is None and not tracing_enabled():
        return
    from opentelemetry.instrumentation.fastapi import FastAPIInstrumentor

    FastAPIInstrumentor.instrument_app(
        app, tracer_provider=provider, excluded_urls=NOT_TRACED, exclude_spans=["receive", "send"]
    )


def configure_telemetry(settings: Settings, service_name: str) -> None:
    """Once per process, before the Temporal client connects: metrics (runtime/metrics.py
    `install_metrics`) and, when an exporter is configured, tracing (the global tracer provider,
    httpx instrumented; the API instruments its app with `instrument_api`)."""
    from runtime.metrics import install_metrics  # here: a command that never configures skips its imports

    global _configured
    if _configured:
        return
    install_metrics(settings, service_name)
    exporters = span_exporters(settings)
    if exporters:
        trace.set_tracer_provider(tracer_provider(service_name, exporters))
        instrument_http()
    _configured = True
