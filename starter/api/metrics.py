"""`GET /metrics`: the API process's metrics for Prometheus (runtime/metrics.py), with the
deployment-wide gauges refreshed first (decisions waiting by team from Temporal visibility, dead
letters open from the store; at most every 15 s: runtime/fleet_metrics.py). Under
`supplybridge up` the same registry holds the worker's metrics, so this one page has them all.

No scope, like `/health`: Prometheus scrapes without tokens, and what it shows is operational
(counts by workflow type, outcome, team, system and result; latencies; the process). No label
carries a supplier, a document number, a tax id or a name (domain/observability.py
`label_value`). It answers on the API's address like every route; a deployment that exposes
the API beyond its network blocks `/metrics` at the ingress, as it would any scrape endpoint.
Prometheus text format, or OpenMetrics when the scraper's `Accept` asks for it.
"""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Request, Response

from runtime.fleet_metrics import FleetGauges, StoreDeadLetters
from runtime.metrics import process_metrics

router = APIRouter(tags=["operations"])

TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8"


def fleet_gauges(request: Request) -> FleetGauges:
    """The app's gauges refresher, made on first use over its Temporal client and store."""
    state = request.app.state
    gauges: FleetGauges | None = getattr(state, "fleet_gauges", None)
    if gauges is None:
        store = getattr(state, "store", None)
        gauges = state.fleet_gauges = FleetGauges(
            process_metrics().business,
            visibility=getattr(state, "temporal", None),
            dead_letters=StoreDeadLetters(store) if store is not None else None,
        )
    return gauges


@router.get(
    "/metrics",
    response_class=Response,
    summary="Metrics for Prometheus",
    responses={200: {"content": {TEXT_FORMAT: {"schema": {"type": "string"}}}, "description": "the exposition"}},
)
async def metrics(request: Request) -> Response:
    await fleet_gauges(request).refresh()
    body, content_type = await asyncio.to_thread(process_metrics().render, request.headers.get("accept"))
    return Response(body, media_type=content_type)
