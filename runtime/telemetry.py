"""OpenTelemetry: one TracerProvider per process; spans come from Temporal's TracingInterceptor.
An OTLP exporter can be added by installing opentelemetry-exporter-otlp and the standard OTEL_*
environment variables; `SUPPLYBRIDGE_TELEMETRY=console` prints spans for local debugging."""

from __future__ import annotations

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, ConsoleSpanExporter

from runtime.settings import Settings

_configured = False


def configure_telemetry(settings: Settings, service_name: str) -> None:
    global _configured
    if _configured:
        return
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    if settings.telemetry == "console":
        provider.add_span_processor(BatchSpanProcessor(ConsoleSpanExporter()))
    trace.set_tracer_provider(provider)
    _configured = True
