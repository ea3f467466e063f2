"""The one way our processes connect to Temporal: pydantic data converter + encryption codec,
OpenTelemetry tracing, TLS or an API key for a remote cluster.

Temporal's `TracingInterceptor` is installed only when the process traces (runtime/telemetry.py's
`configure_telemetry` ran first and found an exporter): without one its spans are no-ops that
carry nothing, yet it cost about 2.5% of the API's CPU per request (bench/api.py)."""

from __future__ import annotations

import asyncio
import dataclasses

from temporalio.client import Client, Interceptor
from temporalio.contrib.pydantic import pydantic_data_converter
from temporalio.converter import DataConverter
from temporalio.service import TLSConfig

from runtime.codec import codec_from_settings
from runtime.settings import Settings
from runtime.telemetry import tracing_enabled

CONNECT_TIMEOUT_SECONDS = 10


class TemporalUnavailable(ConnectionError):
    pass


def data_converter(settings: Settings) -> DataConverter:
    return dataclasses.replace(pydantic_data_converter, payload_codec=codec_from_settings(settings))


def _tls(settings: Settings) -> TLSConfig | bool:
    if not (settings.temporal_tls or settings.temporal_api_key):
        return False
    read = lambda path: path.read_bytes() if path else None  # noqa: E731
    if settings.temporal_tls_cert or settings.temporal_tls_ca:
        return TLSConfig(
            client_cert=read(settings.temporal_tls_cert),
            client_private_key=read(settings.temporal_tls_key),
            server_root_ca_cert=read(settings.temporal_tls_ca),
        )
    return True


def _interceptors() -> list[Interceptor]:
    if not tracing_enabled():
        return []
    from temporalio.contrib.opentelemetry import TracingInterceptor  # imported only by a process that traces

    return [TracingInterceptor()]


async def connect(settings: Settings, *, target: str | None = None) -> Client:
    address = target or settings.temporal_address
    try:
        return await asyncio.wait_for(
            Client.connect(
                address,
                namespace=settings.temporal_namespace,
                data_converter=data_converter(settings),
                interceptors=_interceptors(),
                tls=_tls(settings),
                api_key=settings.temporal_api_key.get_secret_value() if settings.temporal_api_key else None,
            ),
            timeout=CONNECT_TIMEOUT_SECONDS,
        )
    except (RuntimeError, TimeoutError, OSError) as error:
        raise TemporalUnavailable(
            f"cannot reach Temporal at {address} (namespace {settings.temporal_namespace}): start it with "
            "`supplybridge up`, or set SUPPLYBRIDGE_TEMPORAL_ADDRESS / --address"
        ) from error
