"""`/metrics` of `supplybridge worker`, on `settings.host:settings.worker_metrics_port` (9464, the
port OpenTelemetry's Prometheus exporters use; `SUPPLYBRIDGE_WORKER_METRICS_PORT=0` turns it off).

The worker's registry (runtime/metrics.py): the Temporal SDK's metrics, runs started and ended,
SLA breaches, adapter calls, the process. The deployment-wide gauges (decisions waiting, dead
letters open) are the API's to serve (runtime/fleet_metrics.py). Unauthenticated, as Prometheus
scrapes, and bound like the API (`SUPPLYBRIDGE_HOST`): the labels carry no business data.
`/health` answers 200 while the process and its event loop are alive.

It is a small ASGI app served on the worker's own event loop (runtime/http_server.py), like the
API and the sandbox under `up`, and stopped with the worker. `supplybridge up` does not start it:
the API of that one process already shows the worker's metrics. When the port is taken (a second
worker on the same machine) the worker runs without /metrics and says so in its log, rather than
not starting: metrics are never a reason for a worker to be down.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import AsyncIterator

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from runtime.http_server import embedded_server, wait_until_healthy
from runtime.metrics import ProcessMetrics, process_metrics
from runtime.settings import Settings

logger = logging.getLogger(__name__)


def metrics_app(metrics: ProcessMetrics) -> Starlette:
    async def exposition(request: Request) -> Response:
        body, content_type = await asyncio.to_thread(metrics.render, request.headers.get("accept"))
        return Response(body, media_type=content_type)

    async def health(request: Request) -> JSONResponse:
        return JSONResponse({"status": "ok"})

    return Starlette(routes=[Route("/metrics", exposition), Route("/health", health)])


@contextlib.asynccontextmanager
async def serving_metrics(
    settings: Settings, metrics: ProcessMetrics | None = None, *, port: int | None = None
) -> AsyncIterator[str | None]:
    """Serve `/metrics` while the block runs; yields its URL, or None when the port setting is off
    (unset or 0)."""
    port = settings.worker_metrics_port if port is None else port
    if not port:
        yield None
        return
    taken = _taken(settings.host, port)
    if taken is not None:  # a second worker on this machine: it works all the same, without /metrics
        advice = "set SUPPLYBRIDGE_WORKER_METRICS_PORT to a free port for it"
        logger.warning("the metrics port %s:%d is taken (%s): this worker serves no /metrics; %s",
                       settings.host, port, taken, advice)  # fmt: skip
        yield None
        return
    server = embedded_server(metrics_app(metrics or process_metrics()), settings.host, port)
    task = asyncio.create_task(server.serve())
    try:
        await wait_until_healthy(f"http://127.0.0.1:{port}/health", server_task=task)
        yield f"http://{settings.host}:{port}/metrics"
    finally:
        server.should_exit = True
        with contextlib.suppress(Exception):
            await asyncio.wait_for(task, timeout=10)


def _taken(host: str, port: int) -> str | None:
    """Why `host:port` cannot be bound now (another process listens there), or None."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            return error.strerror or str(error)
    return None
