"""The platform API: the governed /v1 process API (starter/api/v1.py, replenishments in
starter/api/replenishments.py, file intake, trading partners and dead letters in
starter/api/intake.py), the external systems' signed webhooks (starter/api/webhooks.py,
the inventory's in starter/api/inventory_events.py), health and readiness, and the remote
payload codec the Temporal UI and CLI use to show encrypted payloads (starter/api/codec_routes.py:
behind a login outside development).

Every 4xx/5xx is a problem-details body (starter/api/problems.py). Interactive docs at /docs and
/redoc, the OpenAPI document at /openapi.json. The docs' Swagger UI and ReDoc scripts are served
from the `fastapi-offline` package under /docs-assets, never from a CDN: hospital networks are
often closed, and a CDN script would also see who reads the docs.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from fastapi_offline import FastAPIOffline
from temporalio.client import Client

from runtime.codec import codec_from_settings
from runtime.settings import Settings
from runtime.telemetry import instrument_api
from runtime.temporal_client import connect
from starter.api import (
    alerts,
    codec_routes,
    event_schemas,
    intake,
    inventory_events,
    metrics,
    oauth,
    problems,
    replenishments,
    reports,
    runs,
    subscriptions,
    v1,
    webhooks,
)
from starter.api.deps import TemporalClient
from starter.api.guards import AddressRateLimit, BodyLimits, RateLimiter
from starter.api.problems import problem
from starter.api.security import SCOPES
from store import Store

DOCS_ASSETS = "/docs-assets"
DESCRIPTION = """Healthcare procure-to-pay processes as durable workflows.

Authenticate with an OAuth2 client-credentials bearer token (`POST /v1/oauth/token`, or
`supplybridge token issue` for local use) or an `X-API-Key`. Scopes: {scopes}.

Every POST that starts or changes something takes an `Idempotency-Key` header: the same key and
body replay the first response, another body with the key is 422, a request still running is
409. Keys are kept per principal for 24 hours (`SUPPLYBRIDGE_IDEMPOTENCY_RETENTION_HOURS`).
Requests are rate-limited per principal (429 with `Retry-After`) and limited in size (413).
""".format(scopes=", ".join(f"`{name}` ({what})" for name, what in SCOPES.items()))


def create_app(settings: Settings, *, client: Client | None = None, store: Store | None = None) -> FastAPI:
    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        app.state.temporal = client or await connect(settings)
        own_store = store is None
        app.state.store = store or Store(settings.resolved_store_url)
        try:
            yield
        finally:
            if own_store:
                app.state.store.close()

    app = FastAPIOffline(
        title="SupplyBridge API",
        version="1.0.0",
        description=DESCRIPTION,
        lifespan=lifespan,
        static_url=DOCS_ASSETS,
        swagger_ui_parameters={"validatorUrl": None},  # the online validator badge is a third-party call
    )
    app.state.settings = settings
    default_openapi = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = webhooks.document_event_bodies(default_openapi())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
    app.state.rate_limiter = RateLimiter(settings.rate_limit_per_minute)
    problems.install(app)
    app.state.codec = codec_from_settings(settings)
    ui_origins = {settings.resolved_ui_url, f"http://localhost:{settings.temporal_ui_port}"}
    app.add_middleware(BodyLimits, max_bytes=settings.max_request_bytes, max_file_bytes=settings.intake_max_file_bytes)
    app.add_middleware(AddressRateLimit, per_minute=settings.address_rate_limit_per_minute)  # before auth
    app.add_middleware(
        CORSMiddleware,
        allow_origins=sorted(ui_origins),
        allow_methods=["POST", "OPTIONS"],
        allow_headers=["Content-Type", "X-Namespace", "Authorization", "Authorization-Extras", "X-API-Key"],
        allow_credentials=True,  # the UI's codec calls carry the operator's session cookie
    )

    @app.get("/health", tags=["operations"])
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    @app.get(
        "/ready", tags=["operations"], responses={503: problems.PROBLEM_RESPONSES[500] | {"description": "not ready"}}
    )
    async def ready(temporal: TemporalClient) -> JSONResponse:
        try:
            await temporal.service_client.check_health()
        except Exception as error:
            return problem(503, "Not ready", f"Temporal is not reachable: {type(error).__name__}")
        return JSONResponse({"status": "ready"})

    app.include_router(runs.router)  # before v1's GET /v1/runs/{workflow_id}: see starter/api/runs.py
    app.include_router(v1.router)
    app.include_router(event_schemas.router)  # before any future GET /v1/events/{id}
    app.include_router(replenishments.router)
    app.include_router(reports.router)
    app.include_router(intake.router)
    app.include_router(subscriptions.router)
    app.include_router(alerts.router)
    app.include_router(oauth.router)
    app.include_router(webhooks.router)
    app.include_router(inventory_events.router)
    app.include_router(codec_routes.router)
    app.include_router(metrics.router)
    instrument_api(app)  # traced when this process traces (runtime/telemetry.py)
    return app
